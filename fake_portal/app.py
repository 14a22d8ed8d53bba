"""The fake portal web app: three payer portals under their own path prefixes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fake_portal import (
    admin,
    appeals,
    auth_requests,
    clearinghouse,
    clearinghouse_appeals,
    commercial,
    commercial_appeals,
    commercial_auth_requests,
    eligibility_clearinghouse,
    eligibility_commercial,
    eligibility_medicaid,
    medicaid,
    medicaid_auth_requests,
)
from fake_portal.web import HERE, FaultInjection, SessionRequests
from fake_portal.world import World

PORTAL_MODULES = {"clearinghouse": clearinghouse, "commercial": commercial, "medicaid": medicaid}
# Pages added later, in modules of their own, matched before the portal's own routes (which have catch-alls).
EXTRA_ROUTES: dict[str, list[BaseRoute]] = {
    "clearinghouse": [*eligibility_clearinghouse.routes, *clearinghouse_appeals.routes],
    "commercial": [*eligibility_commercial.routes, *commercial_auth_requests.routes, *commercial_appeals.routes],
    "medicaid": [*eligibility_medicaid.routes, *medicaid_auth_requests.routes],
}


def index(request: Request) -> HTMLResponse:
    links = "".join(f'<li><a href="/{name}/">{name}</a></li>' for name in PORTAL_MODULES)
    return HTMLResponse(f"<h1>Fake payer portals</h1><ul>{links}</ul><p><a href='/pms/claims.csv'>PMS export</a></p>")


def create_app(world: World) -> Starlette:
    routes: list[BaseRoute] = [Route("/", index), *admin.routes, *auth_requests.admin_routes, *appeals.admin_routes]
    for name, module in PORTAL_MODULES.items():
        routes.append(
            Mount(f"/{name}/static", StaticFiles(directory=str(HERE / "static" / name)), name=f"{name}-static")
        )
        routes.append(Mount(f"/{name}", routes=[*EXTRA_ROUTES.get(name, []), *module.routes]))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SessionRequests, cookies={n: m.COOKIE for n, m in PORTAL_MODULES.items()}),
            Middleware(FaultInjection, fault_pages={n: m.fault_page for n, m in PORTAL_MODULES.items()}),
        ],
    )
    app.state.world = world
    return app
