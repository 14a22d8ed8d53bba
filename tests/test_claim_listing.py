"""The bulk path: Unity's CSV export answers for the claims that did not move; the rest open their pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from flows.claim_listing import same_as_listed
from portals.types import ClaimStatusResult
from store.models import Claim, ClaimStatusObservation
from tests.conftest import Workspace
from tests.run_support import configure, import_claims, portal_clock, running, session, settled, tasks, wait_until
from tests.test_check_run import expected_state
from worker.clock import utcnow


def unity_requests(ws: Workspace) -> int:
    return int(ws.portal.admin("state")["requests"]["commercial"])


@pytest.mark.browser
def test_unchanged_claims_are_answered_by_the_export_and_changed_ones_by_their_pages(workspace: Workspace) -> None:
    configure(workspace)
    text = workspace.config_path.read_text()
    for portal in ("summit", "lakeshore"):  # only Unity has a claim export
        text = text.replace(f"[portals.{portal}]\n", f"[portals.{portal}]\nenabled = false\n")
    workspace.config_path.write_text(text)
    import_claims(workspace)
    clock = portal_clock(workspace)
    unity = {cid: c for cid, c in workspace.truth.claims.items() if c.payer_id == "UHP"}
    # The first Unity claim the payer decides after the start: the day the worker is run again.
    later = sorted(c.adjudicated for c in unity.values() if c.adjudicated > workspace.truth.start)
    assert later, "the fake practice has a Unity claim that adjudicates later"
    days = (later[0] - workspace.truth.start).days

    with running(workspace, clock):
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), "the first day's checks are done")
        first_day = unity_requests(workspace)
        clock.advance(days=days)
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), f"day {days}'s checks are done")
    second_day = unity_requests(workspace) - first_day

    today = workspace.truth.start + timedelta(days=days)
    with session(workspace) as s:
        claims = {c.claim_id: c for c in s.exec(select(Claim).where(Claim.payer_id == "UHP"))}
        observed = {
            o.claim_id for o in s.exec(select(ClaimStatusObservation)) if o.observed_at.date() > workspace.truth.start
        }
    for claim_id, truth in unity.items():
        assert claims[claim_id].status == expected_state(truth, today), claim_id
    second_round = [t for t in tasks(workspace) if t.portal == "unity" and t.enqueued_at > mark]
    from_list = [t for t in second_round if "claim list" in (t.outcome or "")]
    assert from_list, "some pending claims were answered by the export"
    adjudicated = {cid for cid, c in unity.items() if c.adjudicated == later[0]}
    assert adjudicated <= observed  # the claims that moved were read from their own pages
    assert not {t.target for t in from_list} & adjudicated
    assert second_day < first_day  # the export costs less than a page per claim


def result(**changes: object) -> ClaimStatusResult:
    fields: dict[str, object] = {
        "claim_id": "PW1",
        "category_code": "A2",
        "status_code": None,
        "status_text": "Pending",
        "status_date": date(2026, 11, 1),
        "payer_claim_number": "UHP1",
        "billed_amount": Decimal("100.00"),
        "allowed_amount": None,
        "paid_amount": Decimal("0.00"),
        "check_number": None,
        "payment_date": None,
    }
    fields.update(changes)
    return ClaimStatusResult(**fields)  # type: ignore[arg-type]


def observation(**changes: object) -> ClaimStatusObservation:
    fields: dict[str, object] = {
        "claim_id": "PW1",
        "observed_at": utcnow(),
        "portal": "unity",
        "run_id": "r",
        "changes": "",
        "status": "received",
        "category_code": "A2",
        "status_code": "20",
        "status_text": "Accepted",
        "status_date": date(2026, 11, 1),
        "payer_claim_number": "UHP1",
        "billed_amount": Decimal("100.00"),
        "allowed_amount": None,
        "paid_amount": Decimal("0"),
        "check_number": None,
        "payment_date": None,
        "adjustments": [],
    }
    fields.update(changes)
    return ClaimStatusObservation(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("listed", "latest", "same"),
    [
        (result(), observation(), True),
        (result(status_date=date(2026, 11, 5)), observation(), False),  # the payer touched it
        (result(paid_amount=Decimal("80.00")), observation(), False),
        (result(category_code="F1"), observation(), False),  # decided
        (result(check_number="EFT1"), observation(), False),
    ],
)
def test_only_a_listing_identical_on_every_listed_field_counts_as_unchanged(
    listed: ClaimStatusResult, latest: ClaimStatusObservation, same: bool
) -> None:
    assert same_as_listed(latest, listed) is same
