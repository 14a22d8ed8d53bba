"""Read the practice-management schedule export (CSV) and import it all or not at all.

Validation is flows.csv_rows (every problem listed, nothing written, no PHI echoed: patient names,
dates of birth and member ids are never repeated in a problem).

A newer export replaces what an older one said about the days it covers (its first to its last
appointment date): an appointment moved to another day or time is updated, and one stored for a
covered day that the newer export no longer lists is marked cancelled (kept, never checked again,
its findings resolved). It is scheduled again if a later export lists it. Days the export does not
cover are left as they were, so a file of next week does not cancel this week.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.csv_rows import BadValue, Column, CsvTable, parse_date, parse_npi, parse_procedure_codes, read_table
from flows.input_bounds import import_day
from store.appointments import AppointmentImport, import_appointments
from store.db import session_scope

EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class AppointmentRecord:
    """One visit on the practice's schedule."""

    appointment_id: str
    appointment_date: date
    appointment_time: time
    patient_name: str = field(repr=False)
    date_of_birth: date = field(repr=False)
    member_id: str = field(repr=False)
    payer_id: str
    rendering_npi: str
    procedure_codes: tuple[str, ...]
    auth_number: str | None = None


def parse_time(value: str) -> time:
    """A time of day as the PM system writes it: HH:MM, 24-hour clock, the practice's local time."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise BadValue("is not a time of day (expected HH:MM on a 24-hour clock, like 09:30 or 14:15)")
    return time(int(match[1]), int(match[2]))


def _birth_date(today: date) -> Callable[[str], date]:
    def parse(value: str) -> date:
        born = parse_date(value)
        if born > today:
            raise BadValue("is in the future")
        if born < EARLIEST_BIRTH:
            raise BadValue(f"is before {EARLIEST_BIRTH.year}")
        return born

    return parse


def _at_least_one_code(value: str) -> tuple[str, ...]:
    codes = parse_procedure_codes(value)
    if not codes:
        raise BadValue("has no procedure codes (the planned service is what the payer is asked about)")
    return codes


def appointments_table(today: date) -> CsvTable[AppointmentRecord]:
    return CsvTable(
        noun="appointments",
        columns=(
            Column("appointment_id", echo=True),
            Column("appointment_date", parse_date),
            Column("appointment_time", parse_time, echo=True),
            Column("patient_name"),
            Column("date_of_birth", _birth_date(today), bounded=False),
            Column("member_id"),
            Column("payer_id", echo=True),
            Column("rendering_npi", parse_npi, echo=True),
            Column("procedure_codes", _at_least_one_code, echo=True),
            Column("auth_number", required=False, echo=True),
        ),
        key="appointment_id",
        build=AppointmentRecord,
    )


def import_appointments_file(engine: Engine, path: Path, now: datetime) -> AppointmentImport:
    """Validate the whole file, then write it in one transaction (ImportRejected: nothing written)."""
    rows = read_table(path, appointments_table(import_day(now)), import_day(now))
    with session_scope(engine) as session:
        return import_appointments(session, rows.records, now, keep=rows.absent)
