"""The practice's rendering providers (PM system or credentialing file): import (upsert) and look-ups."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Protocol

from sqlmodel import Session, col, select

from store.claims import ImportCounts, upsert_pm_records
from store.models import Provider
from store.pages import Page, page_of

PM_FIELDS = ("name", "caqh_attested_date")


class ProviderRecordLike(Protocol):
    """A provider row from the practice's file (flows.provider_import.ProviderRecord fits)."""

    @property
    def npi(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def caqh_attested_date(self) -> date | None: ...


def upsert_providers(
    session: Session, records: Sequence[ProviderRecordLike], now: datetime, keep: Collection[str] = ()
) -> ImportCounts:
    """Insert new providers and refresh changed fields, in the caller's transaction.

    `keep`: fields the file did not carry; a known provider keeps what is stored for them.
    """
    return upsert_pm_records(session, Provider, "npi", PM_FIELDS, records, now, keep)


def list_providers(session: Session) -> list[Provider]:
    """Every provider, ordered by NPI."""
    return list(session.exec(select(Provider).order_by(col(Provider.npi))).all())


def providers_page(session: Session, limit: int, offset: int) -> Page[Provider]:
    """One page of the providers, ordered by NPI, and how many there are."""
    return page_of(session, select(Provider).order_by(col(Provider.npi)), limit, offset)


def get_provider(session: Session, npi: str) -> Provider | None:
    return session.get(Provider, npi)
