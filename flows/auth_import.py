"""Read the practice-management prior-authorization export (CSV) and import it all or not at all.

Validation is flows.csv_rows (every problem listed, nothing written, no PHI echoed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.csv_rows import (
    BadValue,
    Column,
    CsvTable,
    not_before,
    parse_count,
    parse_date,
    parse_npi,
    parse_procedure_codes,
    read_table,
)
from flows.input_bounds import import_day
from store.authorizations import upsert_authorizations
from store.claims import ImportCounts
from store.db import session_scope


@dataclass(frozen=True)
class AuthRecord:
    """One prior authorization as the practice recorded it."""

    auth_number: str
    payer_id: str
    member_id: str = field(repr=False)
    patient_name: str = field(repr=False)
    servicing_npi: str
    procedure_codes: tuple[str, ...]
    units_approved: int
    start_date: date
    end_date: date
    scheduled_date: date | None = None


def _at_least_one_code(value: str) -> tuple[str, ...]:
    codes = parse_procedure_codes(value)
    if not codes:
        raise BadValue("has no procedure codes (an authorization approves at least one)")
    return codes


AUTHS = CsvTable(
    noun="authorizations",
    columns=(
        Column("auth_number", echo=True),
        Column("payer_id", echo=True),
        Column("member_id"),
        Column("patient_name"),
        Column("servicing_npi", parse_npi, echo=True),
        Column("procedure_codes", _at_least_one_code, echo=True),
        Column("units_approved", parse_count, echo=True),
        Column("start_date", parse_date),
        Column("end_date", parse_date),
        Column("scheduled_date", parse_date, required=False),
    ),
    key="auth_number",
    build=AuthRecord,
    checks=(not_before("end_date", "start_date"),),
)


def import_auths_file(engine: Engine, path: Path, now: datetime) -> ImportCounts:
    """Validate the whole file, then write it in one transaction (ImportRejected: nothing written)."""
    rows = read_table(path, AUTHS, import_day(now))
    with session_scope(engine) as session:
        return upsert_authorizations(session, rows.records, now, keep=rows.absent)


def read_auths_csv(path: Path, today: date | None = None) -> list[AuthRecord]:
    """Every authorization in the file, or ImportRejected listing every problem in it."""
    return read_table(path, AUTHS, today or date.today()).records
