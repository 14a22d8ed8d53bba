"""Denials and their history; ERA files and claims. Queries only: the rules live in flows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select as sa_select  # typed for more columns than sqlmodel's select
from sqlmodel import Session, col, func, select

from store.models import Claim, Denial, DenialEvent, EraClaim, EraFile, EraProviderAdjustment
from store.pages import in_chunks

OPEN_STATES = ("open", "appealed", "resubmitted")


def find_by_fingerprint(session: Session, fingerprint: str) -> Denial | None:
    return session.exec(select(Denial).where(Denial.fingerprint == fingerprint)).first()


def add_denial(session: Session, denial: Denial, note: str) -> Denial:
    session.add(denial)
    session.flush()
    assert denial.id is not None
    session.add(
        DenialEvent(denial_id=denial.id, at=denial.first_seen_at, actor="worker", status=denial.status, note=note)
    )
    return denial


def unresolved_for_claim(
    session: Session, reported_claim_id: str, payer_claim_number: str | None = None
) -> list[Denial]:
    """Denials of a claim (as the payer names it) that nobody has closed yet."""
    statement = select(Denial).where(Denial.reported_claim_id == reported_claim_id, col(Denial.status).in_(OPEN_STATES))
    if payer_claim_number is not None:
        statement = statement.where(Denial.payer_claim_number == payer_claim_number)
    return list(session.exec(statement.order_by(col(Denial.id))))


def set_status(
    session: Session, denial: Denial, status: str, at: datetime, actor: str, note: str | None = None
) -> None:
    """Change a denial's status and keep the change in its history."""
    denial.status = status
    if status in {"resolved", "written_off"}:
        denial.resolved_at = at
        denial.resolution = note
    else:
        denial.resolved_at = None
    session.add(denial)
    assert denial.id is not None
    session.add(DenialEvent(denial_id=denial.id, at=at, actor=actor, status=status, note=note))


def set_assignee(session: Session, denial: Denial, assignee: str | None, at: datetime, actor: str, note: str) -> None:
    """Change who works a denial and keep the change in its history (its status stays as it is)."""
    denial.assignee = assignee
    session.add(denial)
    assert denial.id is not None
    session.add(DenialEvent(denial_id=denial.id, at=at, actor=actor, status=denial.status, note=note))


def list_denials(session: Session, statuses: Sequence[str] | None = None, owner: str | None = None) -> list[Denial]:
    statement = select(Denial)
    if statuses:
        statement = statement.where(col(Denial.status).in_(statuses))
    if owner:
        statement = statement.where(Denial.owner == owner)
    return list(session.exec(statement.order_by(col(Denial.id))))


@dataclass(frozen=True, slots=True)
class DenialFacts:
    """What ranking a denial needs, read as plain columns: the worklist ranks thousands of denials to show
    fifty, and building thousands of ORM objects (and their claims) was most of its time."""

    id: int
    claim_id: str | None
    reported_claim_id: str
    source: str
    source_ref: str
    payer_id: str | None
    amount: Decimal
    category: str
    owner: str
    kind: str
    appealable: bool
    assignee: str | None
    denial_date: date | None
    first_seen_at: datetime
    dos_from: date | None  # the claim's dates of service; None for a claim not in our claims
    dos_to: date | None


def denial_facts(
    session: Session, statuses: Sequence[str] | None = None, owner: str | None = None
) -> list[DenialFacts]:
    """list_denials' denials, with their claims' dates of service, as DenialFacts in denial id order."""
    columns = (
        col(Denial.id),
        col(Denial.claim_id),
        col(Denial.reported_claim_id),
        col(Denial.source),
        col(Denial.source_ref),
        col(Denial.payer_id),
        col(Denial.amount),
        col(Denial.category),
        col(Denial.owner),
        col(Denial.kind),
        col(Denial.appealable),
        col(Denial.assignee),
        col(Denial.denial_date),
        col(Denial.first_seen_at),
        col(Claim.dos_from),
        col(Claim.dos_to),
    )
    statement = sa_select(*columns).outerjoin(Claim, col(Claim.claim_id) == col(Denial.claim_id))
    if statuses:
        statement = statement.where(col(Denial.status).in_(statuses))
    if owner:
        statement = statement.where(col(Denial.owner) == owner)
    return [DenialFacts(*row) for row in session.execute(statement.order_by(col(Denial.id)))]


def denials_by_id(session: Session, ids: Iterable[int]) -> dict[int, Denial]:
    found: dict[int, Denial] = {}
    for chunk in in_chunks(ids):
        found.update((d.id, d) for d in session.exec(select(Denial).where(col(Denial.id).in_(chunk))) if d.id)
    return found


def history(session: Session, denial_id: int) -> list[DenialEvent]:
    statement = select(DenialEvent).where(DenialEvent.denial_id == denial_id).order_by(col(DenialEvent.id))
    return list(session.exec(statement))


def appeals_filed(session: Session, denial_id: int) -> int:
    return sum(1 for event in history(session, denial_id) if event.status == "appealed")


def appeals_filed_by_denial(session: Session, denial_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Appeals filed per denial, for every denial (or those of `denial_ids`) with at least one: one query per
    chunk, where a worklist of 5,000 denials asking appeals_filed one by one took seconds."""
    statement = (
        select(DenialEvent.denial_id, func.count())
        .where(DenialEvent.status == "appealed")
        .group_by(col(DenialEvent.denial_id))
    )
    if denial_ids is None:
        return dict(session.exec(statement).all())
    found: dict[int, int] = {}
    for chunk in in_chunks(denial_ids):
        found.update(session.exec(statement.where(col(DenialEvent.denial_id).in_(chunk))).all())
    return found


def era_file_known(session: Session, sha256: str) -> bool:
    return session.exec(select(EraFile.id).where(EraFile.sha256 == sha256)).first() is not None


def imported_era_ids(session: Session, source: str) -> set[str]:
    return set(session.exec(select(EraFile.file_id).where(EraFile.source == source)))


def add_era_file(session: Session, era_file: EraFile) -> int:
    session.add(era_file)
    session.flush()
    assert era_file.id is not None
    return era_file.id


def add_era_claim(session: Session, era_claim: EraClaim) -> None:
    session.add(era_claim)


def add_era_provider_adjustment(session: Session, adjustment: EraProviderAdjustment) -> None:
    session.add(adjustment)


def set_claim_state_from_era(
    session: Session,
    claim: Claim,
    status: str,
    paid: Decimal,
    payer_claim_number: str | None,
    status_text: str,
    at: datetime,
) -> None:
    """What an ERA says of a claim becomes its latest status; `last_checked_at` stays the portal's."""
    if claim.status != status:
        claim.status, claim.status_changed_at = status, at
    claim.paid_amount, claim.status_text = paid, status_text
    claim.payer_claim_number = payer_claim_number or claim.payer_claim_number
    session.add(claim)


def era_claims_for(session: Session, reported_claim_ids: Iterable[str]) -> dict[str, EraClaim]:
    """The newest ERA claim of each claim id (as the payer sent it)."""
    ids = sorted(set(reported_claim_ids))
    if not ids:
        return {}
    statement = select(EraClaim).where(col(EraClaim.reported_claim_id).in_(ids)).order_by(col(EraClaim.id))
    return {era_claim.reported_claim_id: era_claim for era_claim in session.exec(statement)}


def era_warnings(session: Session) -> list[tuple[str, list[dict[str, Any]]]]:
    """(file id, its balancing warnings) of every imported ERA that had any."""
    rows = session.exec(select(EraFile.file_id, EraFile.warnings).order_by(col(EraFile.id)))
    return [(file_id, list(warnings)) for file_id, warnings in rows if warnings]


def unmatched_era_claims(session: Session) -> list[EraClaim]:
    return list(session.exec(select(EraClaim).where(col(EraClaim.claim_id).is_(None)).order_by(col(EraClaim.id))))


def attach_reported_claims(session: Session, claims: dict[str, str]) -> int:
    """Link ERA claims and denials kept as unmatched to claims now in the store (claim id -> payer id)."""
    if not claims:
        return 0
    linked = 0
    unmatched = select(Denial).where(col(Denial.claim_id).is_(None), col(Denial.reported_claim_id).in_(list(claims)))
    for denial in session.exec(unmatched):
        denial.claim_id = denial.reported_claim_id
        denial.payer_id = denial.payer_id or claims[denial.reported_claim_id]
        session.add(denial)
        linked += 1
    era_claims = select(EraClaim).where(
        col(EraClaim.claim_id).is_(None), col(EraClaim.reported_claim_id).in_(list(claims))
    )
    for era_claim in session.exec(era_claims):
        era_claim.claim_id = era_claim.reported_claim_id
        session.add(era_claim)
    return linked
