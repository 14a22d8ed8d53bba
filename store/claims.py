"""Claims as the practice-management system sent them: import (upsert) and look-ups.

`upsert_pm_records` is the one upsert every practice-management import uses
(claims here, authorizations and providers in their own modules).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from store.models import Claim
from store.pages import Page, in_chunks, page_of

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
    "procedure_codes",
    "prior_auth_number",
)

Row = TypeVar("Row", bound=SQLModel)


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
    @property
    def procedure_codes(self) -> Sequence[str]: ...
    @property
    def prior_auth_number(self) -> str | None: ...


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int


def upsert_claims(
    session: Session, records: Sequence[ClaimRecordLike], now: datetime, keep: Collection[str] = ()
) -> ImportCounts:
    """Insert new claims and refresh changed PM fields, in the caller's transaction.

    `keep`: PM fields the file did not carry; a known claim keeps what is stored for them.
    """
    return upsert_pm_records(session, Claim, "claim_id", PM_FIELDS, records, now, keep)


def upsert_pm_records(
    session: Session,
    model: type[Row],
    key: str,
    fields: Sequence[str],
    records: Sequence[Any],
    now: datetime,
    keep: Collection[str] = (),
) -> ImportCounts:
    """Insert rows of `model` for new keys and copy changed `fields` onto known ones.

    `imported_at`/`updated_at` are stamped; other columns (what the worker saw on a
    portal) are never touched. Runs in the caller's transaction.
    """
    if now.tzinfo is None:
        raise ValueError("an import needs a timezone-aware `now`")
    now = now.astimezone(UTC)
    known = _rows_by_key(session, model, key, [getattr(record, key) for record in records])
    inserted = updated = unchanged = 0
    for record in records:
        number = getattr(record, key)
        row = known.get(number)
        if row is None:
            row = model(
                **{key: number},
                imported_at=now,
                updated_at=now,
                **{name: _stored(getattr(record, name)) for name in fields},
            )
            session.add(row)
            known[number] = row
            inserted += 1
        elif _refresh(row, record, [name for name in fields if name not in keep]):
            row.updated_at = now
            session.add(row)
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
    query = _claims_query(status, payer_id)
    if claim_ids is None:
        return list(session.exec(query.order_by(col(Claim.claim_id))).all())
    found: list[Claim] = []
    for chunk in in_chunks(claim_ids):
        found.extend(session.exec(query.where(col(Claim.claim_id).in_(chunk))).all())
    return sorted(found, key=lambda claim: claim.claim_id)


def claims_page(
    session: Session, limit: int, offset: int, status: str | None = None, payer_id: str | None = None
) -> Page[Claim]:
    """One page of the claims matching every filter, ordered by claim id, and how many match."""
    return page_of(session, _claims_query(status, payer_id).order_by(col(Claim.claim_id)), limit, offset)


def _claims_query(status: str | None, payer_id: str | None) -> SelectOfScalar[Claim]:
    query = select(Claim)
    if status is not None:
        query = query.where(Claim.status == status)
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    return query


def claim_payer_ids(session: Session) -> set[str]:
    """Every payer id the stored claims name (not every claim: there may be 50,000)."""
    return set(session.exec(select(Claim.payer_id).distinct()).all())


def get_claim(session: Session, claim_id: str) -> Claim | None:
    return session.get(Claim, claim_id)


def _stored(value: Any) -> Any:
    """Records carry tuples (immutable); JSON columns hold lists."""
    return list(value) if isinstance(value, tuple) else value


def _refresh(row: SQLModel, record: Any, fields: Iterable[str]) -> bool:
    """Copy fields that differ onto `row`; True when something changed."""
    changed = False
    for name in fields:
        new = _stored(getattr(record, name))
        if getattr(row, name) != new:
            setattr(row, name, new)
            changed = True
    return changed


def _rows_by_key(session: Session, model: type[Row], key: str, numbers: Iterable[str]) -> dict[str, Row]:
    column = col(getattr(model, key))
    found: dict[str, Row] = {}
    for chunk in in_chunks(numbers):
        for row in session.exec(select(model).where(column.in_(chunk))):
            found[getattr(row, key)] = row
    return found
