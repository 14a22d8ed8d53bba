"""When a payer first adjudicated each claim, and whether that first adjudication denied it: what the denial
rate and first-pass resolution count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import NamedTuple

from sqlmodel import Session

from flows.denials import ADJUDICATED
from flows.reports import ReportFilter
from flows.reports.figures import day_of, in_range
from store.reports import ClaimAdjudications, claim_adjudications


class Adjudicated(NamedTuple):
    facts: ClaimAdjudications
    first_on: date  # the day the payer first adjudicated it
    first_denial_on: date | None

    @property
    def initially_denied(self) -> bool:
        """Its earliest denial came with its first adjudication."""
        return self.first_denial_on is not None and self.first_denial_on <= self.first_on

    @property
    def finally_denied(self) -> bool:
        """A denial of it still stands: open, appealed, resubmitted or written off (not overturned or paid)."""
        return self.facts.unresolved_denials > 0

    @property
    def first_pass(self) -> bool:
        """Paid on its first submission: no denial ever, no rejection, no reversal, no second payer claim number."""
        return (
            self.facts.status == "paid"
            and self.facts.denials == 0
            and not self.facts.rejected
            and not self.facts.resubmitted
            and not self.facts.reversed
            and self.facts.payer_claim_numbers <= 1
        )


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def adjudicated_claims(session: Session, chosen: ReportFilter, today: date) -> Iterator[Adjudicated]:
    """Claims first adjudicated in the range (a claim adjudicated with no date on record: today)."""
    for facts in claim_adjudications(session, ADJUDICATED, chosen.payer):
        denial_on = facts.first_denial_on or (day_of(facts.first_denial_at) if facts.first_denial_at else None)
        portal_on = facts.first_portal_on or (day_of(facts.first_portal_at) if facts.first_portal_at else None)
        first = _earliest(portal_on, facts.first_era_on, denial_on) or today
        if in_range(first, chosen):
            yield Adjudicated(facts, first, denial_on)
