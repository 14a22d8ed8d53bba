"""Queueing prior-authorization requests: one from the command line or the workspace, or a CSV of them.

Every field is checked the way the CSV imports check theirs (flows.csv_rows: dates within bounds,
an NPI with its check digit, CPT/HCPCS codes), plus ICD-10-CM diagnosis codes and attachments that
exist and are PDF files. A file is queued all or nothing. The same request (payer, member, codes and
dates) queued twice stays one request: the second time says which one it already is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.auth_requests import RequestProblem, queue_request, sync_request_findings
from flows.csv_rows import (
    BadValue,
    Column,
    CsvTable,
    ImportRejected,
    not_before,
    parse_date,
    parse_npi,
    parse_procedure_codes,
    read_table,
)
from flows.input_bounds import date_problem, import_day, units_problem
from store import auth_requests as requests_store
from store.db import session_scope
from store.models import AuthRequestRow

ICD10 = re.compile(r"[A-TV-Z]\d[0-9A-Z](\.?[0-9A-Z]{1,4})?")
REQUEST_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{2,19}")
PDF_MAGIC = b"%PDF-"
EARLIEST_BIRTH = date(1900, 1, 1)


def parse_birth_date(value: str) -> str:
    """A date of birth, as ISO text: the import bounds for service dates (from 2000, a year ahead) do not
    apply, so it is not handed back as a date; a birthday in the future or before 1900 is a typo."""
    born = parse_date(value)
    if not EARLIEST_BIRTH <= born <= date.today():
        raise BadValue("is not a date of birth (between 1900 and today)")
    return born.isoformat()


def parse_units(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise BadValue("is not a number of units (a whole number from 1)")
    too_many = units_problem(value)
    if too_many:
        raise BadValue(too_many)
    return int(value)


def parse_diagnoses(value: str) -> tuple[str, ...]:
    codes = tuple(code.strip().upper() for code in re.split(r"[;,]", value) if code.strip())
    if not codes:
        raise BadValue("has no diagnosis codes")
    if not all(ICD10.fullmatch(code) for code in codes):
        raise BadValue("is not a list of ICD-10-CM codes (e.g. M54.50; separate several with ';')")
    return codes


def parse_codes(value: str) -> tuple[str, ...]:
    codes = parse_procedure_codes(value)
    if not codes:
        raise BadValue("has no procedure codes (a request asks for at least one)")
    return codes


def parse_request_id(value: str) -> str:
    if not REQUEST_ID.fullmatch(value.upper()):
        raise BadValue("is not a request id (3 to 20 letters, digits and '-')")
    return value.upper()


def attachment_parser(base: Path) -> Any:
    """PDF files separated by ';', relative to `base`: each must exist and start as a PDF does."""

    def parse(value: str) -> tuple[str, ...]:
        paths = []
        pieces = [piece.strip() for piece in value.split(";") if piece.strip()]
        for n, piece in enumerate(pieces, start=1):
            path = (base / Path(piece).expanduser()).resolve()
            if not path.is_file():
                raise BadValue(f"attachment {n} of {len(pieces)} does not exist")
            with path.open("rb") as handle:
                if handle.read(len(PDF_MAGIC)) != PDF_MAGIC:
                    raise BadValue(f"attachment {n} of {len(pieces)} is not a PDF file")
            paths.append(str(path))
        return tuple(paths)

    return parse


@dataclass(frozen=True)
class RequestRecord:
    """One request as staff typed or exported it, checked."""

    request_id: str | None
    payer_id: str
    member_id: str = field(repr=False)
    date_of_birth: str = field(repr=False)  # ISO, see parse_birth_date
    servicing_npi: str
    procedure_codes: tuple[str, ...]
    units: int
    start_date: date
    end_date: date
    diagnosis_codes: tuple[str, ...]
    attachments: tuple[str, ...] = ()


def request_table(base: Path) -> CsvTable[RequestRecord]:
    return CsvTable(
        noun="prior-authorization requests",
        columns=(
            Column("request_id", parse_request_id, required=False, echo=True),
            Column("payer_id", str.upper, echo=True),
            Column("member_id"),
            Column("date_of_birth", parse_birth_date),
            Column("servicing_npi", parse_npi, echo=True),
            Column("procedure_codes", parse_codes, echo=True),
            Column("units", parse_units, echo=True),
            Column("start_date", parse_date),
            Column("end_date", parse_date),
            Column("diagnosis_codes", parse_diagnoses),
            Column("attachments", attachment_parser(base), required=False, blank=()),
        ),
        key="request_id",
        build=RequestRecord,
        checks=(not_before("end_date", "start_date"),),
    )


def check_fields(values: Mapping[str, str], today: date, base: Path, names: Mapping[str, str]) -> RequestRecord:
    """One request's fields as typed (CLI options, a workspace form), checked like a CSV row; every problem
    named by `names[field]` (the option or the label) in one RequestProblem, nothing PHI repeated."""
    table = request_table(base)
    parsed: dict[str, Any] = {}
    problems = []
    for column in table.columns:
        text = values.get(column.name, "").strip()
        if not text:
            if column.required:
                problems.append(f"{names.get(column.name, column.name)}: is empty")
            else:
                parsed[column.name] = column.blank
            continue
        try:
            parsed[column.name] = column.parse(text)
        except BadValue as bad:
            shown = f"{bad.part or text} {bad.reason}" if column.echo else bad.reason
            problems.append(f"{names.get(column.name, column.name)}: {shown}")
            continue
        if isinstance(parsed[column.name], date) and (far := date_problem(parsed[column.name], today)):
            problems.append(f"{names.get(column.name, column.name)}: {far}")
            del parsed[column.name]
    for check in table.checks:
        for name, reason in check(parsed):
            for field_name, shown in names.items():  # "is before start_date" as the person saw the field
                reason = reason.replace(field_name, shown)
            problems.append(f"{names.get(name, name)}: {reason}")
    if problems:
        raise RequestProblem("; ".join(problems))
    return RequestRecord(**parsed)


@dataclass(frozen=True)
class Queued:
    request_id: str
    new: bool  # False: the same request was queued or submitted already


def queue_records(session: Session, records: list[RequestRecord], by: str, now: datetime) -> list[Queued]:
    """Queue each record in the caller's transaction (a record that repeats one already there is not queued)."""
    queued = []
    for record in records:
        row = _row(record, by, now)
        kept = queue_request(session, row)
        queued.append(Queued(kept.request_id, kept is row))
    return queued


def queue_file(engine: Engine, path: Path, by: str, now: datetime) -> list[Queued]:
    """Check the whole file (ImportRejected: nothing queued), then queue every row."""
    rows = read_table(path, request_table(path.resolve().parent), import_day(now))
    clashes = []
    with session_scope(engine) as session:
        for record in rows.records:
            known = requests_store.get_request(session, record.request_id) if record.request_id else None
            if known is not None and known.content_key != requests_store.content_key(_row(record, by, now)):
                clashes.append(known.request_id)
    if clashes:
        raise RequestProblem(
            f"{path.name}: request id(s) {', '.join(clashes)} already name other requests; nothing was queued"
        )
    with session_scope(engine) as session:  # one transaction: the whole file or nothing
        return queue_records(session, rows.records, by, now)


def requeue(engine: Engine, request_id: str, changes: Mapping[str, Any], now: datetime) -> AuthRequestRow:
    """A refused request, corrected, queued again (its finding resolves). Only refused requests: the others
    are in the worker's hands or done."""
    with session_scope(engine) as session:
        row = requests_store.get_request(session, request_id)
        if row is None:
            raise RequestProblem(f"no prior-authorization request {request_id}")
        if row.state != "refused":
            raise RequestProblem(f"request {request_id} is {row.state}: only a refused request is queued again")
        row = requests_store.requeue(session, request_id, now, **changes)
        sync_request_findings(session, now)
        return row


def _row(record: RequestRecord, by: str, now: datetime) -> AuthRequestRow:
    return AuthRequestRow(
        request_id=record.request_id or f"PA-{secrets.token_hex(4).upper()}",
        payer_id=record.payer_id,
        member_id=record.member_id.upper(),
        date_of_birth=date.fromisoformat(record.date_of_birth),
        servicing_npi=record.servicing_npi,
        procedure_codes=list(record.procedure_codes),
        units=record.units,
        start_date=record.start_date,
        end_date=record.end_date,
        diagnosis_codes=list(record.diagnosis_codes),
        attachments=list(record.attachments),
        queued_by=by,
        queued_at=now,
        updated_at=now,
    )


__all__ = ["ImportRejected", "RequestProblem", "check_fields", "queue_file", "queue_records", "requeue"]
