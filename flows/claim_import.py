"""Read the practice-management claims export (CSV) and import it all or not at all.

Validation is flows.csv_rows: every problem is listed before anything is written,
and problem texts never repeat a member id, a patient name or a date (PHI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.csv_rows import (
    Column,
    CsvTable,
    ImportProblem,
    ImportRejected,
    not_before,
    parse_amount,
    parse_date,
    parse_npi,
    parse_procedure_codes,
    read_table,
)
from flows.input_bounds import import_day
from store.claims import ImportCounts, upsert_claims
from store.db import session_scope
from store.denials import attach_reported_claims

__all__ = ["ClaimRecord", "ImportProblem", "ImportRejected", "import_claims_file", "read_claims_csv"]


@dataclass(frozen=True)
class ClaimRecord:
    """One claim as the practice-management system exported it."""

    claim_id: str
    payer_id: str
    member_id: str = field(repr=False)
    patient_name: str = field(repr=False)
    dos_from: date
    dos_to: date
    billed_amount: Decimal
    submitted_date: date
    rendering_npi: str
    procedure_codes: tuple[str, ...] = ()
    prior_auth_number: str | None = None


CLAIMS = CsvTable(
    noun="claims",
    columns=(
        Column("claim_id", echo=True),
        Column("payer_id", echo=True),
        Column("member_id"),
        Column("patient_name"),
        Column("dos_from", parse_date),
        Column("dos_to", parse_date),
        Column("billed_amount", parse_amount, echo=True),
        Column("submitted_date", parse_date),
        Column("rendering_npi", parse_npi, echo=True),
        Column("procedure_codes", parse_procedure_codes, required=False, blank=(), echo=True),
        Column("prior_auth_number", required=False, echo=True),
    ),
    key="claim_id",
    build=ClaimRecord,
    checks=(
        not_before("dos_to", "dos_from"),
        not_before("submitted_date", "dos_from", "a claim is submitted after the service"),
    ),
)


def import_claims_file(engine: Engine, path: Path, now: datetime) -> ImportCounts:
    """Validate the whole file, then write it in one transaction (ImportRejected: nothing written)."""
    rows = read_table(path, CLAIMS, import_day(now))
    with session_scope(engine) as session:
        counts = upsert_claims(session, rows.records, now, keep=rows.absent)
        # an ERA may have reported these claims before the practice exported them
        attach_reported_claims(session, {r.claim_id: r.payer_id for r in rows.records})
        return counts


def read_claims_csv(path: Path, today: date | None = None) -> list[ClaimRecord]:
    """Every claim in the file, or ImportRejected listing every problem in it."""
    return read_table(path, CLAIMS, today or date.today()).records
