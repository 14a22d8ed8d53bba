"""Shared web plumbing for the fake portals: templates, the world, fault injection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from fake_portal.world import Faults, World

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def world(request: Request) -> World:
    return cast(World, request.app.state.world)


class FaultPageRenderer(Protocol):
    def __call__(self, request: Request, kind: str) -> Response:
        """kind: 'maintenance', 'rate_limited' or 'error'; the portal picks its own look and status."""


class SessionRequests(BaseHTTPMiddleware):
    """Counts every request that carries a portal's session cookie, as it arrives (before any fault or
    delay), whichever session it names: live, ended or displaced. Tests read the counts at /admin/sessions."""

    def __init__(self, app, cookies: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.cookies = cookies  # portal -> its session cookie's name

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        cookie = self.cookies.get(request.url.path.strip("/").split("/")[0])
        sid = request.cookies.get(cookie) if cookie else None
        if sid:
            world(request).count_session_request(sid)
        return await call_next(request)


class FaultInjection(BaseHTTPMiddleware):
    """Latency, maintenance, 429, 500 and a foreign sign-in page per portal, decided before the portal sees
    the request."""

    def __init__(self, app, fault_pages: dict[str, FaultPageRenderer]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.fault_pages = fault_pages

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        parts = request.url.path.strip("/").split("/")
        portal = parts[0]
        if portal not in self.fault_pages or (len(parts) > 1 and parts[1] == "static"):
            return await call_next(request)
        w = world(request)
        arrived_under = w.begin_request(portal)
        try:
            return await self._answer(request, call_next, w, portal, parts, arrived_under)
        finally:
            w.end_request(portal, arrived_under)

    async def _answer(
        self,
        request: Request,
        call_next: RequestResponseEndpoint,
        w: World,
        portal: str,
        parts: list[str],
        arrived_under: int,
    ) -> Response:
        delay_ms = w.base_latency_ms.get(portal, 0) + w.faults[portal].latency_ms
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)  # the fake portal is slow on purpose
        render = self.fault_pages[portal]
        faults = w.faults[portal]
        if (
            faults.login_redirect
            and parts[1:] == ["login"]
            and request.method == "GET"
            and urlsplit(faults.login_redirect).netloc != request.url.netloc
        ):
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"{faults.login_redirect.rstrip('/')}{request.url.path}{query}", status_code=302)
        if faults.maintenance or w.in_nightly_maintenance(portal):
            return with_retry_after(render(request, "maintenance"), faults)
        if faults.rate_limited:
            return with_retry_after(render(request, "rate_limited"), faults)
        if w.roll_error(portal, "/".join(parts[1:]), arrived_under):
            return render(request, "error")
        return await call_next(request)


def with_retry_after(response: Response, faults: Faults) -> Response:
    """The portal's Retry-After, or the one the test asked for."""
    if faults.retry_after_s and "retry-after" in response.headers:
        response.headers["Retry-After"] = str(faults.retry_after_s)
    return response


def layout(request: Request, portal: str) -> int:
    return world(request).faults[portal].layout


def money(value: object) -> str:
    return "" if value is None else f"${value:,.2f}"


def us_date(value: object) -> str:
    return "" if value is None else value.strftime("%m/%d/%Y")  # type: ignore[attr-defined]


templates.env.filters["money"] = money
templates.env.filters["us_date"] = us_date

Renderer = Callable[[Request, str], Response]
