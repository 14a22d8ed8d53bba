"""Read the practice's provider list (CSV) and import it all or not at all.

Validation is flows.csv_rows (every problem listed, nothing written).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from flows.csv_rows import Column, CsvTable, RowCheck, parse_date, parse_npi, read_table
from flows.input_bounds import import_day
from store.claims import ImportCounts
from store.db import session_scope
from store.providers import upsert_providers


@dataclass(frozen=True)
class ProviderRecord:
    """One rendering provider of the practice."""

    npi: str
    name: str
    caqh_attested_date: date | None = None


def _attested_by(today: date) -> RowCheck:
    def check(values: dict[str, Any]) -> Iterable[tuple[str, str]]:
        attested = values.get("caqh_attested_date")
        if attested is not None and attested > today:
            yield "caqh_attested_date", "is in the future (a CAQH attestation cannot be after today)"

    return check


def providers_table(today: date) -> CsvTable[ProviderRecord]:
    return CsvTable(
        noun="providers",
        columns=(
            Column("npi", parse_npi, echo=True),
            Column("name"),
            Column("caqh_attested_date", parse_date, required=False),
        ),
        key="npi",
        build=ProviderRecord,
        checks=(_attested_by(today),),
    )


def import_providers_file(engine: Engine, path: Path, now: datetime) -> ImportCounts:
    """Validate the whole file, then write it in one transaction (ImportRejected: nothing written)."""
    today = import_day(now)
    rows = read_table(path, providers_table(today), today)
    with session_scope(engine) as session:
        return upsert_providers(session, rows.records, now, keep=rows.absent)


def read_providers_csv(path: Path, today: date | None = None) -> list[ProviderRecord]:
    """Every provider in the file, or ImportRejected listing every problem in it."""
    day = today or date.today()
    return read_table(path, providers_table(day), day).records
