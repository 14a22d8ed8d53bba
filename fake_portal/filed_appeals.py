"""What a portal keeps of an appeal filed online, and where each appeal stands on a given day.

An appeal is received on the day it is filed, in review `review_after_days` later and decided
`decide_after_days` later, all on the fake clock. How it is decided (its `Outcome`) is set by the
admin API per appeal or per claim, before or after filing; by default the payer overturns its
denial for the whole disputed amount. A decided overturn also shows on the claim's own status
page: the claim is reprocessed and paid on the decision day (`AppealBook.repay`). The book
imports nothing of the web side, so the world can hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from fake_portal.data import Adjustment, Claim, Dataset, Status
from fake_portal.filed_requests import Attachment

DECISIONS = ("overturned", "upheld")
DEFAULT_WORDS = {
    "overturned": "On review of the records submitted, the original determination is reversed. "
    "The claim will be reprocessed and paid.",
    "upheld": "On review of the records submitted, the original determination is upheld. "
    "The documentation does not support payment of the services billed.",
}
PATIENT_RESPONSIBILITY = "PR"
# What a reversed denial leaves as it was: the fee schedule reduction and the patient's deductible,
# coinsurance and copay. Every other adjustment is the denial, reduced by what the payer now pays.
KEPT_CARCS = frozenset({"45", "1", "2", "3"})


@dataclass
class AppealForm:
    """What was typed into an appeal form, before the portal checked it."""

    payer_claim_number: str = ""
    provider_reference: str = ""
    level: int | None = None
    reason: str = ""
    disputed_amount: Decimal | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """How the payer will decide: `amount` None pays the whole disputed amount when overturned."""

    decision: str = "overturned"
    amount: Decimal | None = None
    words: str = ""
    review_after_days: int = 3
    decide_after_days: int = 14


@dataclass(frozen=True)
class FiledAppeal:
    portal: str
    payer_id: str
    confirmation_number: str
    claim_id: str
    form: AppealForm
    submitted_on: date
    submitted_at: datetime


@dataclass(frozen=True)
class Standing:
    """An appeal on one day: received, in_review, upheld or overturned (the last two with the decision)."""

    status: str
    decided_on: date | None = None
    amount: Decimal | None = None  # what the payer will pay, when overturned
    words: str = ""

    @property
    def decided(self) -> bool:
        return self.decided_on is not None


class AppealBook:
    """Every appeal filed on any portal, the outcomes set for them, and the claims they repaid."""

    def __init__(self) -> None:
        self.appeals: list[FiledAppeal] = []
        self.by_appeal: dict[str, Outcome] = {}  # confirmation number -> outcome
        self.by_claim: dict[str, Outcome] = {}  # payer claim number -> outcome
        self.original_history: dict[str, list[Status]] = {}  # claim id -> its history before any repayment

    def file(self, appeal: FiledAppeal, dataset: Dataset) -> None:
        self.appeals.append(appeal)
        self.repay(dataset, appeal.claim_id)

    def find(self, confirmation_number: str) -> FiledAppeal | None:
        wanted = confirmation_number.strip().upper()
        return next((a for a in self.appeals if a.confirmation_number == wanted), None)

    def for_claim(self, portal: str, payer_claim_number: str) -> list[FiledAppeal]:
        """One claim's appeals on one portal, newest first."""
        found = [a for a in self.appeals if a.portal == portal and a.form.payer_claim_number == payer_claim_number]
        return sorted(found, key=lambda a: a.confirmation_number, reverse=True)

    def count(self, payer_id: str) -> int:
        return sum(1 for a in self.appeals if a.payer_id == payer_id)

    def outcome(self, appeal: FiledAppeal) -> Outcome:
        return (
            self.by_appeal.get(appeal.confirmation_number)
            or self.by_claim.get(appeal.form.payer_claim_number)
            or Outcome()
        )

    def standing(self, appeal: FiledAppeal, today: date) -> Standing:
        outcome = self.outcome(appeal)
        decided_on = appeal.submitted_on + timedelta(days=outcome.decide_after_days)
        if today >= decided_on:
            amount = None
            if outcome.decision == "overturned":
                amount = outcome.amount if outcome.amount is not None else appeal.form.disputed_amount
            return Standing(outcome.decision, decided_on, amount, outcome.words or DEFAULT_WORDS[outcome.decision])
        if today >= appeal.submitted_on + timedelta(days=outcome.review_after_days):
            return Standing("in_review")
        return Standing("received")

    def decided_on(self, appeal: FiledAppeal) -> date:
        return appeal.submitted_on + timedelta(days=self.outcome(appeal).decide_after_days)

    # --- the claim's own page -------------------------------------------------------------

    def repay(self, dataset: Dataset, claim_id: str) -> None:
        """The claim's history again: as generated, plus its payment on the day the first overturn is decided."""
        claim = dataset.claims[claim_id]
        original = self.original_history.setdefault(claim_id, list(claim.history))
        overturned = [a for a in self.appeals if a.claim_id == claim_id and self.outcome(a).decision == "overturned"]
        overturned.sort(key=self.decided_on)
        history = list(original)
        if overturned and original:
            appeal = overturned[0]
            decided_on = self.decided_on(appeal)
            standing = self.standing(appeal, decided_on)
            before = _latest(original, decided_on)
            if before is not None and standing.amount:
                history.append(_reprocessed(claim, before, standing.amount, decided_on, appeal.confirmation_number))
        claim.history = history

    def repay_all(self, dataset: Dataset) -> None:
        for claim_id in {a.claim_id for a in self.appeals}:
            self.repay(dataset, claim_id)

    def undo(self, dataset: Dataset) -> None:
        """Every claim back to its generated history (a world reset)."""
        for claim_id, history in self.original_history.items():
            dataset.claims[claim_id].history = history
        self.original_history.clear()


def _latest(history: list[Status], day: date) -> Status | None:
    current = None
    for status in history:
        if status.effective <= day:
            current = status
    return current


def _reprocessed(claim: Claim, before: Status, amount: Decimal, day: date, confirmation: str) -> Status:
    """The claim paid `amount` more than before: denial adjustments reduced by it, so the money still balances."""
    left = amount
    adjustments: list[Adjustment] = []
    for adjustment in before.adjustments:
        take = Decimal("0") if adjustment.carc in KEPT_CARCS else min(left, adjustment.amount)
        left -= take
        if adjustment.amount - take > 0:
            adjustments.append(replace(adjustment, amount=adjustment.amount - take))
    paid = (before.paid or Decimal("0")) + (amount - left)
    patient = sum((a.amount for a in adjustments if a.group_code == PATIENT_RESPONSIBILITY), Decimal("0"))
    allowed = claim.billed - sum((a.amount for a in adjustments), Decimal("0")) + patient
    trace = "EFT" + "".join(ch for ch in confirmation if ch.isdigit()).rjust(10, "7")
    return Status(
        "F1",
        "65",
        "Paid: reprocessed on appeal",
        day,
        allowed,
        paid,
        patient,
        trace,
        day + timedelta(days=2),
        tuple(adjustments),
    )
