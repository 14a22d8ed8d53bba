"""`check` end to end: real Chromium, the fake portals, the store, through the engine the CLI uses."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, select

from fake_portal.data import Claim as TruthClaim
from store.models import Claim, ClaimStatusObservation, Denial, EraFile, Evidence, PortalAccount
from tests.conftest import Workspace
from tests.run_support import import_claims
from worker.clock import utcnow
from worker.runtime.check import Check, PortalReport, RunReport

pytestmark = pytest.mark.browser

TODAY_STATE = {  # the fake portal's outcome -> the state the worker should record on its first day
    "paid": "paid",
    "partial": "partially_paid",
    "denied": "denied",
    "pending": "pending",
    "info_requested": "info_requested",
    "rejected": "rejected",
    "not_on_file": "not_on_file",
}


def run(ws: Workspace, browser: Browser, **kwargs: object) -> RunReport:
    """`portal-worker check`, its runner driving the test session's Chromium from this thread."""
    return Check(ws.settings, credentials=ws.credentials, browser=browser).run(**kwargs)  # type: ignore[arg-type]


def stored(ws: Workspace) -> tuple[dict[str, Claim], list[ClaimStatusObservation]]:
    with Session(ws.engine) as session:
        claims = {c.claim_id: c for c in session.exec(select(Claim))}
        observations = list(session.exec(select(ClaimStatusObservation)))
    return claims, observations


def expected_state(claim: TruthClaim, today: date) -> str:
    if claim.on_file and claim.adjudicated > today and claim.outcome in {"paid", "denied"} and claim.final is not None:
        return "pending"
    return TODAY_STATE[claim.outcome]


NOT_DENIALS = {"45", "1", "2", "3", "23"}


def expected_denials(ws: Workspace, today: date) -> list[tuple[str, str, str, str, str]]:
    """(payer, claim, group, CARC, amount) of every denying adjustment the portals show today."""
    rows = []
    for claim in ws.truth.claims.values():
        status = claim.status_on(today)
        if status is None or status.category not in {"F1", "F2"}:
            continue
        rows += [
            (claim.payer_id, claim.claim_id, a.group_code, a.carc, f"{a.amount:.2f}")
            for a in status.adjustments
            if a.carc not in NOT_DENIALS
        ]
    return rows


def denial_keys(ws: Workspace) -> list[tuple[str, str, str, str, str]]:
    with Session(ws.engine) as session:
        return [
            (d.payer_id or "", d.claim_id or "", d.group_code, d.carc, f"{d.amount:.2f}")
            for d in session.exec(select(Denial))
        ]


def portal_report(report: RunReport, portal: str) -> PortalReport:
    return next(r for r in report.portals if r.portal == portal)


def test_check_records_every_claim_state_on_every_portal_once(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    report = run(workspace, browser)

    claims, observations = stored(workspace)
    today = workspace.truth.start
    for claim_id, truth in workspace.truth.claims.items():
        assert claims[claim_id].status == expected_state(truth, today), claim_id
    assert len(observations) == len(workspace.truth.claims)
    denied = [o for o in observations if o.status == "denied"]
    assert denied and all(o.adjustments and o.adjustments[0]["carc"] for o in denied)
    for row in report.portals:
        assert row.problem is None and row.errors == 0 and row.logins == 1
    assert {r.portal for r in report.portals} == {"summit", "unity", "lakeshore"}
    assert sum(r.checked for r in report.portals) == len(workspace.truth.claims)

    # Every denying adjustment on every portal is one Denial, even where an ERA reports it again.
    expected = expected_denials(workspace, today)
    assert {p for p, *_ in expected} == {"NWM", "BBH", "UHP", "LSM"}
    assert sorted(denial_keys(workspace)) == sorted(expected)
    assert portal_report(report, "summit").eras > 0

    # Checking again finds nothing new, records nothing, and reuses the saved sessions.
    again = run(workspace, browser, force=True)
    assert stored(workspace)[1] == observations
    assert all(r.changed == 0 and r.logins == 0 and r.new_denials == 0 for r in again.portals)
    assert sorted(denial_keys(workspace)) == sorted(expected)


def test_pending_claims_adjudicate_over_simulated_days_and_paid_ones_stop(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    run(workspace, browser, portals=["unity"])
    workspace.portal.admin("clock", {"days": 12})
    later = workspace.truth.start + timedelta(days=12)

    run(workspace, browser, portals=["unity"], force=True)

    claims, observations = stored(workspace)
    adjudicated = [
        c
        for c in workspace.truth.claims_for({"UHP"})
        if c.final is not None and workspace.truth.start < c.adjudicated <= later
    ]
    assert adjudicated, "the data set should have claims that adjudicate after the start"
    for truth in adjudicated:
        assert claims[truth.claim_id].status in {"paid", "partially_paid", "denied"}
        history = [o.status for o in observations if o.claim_id == truth.claim_id]
        assert history[0] == "pending" and history[-1] == claims[truth.claim_id].status
    # everything was just checked, so without --force nothing is due yet
    report = run(workspace, browser, portals=["unity"])
    assert not [r for r in report.portals if r.portal == "unity"]


def test_wrong_password_pauses_the_account_and_other_portals_go_on(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    good = workspace.default_credentials("unity")
    workspace.credentials.save("unity", type(good)(good.username, "not-the-password", None, {}))

    report = run(workspace, browser)

    unity = portal_report(report, "unity")
    assert unity.checked == 0 and unity.errors == unity.claims > 0
    assert "credentials set unity" in (unity.problem or "")
    assert all(r.problem is None for r in report.portals if r.portal != "unity")
    with Session(workspace.engine) as session:
        account = session.get(PortalAccount, "unity")
        assert account is not None and account.state == "needs_attention"
        assert session.exec(select(Evidence).where(Evidence.portal == "unity")).first() is not None
    assert _failed_logins(workspace, "commercial") == 1

    # Not tried again with the same password: no second strike toward a lockout.
    again = run(workspace, browser, portals=["unity"], force=True)
    assert "waiting for a person" in (portal_report(again, "unity").problem or "")
    assert _failed_logins(workspace, "commercial") == 1

    # A person stores the right password: the account works again.
    workspace.credentials.save("unity", good)
    fixed = run(workspace, browser, portals=["unity"])
    assert portal_report(fixed, "unity").problem is None
    assert portal_report(fixed, "unity").checked == portal_report(fixed, "unity").claims


def _failed_logins(ws: Workspace, prefix: str) -> int:
    state = ws.portal.admin("state")
    account = next(a for a in state["accounts"] if a["portal"] == prefix and a["username"] == "demo.biller")
    assert not account["locked"]
    return int(account["failed_logins"])


def test_session_expiry_mid_batch_logs_in_again_and_completes(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    workspace.portal.admin("faults/commercial", {"session_ttl_requests": 6})

    report = run(workspace, browser, portals=["unity"])

    unity = portal_report(report, "unity")
    assert unity.problem is None and unity.errors == 0
    assert unity.checked == unity.claims and unity.logins >= 2


def test_layout_change_saves_evidence_and_writes_nothing_for_the_claim(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    workspace.portal.admin("faults/medicaid", {"layout": 2})

    report = run(workspace, browser, portals=["lakeshore", "unity"])

    lakeshore = portal_report(report, "lakeshore")
    assert "changed" in (lakeshore.problem or "") and lakeshore.checked == 0
    assert portal_report(report, "unity").problem is None
    claims, observations = stored(workspace)
    assert all(c.status == "unchecked" for c in claims.values() if c.payer_id == "LSM")
    assert not [o for o in observations if o.portal == "lakeshore"]
    with Session(workspace.engine) as session:
        evidence = session.exec(select(Evidence).where(Evidence.portal == "lakeshore")).all()
    assert evidence and "LayoutChanged" in evidence[0].reason
    html_path = evidence[0].html_path
    for path in (evidence[0].screenshot_path, html_path):
        assert path and stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    assert html_path and stat.S_IMODE(Path(html_path).parent.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"maintenance": True}, "unavailable"),
        ({"error_rate": 1.0}, "unavailable"),
        ({"rate_limited": True}, "rate limited"),
    ],
)
def test_unavailable_portal_is_backed_off_and_others_go_on(
    workspace: Workspace, fault: dict[str, object], words: str, browser: Browser
) -> None:
    import_claims(workspace)
    workspace.portal.admin("faults/clearinghouse", fault)

    report = run(workspace, browser, portals=["summit", "unity"])

    summit = portal_report(report, "summit")
    assert words in (summit.problem or "") and "backing off until" in (summit.problem or "")
    assert portal_report(report, "unity").problem is None
    with Session(workspace.engine) as session:
        account = session.get(PortalAccount, "summit")
        assert account is not None and account.unavailable_until is not None
        assert account.unavailable_until > utcnow()

    workspace.portal.admin("faults/clearinghouse", {"maintenance": False, "error_rate": 0.0, "rate_limited": False})
    again = run(workspace, browser, portals=["summit"])
    assert "backing off" in (portal_report(again, "summit").problem or "")
    assert portal_report(again, "summit").checked == 0


def test_an_era_reversal_on_the_clearinghouse_turns_a_paid_claim_into_a_worked_denial(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    first = run(workspace, browser, portals=["summit"])
    eras_at_start = portal_report(first, "summit").eras
    workspace.portal.admin("clock", {"days": 6})

    later = run(workspace, browser, portals=["summit"], force=True)

    summit = portal_report(later, "summit")
    assert summit.problem is None and summit.eras >= 1 and summit.new_denials >= 1
    with Session(workspace.engine) as session:
        reprocessed = session.exec(select(Denial).where(Denial.source == "era", Denial.carc == "18")).all()
        eras = session.exec(select(EraFile)).all()
    # the reprocessed claim is denied line by line: one open denial per line, all on that one claim
    assert reprocessed and len({d.claim_id for d in reprocessed}) == 1 and reprocessed[0].claim_id
    assert all(d.status == "open" and d.line_procedure for d in reprocessed)
    assert len(eras) == eras_at_start + summit.eras  # each file imported once, across runs
