"""The next step of each denial an event names, and by when, as the worklist ranks it: the PM system's
denial queue gets the same deadline staff see. Worked out when the event is sent, from the stored facts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlmodel import Session

from flows.appeal_progress import NONE_FILED, appeal_progress
from flows.deadlines import load_payer_rules
from flows.feed_format import NextStep
from flows.worklist import work_item
from store.claims import list_claims
from store.denials import OPEN_STATES, denials_by_id


def next_steps(session: Session, denial_ids: Collection[int], today: date) -> dict[int, NextStep | None]:
    """denial id -> its next step (None once it is settled, or when no rule gives a deadline)."""
    if not denial_ids:
        return {}
    denials = denials_by_id(session, denial_ids)
    claim_ids = sorted({d.claim_id for d in denials.values() if d.claim_id})
    claims = {c.claim_id: c for c in list_claims(session, claim_ids=claim_ids)} if claim_ids else {}
    rules, progress = load_payer_rules(), appeal_progress(session, list(denials))
    steps: dict[int, NextStep | None] = {}
    for denial_id, denial in denials.items():
        if denial.status not in OPEN_STATES:
            steps[denial_id] = None
            continue
        filed = progress.get(denial_id, NONE_FILED)
        item = work_item(
            denial, claims.get(denial.claim_id or ""), rules, today, filed.filed, decision_date=filed.decision_date
        )
        steps[denial_id] = NextStep(item.action, item.deadline.due) if item.deadline else NextStep(item.action, None)
    return steps
