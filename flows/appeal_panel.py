"""A claim's denials with their appeals, as the workspace's decision and write-off forms show them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from flows.appeal_decisions import DECIDABLE_STATES
from flows.appeal_follow_up import next_step_after
from store.appeal_decisions import appeals_of_denial, denials_of_claim
from store.models import AppealRow, Denial

CLOSED = ("written_off", "resolved")


@dataclass(frozen=True)
class DenialAppeals:
    denial: Denial
    appeals: tuple[AppealRow, ...]  # by level
    next_step: str | None  # after the last filed level's upheld decision

    @property
    def decidable(self) -> tuple[AppealRow, ...]:
        """The appeals the payer has: their decision can be recorded (or corrected)."""
        return tuple(a for a in self.appeals if a.state in DECIDABLE_STATES)

    @property
    def can_write_off(self) -> bool:
        return self.denial.status not in CLOSED


def claim_appeals(session: Session, claim_id: str) -> list[DenialAppeals]:
    panels = []
    for denial in denials_of_claim(session, claim_id):
        assert denial.id is not None
        appeals = appeals_of_denial(session, denial.id)
        filed = [a for a in appeals if a.state in DECIDABLE_STATES]
        last = filed[-1] if filed else None
        step = None
        if last is not None and last.decision == "upheld" and denial.status == "open":
            step = next_step_after(session, denial, last)
        panels.append(DenialAppeals(denial, tuple(appeals), step))
    return panels
