"""The monthly denial review: where denials come from and how much they cost."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flows.claim_states import ClaimState
from flows.worklist import outlook
from store.models import Claim, Denial

ADJUDICATED_STATES = {ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.DENIED, ClaimState.FINALIZED}


@dataclass(frozen=True)
class Breakdown:
    title: str
    rows: list[tuple[str, int, Decimal]]  # (key, denials, dollars), most dollars first


@dataclass(frozen=True)
class DenialTrends:
    breakdowns: list[Breakdown]
    adjudicated_claims: int
    denied_claims: int  # adjudicated claims with at least one denial
    total_dollars: Decimal
    preventable_dollars: Decimal

    @property
    def initial_denial_rate(self) -> float | None:
        return self.denied_claims / self.adjudicated_claims if self.adjudicated_claims else None

    @property
    def preventable_share(self) -> float | None:
        return float(self.preventable_dollars / self.total_dollars) if self.total_dollars else None


def _breakdown(title: str, denials: Sequence[Denial], key: Callable[[Denial], str]) -> Breakdown:
    counts: dict[str, int] = defaultdict(int)
    dollars: dict[str, Decimal] = defaultdict(Decimal)
    for denial in denials:
        counts[key(denial)] += 1
        dollars[key(denial)] += denial.amount
    rows = sorted(((k, counts[k], dollars[k]) for k in counts), key=lambda r: (-r[2], r[0]))
    return Breakdown(title, rows)


def denial_trends(denials: Sequence[Denial], claims: Sequence[Claim]) -> DenialTrends:
    """Every denial ever recorded (worked or not), against the claims the payers adjudicated."""
    month = lambda d: (d.denial_date or d.first_seen_at.date()).strftime("%Y-%m")  # noqa: E731
    breakdowns = [
        _breakdown("By payer", denials, lambda d: d.payer_id or "unknown"),
        _breakdown("By category", denials, lambda d: d.category),
        _breakdown("By CARC", denials, lambda d: f"{d.group_code}-{d.carc}"),
        _breakdown("By owner", denials, lambda d: d.owner),
        _breakdown("By month", denials, month),
    ]
    adjudicated = {c.claim_id for c in claims if c.status in ADJUDICATED_STATES}
    denied = {d.claim_id for d in denials if d.claim_id in adjudicated}
    total = sum((d.amount for d in denials), Decimal("0"))
    preventable = sum((d.amount for d in denials if outlook(d.category).preventable), Decimal("0"))
    return DenialTrends(breakdowns, len(adjudicated), len(denied), total, preventable)
