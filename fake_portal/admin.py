"""Admin endpoints for tests and the demo: clock, faults, accounts, sessions, appointment scenarios, PM exports."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fake_portal.appointments import appointment_scenarios, pms_appointment_rows
from fake_portal.data import PAYERS, pms_export_rows
from fake_portal.programs import pms_auth_rows, pms_provider_rows
from fake_portal.web import world
from fake_portal.world import DEFAULT_ACCOUNTS, PORTALS, Account


def state(request: Request) -> Response:
    w = world(request)
    return JSONResponse(
        {
            "now": w.now().isoformat(),
            "today": w.today().isoformat(),
            "faults": {p: asdict(f) for p, f in w.faults.items()},
            "requests": w.requests,
            "requests_by_path": w.requests_by_path,
            "in_flight": w.in_flight,
            "accounts": [
                {
                    "portal": a.portal,
                    "username": a.username,
                    "locked": a.locked,
                    "failed_logins": a.failed_logins,
                    "password_expired": a.password_expired,
                }
                for a in w.accounts.values()
            ],
            "sessions": len(w.sessions),
            "sign_in_attempts": w.sign_in_attempts,
            "password_change_attempts": w.password_change_attempts,
            "logins": w.logins,
            "stale_session_requests": w.stale_session_requests,
            "payers": [asdict(p) for p in PAYERS],
        }
    )


def sessions(request: Request) -> Response:
    """Requests by session (each sign-in) and by account, stale ones included."""
    return JSONResponse(world(request).session_report())


def reset(request: Request) -> Response:
    world(request).reset()
    return JSONResponse({"ok": True})


async def set_faults(request: Request) -> Response:
    portal = request.path_params["portal"]
    if portal not in PORTALS:
        return JSONResponse({"error": f"unknown portal {portal!r}"}, status_code=404)
    w = world(request)
    try:
        with w.lock:
            w.faults[portal].update(await request.json())
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(asdict(w.faults[portal]))


async def advance_clock(request: Request) -> Response:
    body = await request.json()
    w = world(request)
    w.advance(days=float(body.get("days", 0)), hours=float(body.get("hours", 0)))
    return JSONResponse({"now": w.now().isoformat()})


async def expire_sessions(request: Request) -> Response:
    body = await request.json() if await request.body() else {}
    world(request).expire_sessions(body.get("portal"))
    return JSONResponse({"ok": True})


async def add_account(request: Request) -> Response:
    body = await request.json()
    try:
        account = Account(**body)
    except TypeError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if account.portal not in PORTALS:
        return JSONResponse({"error": f"unknown portal {account.portal!r}"}, status_code=400)
    world(request).add_account(account)
    return JSONResponse({"ok": True})


def demo_accounts(request: Request) -> Response:
    """The synthetic accounts that exist from the start (for `portal-worker demo`)."""
    return JSONResponse([asdict(a) for a in DEFAULT_ACCOUNTS])


def _csv_response(rows: list[dict[str, str]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return PlainTextResponse(
        out.getvalue(), media_type="text/csv", headers={"content-disposition": f"attachment; filename={filename}"}
    )


def pms_claims_csv(request: Request) -> Response:
    w = world(request)
    return _csv_response(pms_export_rows(w.dataset, w.programs.claim_auths), "claims.csv")


def pms_auths_csv(request: Request) -> Response:
    return _csv_response(pms_auth_rows(world(request).programs), "auths.csv")


def pms_providers_csv(request: Request) -> Response:
    w = world(request)
    return _csv_response(pms_provider_rows(w.dataset, w.programs), "providers.csv")


def pms_appointments_csv(request: Request) -> Response:
    return _csv_response(pms_appointment_rows(world(request).schedule), "appointments.csv")


def appointments(request: Request) -> Response:
    """Which appointment shows which eligibility scenario on which portal (ids only: no PHI)."""
    return JSONResponse({"appointments": appointment_scenarios(world(request).schedule)})


routes = [
    Route("/admin/state", state),
    Route("/admin/reset", reset, methods=["POST"]),
    Route("/admin/faults/{portal}", set_faults, methods=["POST"]),
    Route("/admin/clock", advance_clock, methods=["POST"]),
    Route("/admin/sessions", sessions),
    Route("/admin/sessions/expire", expire_sessions, methods=["POST"]),
    Route("/admin/accounts", add_account, methods=["POST"]),
    Route("/admin/demo-accounts", demo_accounts),
    Route("/admin/appointments", appointments),
    Route("/pms/claims.csv", pms_claims_csv),
    Route("/pms/auths.csv", pms_auths_csv),
    Route("/pms/providers.csv", pms_providers_csv),
    Route("/pms/appointments.csv", pms_appointments_csv),
]
