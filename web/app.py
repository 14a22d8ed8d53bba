"""The workspace application: security headers, login, the pages, and how errors reach a person."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.db import session_scope
from web import sessions
from web.deps import CsrfRefused, Forbidden, LoginRequired, audit
from web.routes import (
    admin,
    alerts,
    appeal_decisions,
    appeals,
    auth_requests,
    claims,
    evidence,
    links,
    login,
    reports,
    search,
    today,
    worklist,
)
from web.routes.appeal_packets import router as appeal_packets_router
from web.templating import make_templates, render
from web.timing import ServerTiming
from worker.clock import utcnow
from worker.settings import Settings

STATIC = Path(__file__).parent / "static"
# No inline script or style anywhere: htmx is a vendored file and its own inline styles are turned off.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


class SecurityHeaders:
    """Adds the headers every response carries: CSP, no sniffing, no referrer, and no caching of PHI."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                if self.https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings,
    engine: Engine,
    *,
    https: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The workspace over `engine`; `https` marks cookies Secure; `clock` is the wall clock (tests move it)."""
    app = FastAPI(title="portal-worker", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.https = https
    app.state.clock = clock
    app.state.tz = settings.worker.tzinfo
    app.state.templates = make_templates(settings.worker.tzinfo)
    app.state.signing_key = sessions.signing_key(settings.worker.data_dir)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(login.router)
    app.include_router(admin.router)
    app.include_router(search.router)
    app.include_router(claims.router)
    app.include_router(evidence.router)
    app.include_router(today.router)
    app.include_router(worklist.router)
    app.include_router(alerts.router)
    app.include_router(auth_requests.router)
    app.include_router(appeals.router)
    app.state.templates.env.globals["claim_appeals"] = appeals.claim_appeals  # the claim page's appeals section
    app.include_router(appeal_packets_router)
    app.include_router(reports.router)
    app.include_router(links.router)
    app.include_router(appeal_decisions.router)

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, _exc: LoginRequired) -> Response:
        target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> Response:
        # The request's own unit of work was rolled back: the refusal is recorded in one of its own.
        staff = getattr(request.state, "staff", None)
        with session_scope(engine) as db:
            audit(request, db, staff, "forbidden", f"{request.method} {request.url.path}"[:200])
        return render(request, "error.html", status_code=403, title="Not allowed", message=exc.why)

    @app.exception_handler(CsrfRefused)
    def _csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
        return render(
            request,
            "error.html",
            status_code=403,
            title="Request refused",
            message="This form had no valid security token (it may be from an old tab): reload the page and try again.",
        )

    app.add_middleware(SecurityHeaders, https=https)
    app.add_middleware(ServerTiming)  # outermost: its figure includes every other middleware
    return app


def settle_heap() -> None:
    """Once the application is built, before it serves: what start-up loaded (routes, templates, SQLAlchemy's
    metadata, the rule tables; about 140,000 objects) lives as long as the process. Frozen out of the
    collector's view, a full garbage collection takes about 10 ms instead of 90, and one landing inside a
    request was the worklist's p95 on 5,000 denials (bench/web.py)."""
    gc.collect()
    gc.freeze()
