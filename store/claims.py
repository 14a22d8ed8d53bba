"""Claims as the practice-management system sent them: import (upsert) and look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Protocol

from sqlmodel import Session, col, select

from store.models import Claim

# What the PM export owns; status fields belong to the worker and are never overwritten here.
PM_FIELDS = (
    "payer_id",
    "member_id",
    "patient_name",
    "dos_from",
    "dos_to",
    "billed_amount",
    "submitted_date",
    "rendering_npi",
)
LOOKUP_CHUNK = 500  # stay well under SQLite's bound-parameter limit


class ClaimRecordLike(Protocol):
    """A claim row from the PM export (flows.claim_import.ClaimRecord fits)."""

    @property
    def claim_id(self) -> str: ...
    @property
    def payer_id(self) -> str: ...
    @property
    def member_id(self) -> str: ...
    @property
    def patient_name(self) -> str: ...
    @property
    def dos_from(self) -> date: ...
    @property
    def dos_to(self) -> date: ...
    @property
    def billed_amount(self) -> Decimal: ...
    @property
    def submitted_date(self) -> date: ...
    @property
    def rendering_npi(self) -> str: ...


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int


def upsert_claims(session: Session, records: Sequence[ClaimRecordLike], now: datetime) -> ImportCounts:
    """Insert new claims and refresh changed PM fields, in the caller's transaction."""
    if now.tzinfo is None:
        raise ValueError("upsert_claims needs a timezone-aware `now`")
    now = now.astimezone(timezone.utc)
    known = _claims_by_id(session, [record.claim_id for record in records])
    inserted = updated = unchanged = 0
    for record in records:
        claim = known.get(record.claim_id)
        if claim is None:
            claim = Claim(claim_id=record.claim_id, imported_at=now, updated_at=now,
                          **{name: getattr(record, name) for name in PM_FIELDS})
            session.add(claim)
            known[record.claim_id] = claim
            inserted += 1
        elif _refresh(claim, record):
            claim.updated_at = now
            session.add(claim)
            updated += 1
        else:
            unchanged += 1
    session.flush()  # surface constraint errors here, inside the caller's transaction
    return ImportCounts(inserted=inserted, updated=updated, unchanged=unchanged)


def list_claims(
    session: Session,
    status: str | None = None,
    payer_id: str | None = None,
    claim_ids: Sequence[str] | None = None,
) -> list[Claim]:
    """Claims matching every filter given, ordered by claim id."""
    query = select(Claim)
    if status is not None:
        query = query.where(Claim.status == status)
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    if claim_ids is None:
        return list(session.exec(query.order_by(col(Claim.claim_id))).all())
    found: list[Claim] = []
    for chunk in _chunks(claim_ids):
        found.extend(session.exec(query.where(col(Claim.claim_id).in_(chunk))).all())
    return sorted(found, key=lambda claim: claim.claim_id)


def get_claim(session: Session, claim_id: str) -> Claim | None:
    return session.get(Claim, claim_id)


def _refresh(claim: Claim, record: ClaimRecordLike) -> bool:
    """Copy PM fields that differ onto `claim`; True when something changed."""
    changed = False
    for name in PM_FIELDS:
        new = getattr(record, name)
        if getattr(claim, name) != new:
            setattr(claim, name, new)
            changed = True
    return changed


def _claims_by_id(session: Session, claim_ids: Iterable[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for chunk in _chunks(claim_ids):
        for claim in session.exec(select(Claim).where(col(Claim.claim_id).in_(chunk))):
            found[claim.claim_id] = claim
    return found


def _chunks(claim_ids: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(claim_ids))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        yield unique[start:start + LOOKUP_CHUNK]
