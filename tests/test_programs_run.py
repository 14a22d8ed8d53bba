"""Authorizations and enrollments end to end: real Chromium, the fake portals, the engine `check` uses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import httpx
import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, select

from fake_portal.programs import generate_programs
from flows.auth_import import import_auths_file
from flows.claim_import import import_claims_file
from flows.provider_import import import_providers_file
from store.db import create_schema
from store.models import Authorization, AuthorizationObservation, Enrollment, Finding
from tests.conftest import Workspace
from tests.run_support import PortalClock
from worker.clock import utcnow
from worker.runtime.check import Check, RunReport

pytestmark = pytest.mark.browser


def import_everything(ws: Workspace) -> None:
    engine = ws.engine
    create_schema(engine)
    for name, importer in (
        ("claims", import_claims_file),
        ("auths", import_auths_file),
        ("providers", import_providers_file),
    ):
        path = ws.root / f"{name}.csv"
        path.write_bytes(httpx.get(f"{ws.portal.url}/pms/{name}.csv", timeout=10).content)
        importer(engine, path, utcnow())


def run(ws: Workspace, browser: Browser, today: date, **kwargs: object) -> RunReport:
    """`portal-worker check` on the practice's `today` (the fake portal's clock, moved with it)."""
    clock = PortalClock(ws.portal, datetime.combine(today, time(12, 0)), ws.settings.worker.tzinfo)
    check = Check(ws.settings, credentials=ws.credentials, clock=clock, browser=browser)
    return check.run(**kwargs)  # type: ignore[arg-type]


def open_findings(ws: Workspace) -> set[tuple[str, str]]:
    with Session(ws.engine) as session:
        return {(f.kind, f.subject) for f in session.exec(select(Finding).where(Finding.status == "open"))}


def expected_findings(ws: Workspace, today: date) -> set[tuple[str, str]]:
    """What the fake practice's scenarios should raise on `today` (see fake_portal/programs.py)."""
    programs = generate_programs(ws.truth, 7)
    by_scenario = {(a.payer_id, a.scenario): a for a in programs.authorizations.values()}
    found: set[tuple[str, str]] = set()
    for payer in ("UHP", "LSM"):
        for scenario, kind in (
            ("expiring", "auth_expiring"),
            ("nearly_used", "auth_units_high"),
            ("pending_overdue", "auth_pending_overdue"),
            ("denied", "auth_denied"),
        ):
            found.add((kind, by_scenario[(payer, scenario)].auth_number))
        soon = by_scenario[(payer, "expires_soon")]
        if soon.end >= today:
            found.add(("auth_expiring", soon.auth_number))
        outside = by_scenario[(payer, "claim_outside")]
        if outside.status_on(today) == "approved" and (outside.end - today).days <= 14:
            found.add(("auth_expiring", outside.auth_number))
    found |= {("claim_outside_auth", claim_id) for claim_id in programs.claim_auths}
    providers = ws.truth.providers
    found |= {
        ("enrollment_inactive", f"{providers[0].npi}/BBH"),
        ("enrollment_inactive", f"{providers[2].npi}/LSM"),
        ("revalidation_due", f"{providers[3].npi}/NWM"),
        ("caqh_due", providers[-1].npi),
    }
    if today < ws.truth.start + timedelta(days=5):
        found.add(("enrollment_inactive", f"{providers[1].npi}/UHP"))  # in process until start+5
    return found


def test_auths_and_enrollments_are_read_from_every_portal_and_raise_the_findings(
    workspace: Workspace, browser: Browser
) -> None:
    import_everything(workspace)
    start = workspace.truth.start

    report = run(workspace, browser, start)

    assert all(r.problem is None for r in report.portals), [r.problem for r in report.portals]
    by_portal = {r.portal: r for r in report.portals}
    assert by_portal["unity"].auths_checked == 9 and by_portal["lakeshore"].auths_checked == 9
    providers = len(workspace.truth.providers)
    assert by_portal["summit"].enrollments_checked == 2 * providers  # NWM and BBH behind the clearinghouse
    assert by_portal["unity"].enrollments_checked == providers
    assert by_portal["lakeshore"].enrollments_checked == providers
    truth = generate_programs(workspace.truth, 7)
    with Session(workspace.engine) as session:
        for auth in session.exec(select(Authorization)):
            expected = truth.authorizations[auth.auth_number]
            assert auth.status == expected.status_on(start), auth.auth_number
            assert auth.units_used == expected.units_used_on(start), auth.auth_number
        for enrollment in session.exec(select(Enrollment)):
            assert enrollment.status == truth.enrollments[(enrollment.npi, enrollment.payer_id)].status_on(start)
    assert open_findings(workspace) == expected_findings(workspace, start)
    with Session(workspace.engine) as session:
        inactive = session.exec(select(Finding).where(Finding.kind == "enrollment_inactive")).all()
    assert all(f.claims_at_risk and f.amount_at_risk for f in inactive)


def test_the_clock_moves_auths_and_enrollments_and_findings_follow(workspace: Workspace, browser: Browser) -> None:
    import_everything(workspace)
    start = workspace.truth.start
    run(workspace, browser, start, what=("auths", "providers"))
    workspace.portal.admin("clock", {"days": 6})
    later = start + timedelta(days=6)

    report = run(workspace, browser, later, what=("auths", "providers"))

    truth = generate_programs(workspace.truth, 7)
    changed = {r.portal: (r.auths_changed, r.enrollments_changed) for r in report.portals}
    assert changed["unity"][0] >= 2 and changed["unity"][1] == 1  # pending -> approved, approved -> expired; active
    with Session(workspace.engine) as session:
        for auth in session.exec(select(Authorization)):
            assert auth.status == truth.authorizations[auth.auth_number].status_on(later), auth.auth_number
        approved_later = next(
            a for a in truth.authorizations.values() if a.scenario == "pending_then_approved" and a.payer_id == "UHP"
        )
        history = session.exec(
            select(AuthorizationObservation.status).where(
                AuthorizationObservation.auth_number == approved_later.auth_number
            )
        ).all()
        assert list(history) == ["pending", "approved"]
    assert open_findings(workspace) == expected_findings(workspace, later)

    # nothing new on the portals: nothing recorded, no finding opened twice
    again = run(workspace, browser, later, what=("auths", "providers"))
    assert all(r.auths_changed == 0 and r.enrollments_changed == 0 for r in again.portals)
    assert not again.findings.opened and not again.findings.resolved
