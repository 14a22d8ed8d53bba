"""From what a portal says (277 category, adjustments) to the worker's claim state."""

from __future__ import annotations

import csv
from enum import StrEnum
from functools import cache

from flows.denial_codes import denies
from flows.rules import rules_dir
from portals.types import ClaimStatusResult


class ClaimState(StrEnum):
    UNCHECKED = "unchecked"
    RECEIVED = "received"
    PENDING = "pending"
    INFO_REQUESTED = "info_requested"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    REJECTED = "rejected"
    FINALIZED = "finalized"
    NOT_ON_FILE = "not_on_file"
    ERROR = "error"  # the payer could not answer (277 E codes)


@cache
def category_states() -> dict[str, ClaimState]:
    with (rules_dir() / "claim_status_categories.csv").open(newline="") as f:
        return {row["code"]: ClaimState(row["state"]) for row in csv.DictReader(f)}


def state_of(result: ClaimStatusResult) -> ClaimState:
    """A paid claim with any real denial adjustment is partially paid; unknown codes are errors."""
    state = category_states().get(result.category_code.upper())
    if state is None:
        return ClaimState.ERROR
    if state is ClaimState.PAID and any(denies(a.group_code, a.carc, a.rarcs) for a in result.adjustments):
        return ClaimState.PARTIALLY_PAID
    return state
