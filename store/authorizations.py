"""Prior authorizations as the practice-management system sent them: import (upsert) and look-ups.

The import owns the practice's fields only; what a portal said (status, units
used, dates and codes on the payer's side) belongs to the authorization flow.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Protocol

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from store.claims import ImportCounts, upsert_pm_records
from store.models import Authorization
from store.pages import Page, page_of

PM_FIELDS = (
    "payer_id",
    "member_id",
    "patient_name",
    "servicing_npi",
    "procedure_codes",
    "units_approved",
    "start_date",
    "end_date",
    "scheduled_date",
)


class AuthRecordLike(Protocol):
    """An authorization row from the PM export (flows.auth_import.AuthRecord fits)."""

    @property
    def auth_number(self) -> str: ...
    @property
    def payer_id(self) -> str: ...
    @property
    def member_id(self) -> str: ...
    @property
    def patient_name(self) -> str: ...
    @property
    def servicing_npi(self) -> str: ...
    @property
    def procedure_codes(self) -> Sequence[str]: ...
    @property
    def units_approved(self) -> int: ...
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def scheduled_date(self) -> date | None: ...


def upsert_authorizations(
    session: Session, records: Sequence[AuthRecordLike], now: datetime, keep: Collection[str] = ()
) -> ImportCounts:
    """Insert new authorizations and refresh changed PM fields, in the caller's transaction.

    `keep`: PM fields the file did not carry; a known authorization keeps what is stored for them.
    """
    return upsert_pm_records(session, Authorization, "auth_number", PM_FIELDS, records, now, keep)


def list_authorizations(
    session: Session, status: str | None = None, payer_id: str | None = None
) -> list[Authorization]:
    """Authorizations matching every filter given, ordered by number."""
    return list(session.exec(_authorizations_query(status, payer_id)).all())


def authorizations_page(
    session: Session, limit: int, offset: int, status: str | None = None, payer_id: str | None = None
) -> Page[Authorization]:
    """One page of the authorizations matching every filter, ordered by number, and how many match."""
    return page_of(session, _authorizations_query(status, payer_id), limit, offset)


def _authorizations_query(status: str | None, payer_id: str | None) -> SelectOfScalar[Authorization]:
    query = select(Authorization)
    if status is not None:
        query = query.where(Authorization.status == status)
    if payer_id is not None:
        query = query.where(Authorization.payer_id == payer_id)
    return query.order_by(col(Authorization.auth_number))


def get_authorization(session: Session, number: str) -> Authorization | None:
    return session.get(Authorization, number)
