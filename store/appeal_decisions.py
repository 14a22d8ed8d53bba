"""Queries for appeal decisions and follow-up: the appeal rows' decided side (store/appeals.py files them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from store.models import AppealRow, Denial, DenialEvent
from store.pages import in_chunks

FILED_STATES = ("filed", "decided")  # the payer has it: it counts as an appeal filed
ON_ITS_WAY_STATES = ("queued", "submitting", "needs_look", "filed", "decided")


@dataclass(frozen=True, slots=True)
class AppealStep:
    """One filed appeal, as the next level's deadline reads it."""

    denial_id: int
    level: int
    decision: str | None
    decided_on: date | None


def get_appeal(session: Session, appeal_id: str) -> AppealRow | None:
    return session.get(AppealRow, appeal_id)


def save_appeal(session: Session, appeal: AppealRow) -> None:
    session.add(appeal)


def appeals_of_denial(session: Session, denial_id: int) -> list[AppealRow]:
    statement = select(AppealRow).where(AppealRow.denial_id == denial_id)
    return list(session.exec(statement.order_by(col(AppealRow.level), col(AppealRow.created_at))))


def undecided_filed_appeal(session: Session, denial_id: int) -> AppealRow | None:
    """The denial's filed appeal still waiting for the payer (the highest level when, oddly, several)."""
    statement = select(AppealRow).where(
        AppealRow.denial_id == denial_id, AppealRow.state == "filed", col(AppealRow.decision).is_(None)
    )
    return session.exec(statement.order_by(col(AppealRow.level).desc())).first()


def filed_steps(session: Session, denial_ids: Iterable[int] | None = None) -> list[AppealStep]:
    """Every filed or decided appeal (of `denial_ids`, or all), as plain columns."""
    columns = (col(AppealRow.denial_id), col(AppealRow.level), col(AppealRow.decision), col(AppealRow.decided_on))
    base = select(*columns).where(col(AppealRow.state).in_(FILED_STATES))
    if denial_ids is None:
        return [AppealStep(*row) for row in session.exec(base)]
    steps: list[AppealStep] = []
    for chunk in in_chunks(denial_ids):
        steps += [AppealStep(*row) for row in session.exec(base.where(col(AppealRow.denial_id).in_(chunk)))]
    return steps


def upheld_appeals(session: Session) -> list[AppealRow]:
    statement = select(AppealRow).where(AppealRow.decision == "upheld")
    return list(session.exec(statement.order_by(col(AppealRow.denial_id), col(AppealRow.level))))


def waiting_appeals(session: Session) -> list[AppealRow]:
    """Filed appeals with no decision yet, oldest filing first."""
    statement = select(AppealRow).where(AppealRow.state == "filed", col(AppealRow.decision).is_(None))
    return list(session.exec(statement.order_by(col(AppealRow.filed_at), col(AppealRow.appeal_id))))


def higher_levels_on_their_way(session: Session, denial_ids: Sequence[int]) -> dict[int, int]:
    """denial id -> the highest level queued, being filed, filed or decided."""
    found: dict[int, int] = {}
    for chunk in in_chunks(denial_ids):
        statement = select(AppealRow.denial_id, AppealRow.level).where(
            col(AppealRow.denial_id).in_(chunk), col(AppealRow.state).in_(ON_ITS_WAY_STATES)
        )
        for denial_id, level in session.exec(statement):
            found[denial_id] = max(level, found.get(denial_id, 0))
    return found


def add_denial_note(session: Session, denial: Denial, at: datetime, actor: str, note: str) -> None:
    """A line in the denial's history that leaves its status as it is."""
    assert denial.id is not None
    session.add(DenialEvent(denial_id=denial.id, at=at, actor=actor, status=denial.status, note=note))


def decided_appeals(session: Session, denial_ids: Iterable[int]) -> list[AppealRow]:
    """The decided appeals of these denials (the reports' overturns and upholds)."""
    rows: list[AppealRow] = []
    for chunk in in_chunks(denial_ids):
        statement = select(AppealRow).where(col(AppealRow.denial_id).in_(chunk), AppealRow.state == "decided")
        rows += session.exec(statement.order_by(col(AppealRow.denial_id), col(AppealRow.level)))
    return rows


def denials_awaiting_appeal(session: Session, reported_claim_id: str) -> list[Denial]:
    """A claim's denials (the claim id as the payer sent it) with a filed appeal still undecided."""
    waiting = select(AppealRow.denial_id).where(AppealRow.state == "filed", col(AppealRow.decision).is_(None))
    statement = select(Denial).where(Denial.reported_claim_id == reported_claim_id, col(Denial.id).in_(waiting))
    return list(session.exec(statement.order_by(col(Denial.id))))


def denials_of_claim(session: Session, claim_id: str) -> list[Denial]:
    return list(session.exec(select(Denial).where(Denial.claim_id == claim_id).order_by(col(Denial.id))))


def overturns_without_amount(session: Session, reported_claim_id: str) -> list[tuple[AppealRow, Denial]]:
    """A claim's overturned appeals whose amount recovered was not known when they were decided."""
    statement = (
        select(AppealRow, Denial)
        .join(Denial, col(Denial.id) == col(AppealRow.denial_id))
        .where(
            Denial.reported_claim_id == reported_claim_id,
            AppealRow.decision == "overturned",
            col(AppealRow.amount_recovered).is_(None),
        )
        .order_by(col(AppealRow.appeal_id))
    )
    return [(appeal, denial) for appeal, denial in session.exec(statement)]
