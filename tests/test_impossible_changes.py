"""Issue 15, class 9: impossible changes are refused, not recorded. Real Chromium against the fake portals,
through `check`'s engine, with the portals' identifiers drifting (fake_portal/id_drift.py)."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, select

from fake_portal.data import Claim as TruthClaim
from fake_portal.launcher import RunningPortal
from store.models import Claim, ClaimStatusObservation, Denial, DenialEvent, Evidence, Finding, FlowPause
from tests.cli_support import portal_worker
from tests.conftest import PORTAL_NAMES, Workspace
from tests.run_support import import_claims
from worker.runtime.check import Check, PortalReport, RunReport

FAKE_NAME = {name: fake for fake, name in PORTAL_NAMES.items()}  # "unity" -> "commercial"
PAYERS = {"summit": {"NWM", "BBH"}, "unity": {"UHP"}, "lakeshore": {"LSM"}}
SETTLED = {"paid", "partially_paid", "denied", "finalized"}
OPEN = {"pending", "received", "info_requested", "rejected"}


def run(ws: Workspace, browser: Browser, **kwargs: object) -> RunReport:
    """`portal-worker check`, its runner driving the test session's Chromium from this thread."""
    return Check(ws.settings, credentials=ws.credentials, browser=browser).run(**kwargs)  # type: ignore[arg-type]


def drift(ws: Workspace, portals: Iterable[str], value: str) -> None:
    for portal in portals:
        ws.portal.admin(f"faults/{FAKE_NAME[portal]}", {"id_drift": value})


def stored(ws: Workspace) -> tuple[dict[str, Claim], list[ClaimStatusObservation], list[Denial], int]:
    with Session(ws.engine) as session:
        claims = {c.claim_id: c for c in session.exec(select(Claim))}
        observations = list(session.exec(select(ClaimStatusObservation)))
        denials = list(session.exec(select(Denial)))
        events = len(session.exec(select(DenialEvent)).all())
    return claims, observations, denials, events


def report_of(report: RunReport, portal: str) -> PortalReport:
    return next(r for r in report.portals if r.portal == portal)


def claims_in(ws: Workspace, portal: str, states: set[str]) -> list[Claim]:
    claims = stored(ws)[0]
    return sorted((c for c in claims.values() if c.payer_id in PAYERS[portal] and c.status in states), key=str)


def truth(ws: Workspace, claim_id: str) -> TruthClaim:
    return ws.truth.claims[claim_id]


pytestmark = pytest.mark.browser


def test_payer_claim_numbers_printed_with_separators_change_nothing_on_any_portal(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    run(workspace, browser)
    before_claims, before_observations, before_denials, before_events = stored(workspace)
    assert {d.payer_id for d in before_denials} >= {"NWM", "UHP", "LSM"}

    drift(workspace, PAYERS, "separators")
    report = run(workspace, browser, force=True)

    assert all(r.problem is None and r.changed == 0 and r.new_denials == 0 for r in report.portals), report
    claims, observations, denials, events = stored(workspace)
    assert {c: claims[c].status for c in claims} == {c: before_claims[c].status for c in before_claims}
    assert not [
        c for c in claims.values() if c.status == "not_on_file" and before_claims[c.claim_id].status != c.status
    ]
    assert observations == before_observations  # not one observation: the same numbers, printed another way
    assert [(d.fingerprint, d.status) for d in denials] == [(d.fingerprint, d.status) for d in before_denials]
    assert events == before_events


def test_a_settled_claim_never_becomes_not_on_file_on_any_portal(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    run(workspace, browser)
    gone = {portal: claims_in(workspace, portal, {"paid"})[0] for portal in ("unity", "lakeshore")}
    gone["summit"] = claims_in(workspace, "summit", {"denied"})[0]
    for portal, claim in gone.items():
        drift(workspace, [portal], f"vanish:{claim.claim_id}")
    _, before_observations, before_denials, _ = stored(workspace)

    report = run(workspace, browser, force=True)

    claims, observations, denials, _ = stored(workspace)
    for portal, claim in gone.items():
        assert claims[claim.claim_id].status == claim.status, portal
        problem = report_of(report, portal).problem or ""
        assert "refused an impossible change" in problem and f"was {claim.status}" in problem, problem
        assert "paused" in problem
    assert not [o for o in observations if o.status == "not_on_file" and o not in before_observations]
    assert [(d.fingerprint, d.status) for d in denials] == [(d.fingerprint, d.status) for d in before_denials]
    with Session(workspace.engine) as session:
        evidence = session.exec(select(Evidence)).all()
        pauses = {(p.portal, p.kind) for p in session.exec(select(FlowPause))}
    assert {e.portal for e in evidence if "ImpossibleChange" in e.reason} == set(PAYERS)
    assert pauses == {(portal, "claim_status") for portal in PAYERS}


def test_a_renumbered_payer_claim_number_is_refused_on_every_portal(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    run(workspace, browser)
    _, before_observations, before_denials, _ = stored(workspace)
    drift(workspace, PAYERS, "renumber")

    report = run(workspace, browser, force=True)

    for portal in PAYERS:
        assert "refused an impossible change" in (report_of(report, portal).problem or ""), portal
    for portal in PAYERS:  # each portal's claim list links the claim, and its page shows the new number
        assert "payer claim number changed its digits" in (report_of(report, portal).problem or ""), portal
    _, observations, denials, _ = stored(workspace)
    assert observations == before_observations
    for observation in observations:
        number = observation.payer_claim_number
        claim_number = truth(workspace, observation.claim_id).payer_claim_number
        assert number is None or number == claim_number
    assert [(d.fingerprint, d.status) for d in denials] == [(d.fingerprint, d.status) for d in before_denials]


def test_many_found_claims_missing_at_once_stop_that_portals_writing_until_the_next_run(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    run(workspace, browser)
    found_open = claims_in(workspace, "unity", OPEN)
    assert len(found_open) >= 4
    missing = found_open[:4]  # more than max(3, a tenth of Unity's found claims)
    drift(workspace, ["unity"], "vanish:" + ",".join(c.claim_id for c in missing))
    _, before_observations, _, _ = stored(workspace)

    report = run(workspace, browser, force=True)

    unity = report_of(report, "unity")
    assert unity.problem and "4 of 11 claims found before are missing from unity now" in unity.problem
    assert "recorded none of them as not on file" in unity.problem and "paused" in unity.problem
    assert report_of(report, "summit").problem is None and report_of(report, "lakeshore").problem is None
    claims, observations, _, _ = stored(workspace)
    assert all(claims[c.claim_id].status == c.status for c in missing)
    assert [o for o in observations if o not in before_observations and o.portal == "unity"] == []
    with Session(workspace.engine) as session:
        finding = session.exec(select(Finding).where(Finding.subject == "unity:claim_status")).one()
        evidence = session.exec(select(Evidence).where(Evidence.portal == "unity")).all()
    assert finding.kind == "layout_changed" and finding.status == "open" and "missing from unity" in finding.message
    assert any("TooManyMissing" in e.reason for e in evidence)

    # The next run, once staff resume the flow, asks again: the portal finds them, nothing was lost.
    drift(workspace, ["unity"], "")
    assert portal_worker("-c", str(workspace.config_path), "resume", "unity").returncode == 0
    again = run(workspace, browser, portals=["unity"], force=True)
    assert report_of(again, "unity").problem is None
    claims = stored(workspace)[0]
    assert all(claims[c.claim_id].status == c.status for c in missing)


def test_a_few_found_claims_missing_are_recorded_as_not_on_file(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    run(workspace, browser)
    missing = claims_in(workspace, "unity", OPEN)[:2]
    drift(workspace, ["unity"], "vanish:" + ",".join(c.claim_id for c in missing))

    report = run(workspace, browser, portals=["unity"], force=True)

    unity = report_of(report, "unity")
    assert unity.problem is None and unity.states["not_on_file"] >= 2
    claims, observations, _, _ = stored(workspace)
    for claim in missing:
        assert claims[claim.claim_id].status == "not_on_file"
        assert [o.status for o in observations if o.claim_id == claim.claim_id][-1] == "not_on_file"


def test_check_on_the_command_line_exits_1_and_says_what_it_refused(workspace: Workspace) -> None:
    config = str(workspace.config_path)
    assert portal_worker("-c", config, "import", "claims", str(workspace.claims_csv)).returncode == 0
    first = portal_worker("-c", config, "check", "--portal", "lakeshore", "--what", "claims")
    assert first.returncode == 0, first.stdout + first.stderr
    drift(workspace, ["lakeshore"], "renumber")

    checked = portal_worker("-c", config, "check", "--portal", "lakeshore", "--what", "claims", "--force")

    assert checked.returncode == 1, checked.stdout + checked.stderr
    said = " ".join((checked.stdout + checked.stderr).split())
    assert "refused an impossible change" in said and "payer claim number changed its digits" in said
    with Session(workspace.engine) as session:
        numbered = [o for o in session.exec(select(ClaimStatusObservation)) if o.payer_claim_number]
    assert numbered
    assert all(o.payer_claim_number == truth(workspace, o.claim_id).payer_claim_number for o in numbered)


@pytest.mark.parametrize("value", ["shuffle", "renumber:PC1", 7])
def test_the_fake_portal_refuses_an_unknown_id_drift_and_keeps_the_old_one(
    fake_portal: RunningPortal, value: object
) -> None:
    fake_portal.admin("faults/commercial", {"id_drift": "separators"})
    answer = httpx.post(f"{fake_portal.url}/admin/faults/commercial", json={"id_drift": value}, timeout=10)
    assert answer.status_code == 400 and "unknown id_drift" in answer.json()["error"]
    assert fake_portal.admin("state")["faults"]["commercial"]["id_drift"] == "separators"
