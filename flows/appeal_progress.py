"""How far a denial's appeals have gone: what the next level's deadline counts from.

A denial with appeal rows (filed online, or sent by fax or mail as staff said) counts its filed or
decided appeals by their highest level, and the next level's window runs from that level's upheld
decision date. A denial appealed by hand (`denial ID --status appealed`, no appeal row) keeps the old
count of its "appealed" history entries, with no decision date: the next level waits for one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from store.appeal_decisions import AppealStep, filed_steps
from store.denials import appeals_filed_by_denial


@dataclass(frozen=True, slots=True)
class AppealProgress:
    filed: int  # appeal levels filed so far (0: none)
    decision_date: date | None = None  # the last filed level's upheld decision, when it came


NONE_FILED = AppealProgress(0)


def progress_from(steps: Iterable[AppealStep], marked_by_hand: dict[int, int]) -> dict[int, AppealProgress]:
    last: dict[int, AppealStep] = {}
    for step in steps:
        if step.denial_id not in last or step.level > last[step.denial_id].level:
            last[step.denial_id] = step
    progress = {denial_id: AppealProgress(count) for denial_id, count in marked_by_hand.items()}
    for denial_id, step in last.items():
        decided = step.decided_on if step.decision == "upheld" else None
        progress[denial_id] = AppealProgress(step.level, decided)
    return progress


def appeal_progress(session: Session, denial_ids: Iterable[int] | None = None) -> dict[int, AppealProgress]:
    """denial id -> its AppealProgress, for every denial (or those of `denial_ids`) with an appeal filed."""
    ids = None if denial_ids is None else list(denial_ids)
    return progress_from(filed_steps(session, ids), appeals_filed_by_denial(session, ids))
