"""From what a portal says (277 category, adjustments) to the worker's claim state.

The 277 category gives the state (config/claim_status_categories.csv); the
adjustments decide the finalized categories that do not say on their own:

- F1 (paid) with a denying adjustment is partially paid; with a line the payer
  has not decided yet (CARC 133) and no denial it is pending, so it is checked
  again rather than closed as paid.
- F4 (adjudication complete, no payment forthcoming) is denied only when a
  denying adjustment exists. A $0 payment because the patient owes it all
  (deductible, coinsurance, copay: PR group) is paid, the balance being the
  patient's responsibility; with no adjustment that says either, it is
  finalized.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from enum import StrEnum
from functools import cache

from flows.denial_codes import CodeCategory, DenialKind, categorise
from flows.rules import rules_dir
from portals.types import Adjustment, ClaimStatusResult

NO_PAYMENT_FORTHCOMING = "F4"


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
    """The claim's state from its 277 category and adjustments (module docstring); unknown categories are errors."""
    category = result.category_code.strip().upper()
    state = category_states().get(category)
    if state is None:
        return ClaimState.ERROR
    codes = _meanings(result.adjustments)
    denied = any(c.kind is not DenialKind.NOT_A_DENIAL for c in codes)
    if category == NO_PAYMENT_FORTHCOMING:
        if denied:
            return ClaimState.DENIED
        return ClaimState.PAID if any(c.bill_patient for c in codes) else ClaimState.FINALIZED
    if state is ClaimState.PAID:
        if denied:
            return ClaimState.PARTIALLY_PAID
        if any(c.pending for c in codes):
            return ClaimState.PENDING
    return state


def _meanings(adjustments: Sequence[Adjustment]) -> list[CodeCategory]:
    return [categorise(a.group_code, a.carc, a.rarcs, a.amount) for a in adjustments]
