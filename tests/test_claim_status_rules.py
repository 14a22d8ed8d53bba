"""Claim-status rules without a browser: 277 categories, cadence, change detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from flows.changes import describe_changes
from flows.claim_states import ClaimState, category_states, state_of
from flows.claim_status import COMPARED, observation_from, plan_batches
from portals.types import Adjustment, ClaimStatusResult
from store.models import Claim, ClaimStatusObservation

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def claim(
    status: str = "unchecked", checked_hours_ago: float | None = None, submitted_days_ago: int = 30, payer: str = "UHP"
) -> Claim:
    return Claim(
        claim_id="PW1",
        payer_id=payer,
        member_id="M1",
        patient_name="SYNTHETIC, PERSON",
        dos_from=date(2026, 10, 1),
        dos_to=date(2026, 10, 1),
        billed_amount=Decimal("100.00"),
        submitted_date=(NOW - timedelta(days=submitted_days_ago)).date(),
        rendering_npi="1234567893",
        imported_at=NOW,
        updated_at=NOW,
        status=status,
        paid_amount=None,
        last_checked_at=None if checked_hours_ago is None else NOW - timedelta(hours=checked_hours_ago),
    )


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("A2", ClaimState.RECEIVED),
        ("A7", ClaimState.REJECTED),
        ("P1", ClaimState.PENDING),
        ("P3", ClaimState.INFO_REQUESTED),
        ("R4", ClaimState.INFO_REQUESTED),
        ("F1", ClaimState.PAID),
        ("F2", ClaimState.DENIED),
        ("F4", ClaimState.FINALIZED),  # denied only with a denying adjustment: tests/test_code_meanings.py
        ("A4", ClaimState.NOT_ON_FILE),
        ("E1", ClaimState.ERROR),
        ("f1", ClaimState.PAID),
    ],
)
def test_277_categories_map_to_states(code: str, state: ClaimState) -> None:
    assert state_of(ClaimStatusResult("PW1", code, None, "")) is state


def test_every_category_row_names_a_known_state() -> None:
    assert len(category_states()) > 40


def test_unknown_category_is_an_error_not_a_crash() -> None:
    assert state_of(ClaimStatusResult("PW1", "Z9", None, "")) is ClaimState.ERROR


def test_paid_with_a_denied_line_is_partially_paid_but_contractual_adjustments_are_not() -> None:
    contractual = (Adjustment("CO", "45", Decimal("10")), Adjustment("PR", "2", Decimal("5")))
    assert state_of(ClaimStatusResult("PW1", "F1", "65", "", adjustments=contractual)) is ClaimState.PAID
    denied_line = (*contractual, Adjustment("CO", "97", Decimal("40"), ("N20",)))
    assert state_of(ClaimStatusResult("PW1", "F1", "65", "", adjustments=denied_line)) is ClaimState.PARTIALLY_PAID


def test_batches_group_claims_by_the_portal_answering_for_their_payer() -> None:
    plan = plan_batches(
        [claim(payer="UHP"), claim(payer="NWM"), claim(payer="XXX")], {"UHP": "unity", "NWM": "summit"}.get
    )
    assert {p: len(c) for p, c in plan.batches.items()} == {"unity": 1, "summit": 1}
    assert [c.payer_id for c in plan.unrouted] == ["XXX"]


def test_changes_are_detected_field_by_field_and_amount_formatting_is_not_a_change() -> None:
    result = ClaimStatusResult(
        "PW1", "F1", "65", "Paid", paid_amount=Decimal("80.0"), adjustments=(Adjustment("CO", "45", Decimal("20")),)
    )
    fields = observation_from(result, "PW1")
    assert describe_changes(None, fields, COMPARED) == "first seen: paid"
    before = ClaimStatusObservation(
        claim_id="PW1",
        observed_at=NOW,
        portal="p",
        run_id="r",
        changes="x",
        **{**fields, "paid_amount": Decimal("80.00")},
    )
    assert describe_changes(before, fields, COMPARED) == ""
    after = observation_from(ClaimStatusResult("PW1", "F2", "1", "Denied"), "PW1")
    assert "status: paid -> denied" in describe_changes(before, after, COMPARED)
