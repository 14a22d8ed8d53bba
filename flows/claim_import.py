"""Read the practice-management claims export (CSV) and import it all or not at all.

Every problem in the file is collected before anything is written, so the person
fixing the export sees the whole list at once. Problem texts never repeat a member
id, a patient name or a date from the file (PHI); the claim id, payer id, amount
and NPI are safe to show and make the row easy to find.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from store.claims import ImportCounts, upsert_claims
from store.db import session_scope

REQUIRED_COLUMNS = (
    "claim_id",
    "payer_id",
    "member_id",
    "patient_name",
    "dos_from",
    "dos_to",
    "billed_amount",
    "submitted_date",
    "rendering_npi",
)
DATE_COLUMNS = ("dos_from", "dos_to", "submitted_date")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
NOT_A_DATE = "is not a date (expected YYYY-MM-DD or MM/DD/YYYY)"
CENT = Decimal("0.01")
# 1234.50, 1,234.50, $1,234.50 and -12.00 (rejected later as negative, with a clear reason)
AMOUNT = re.compile(r"^(?P<sign>-)?\$?(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d+))?$")
NPI_PREFIX = "80840"  # the health-industry prefix the NPI check digit is computed over
MAX_PROBLEMS_SHOWN = 50


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


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong in the file. `row` counts as a spreadsheet does (header = 1; 0 = the whole file)."""

    file: str
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class ImportRejected(Exception):
    """The file was not imported; `problems` says everything that has to be fixed first."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__(self._describe())

    def _describe(self) -> str:
        count = len(self.problems)
        file = self.problems[0].file if self.problems else "claims file"
        lines = [f"{file}: nothing was imported; {count} problem{'s' if count != 1 else ''} to fix:"]
        lines += [f"  {problem}" for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        if count > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {count - MAX_PROBLEMS_SHOWN} more")
        return "\n".join(lines)


def import_claims_file(engine: Engine, path: Path, now: datetime) -> ImportCounts:
    """Validate the whole file, then write it in one transaction (ImportRejected: nothing written)."""
    records = read_claims_csv(path)
    with session_scope(engine) as session:
        return upsert_claims(session, records, now)


def read_claims_csv(path: Path) -> list[ClaimRecord]:
    """Every claim in the file, or ImportRejected listing every problem in it."""
    name = path.name
    text, problem = _read_text(path)
    if problem:
        raise ImportRejected([problem])
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportRejected([ImportProblem(name, 0, None, f"is not a readable CSV file ({exc})")]) from None
    if not any(_has_values(row) for row in rows):
        raise ImportRejected([ImportProblem(name, 1, None, "the file is empty (expected a header row and claims)")])
    return _RowChecker(name, rows).records()


def _read_text(path: Path) -> tuple[str, ImportProblem | None]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return "", ImportProblem(path.name, 0, None, f"cannot be read ({reason.lower()})")
    try:
        return raw.decode("utf-8-sig"), None  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        return "", ImportProblem(path.name, row, None,
                                 "is not UTF-8 text (save the export as \"CSV UTF-8\"); nothing was read")


def _has_values(row: list[str]) -> bool:
    return any(value.strip() for value in row)


def _parse_date(value: str) -> tuple[date | None, str | None]:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date(), None
        except ValueError:
            continue
    return None, NOT_A_DATE


def _parse_amount(value: str) -> tuple[Decimal | None, str | None]:
    match = AMOUNT.match(value)
    if not match:
        return None, f"{value} is not an amount (expected a number like 125.00)"
    cents = match["cents"] or ""
    if len(cents) > 2:
        return None, f"{value} has more than 2 decimal places"
    amount = Decimal(f"{match['sign'] or ''}{match['whole'].replace(',', '')}.{cents or '0'}").quantize(CENT)
    if amount < 0:
        return None, f"{value} is negative"
    if amount == 0:
        return None, f"{value} is zero"
    return amount, None


def _parse_npi(value: str) -> tuple[str | None, str | None]:
    if not re.fullmatch(r"\d{10}", value):
        return None, f"{value} is not an NPI (expected 10 digits)"
    if npi_check_digit(value[:9]) != value[9]:
        return None, f"{value} is not a valid NPI (its check digit is wrong)"
    return value, None


def npi_check_digit(first9: str) -> str:
    """The NPI's tenth digit: Luhn over the 80840 prefix and the first nine digits."""
    total = 0
    for i, ch in enumerate(reversed(NPI_PREFIX + first9)):
        digit = int(ch)
        if i % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return str((10 - total % 10) % 10)


PARSERS: dict[str, Callable[[str], tuple[Any, str | None]]] = {
    "billed_amount": _parse_amount,
    "rendering_npi": _parse_npi,
    **{column: _parse_date for column in DATE_COLUMNS},
}


class _RowChecker:
    """Walks the rows once, collecting records and problems."""

    def __init__(self, file: str, rows: list[list[str]]) -> None:
        self.file = file
        self.rows = rows
        self.problems: list[ImportProblem] = []
        self.first_row_of: dict[str, int] = {}

    def records(self) -> list[ClaimRecord]:
        header = [column.strip().lower() for column in self.rows[0]]
        columns = self._column_positions(header)
        records: list[ClaimRecord] = []
        for row_number, values in enumerate(self.rows[1:], start=2):
            if not _has_values(values):
                continue  # blank lines at the end of spreadsheet exports
            if len(values) > len(header):
                self._problem(row_number, None,
                              f"has {len(values)} values but the header has {len(header)} columns")
                continue
            cells = {column: values[i].strip() if i < len(values) else "" for column, i in columns.items()}
            record = self._record(row_number, cells)
            if record is not None:
                records.append(record)
        if not records and not self.problems:
            self._problem(2, None, "there are no claims after the header row")
        if self.problems:
            raise ImportRejected(self.problems)
        return records

    def _column_positions(self, header: list[str]) -> dict[str, int]:
        positions: dict[str, int] = {}
        for i, column in enumerate(header):
            if column not in REQUIRED_COLUMNS:
                continue  # extra columns from the PM system are ignored
            if column in positions:
                self._problem(1, column, "this column appears more than once")
            else:
                positions[column] = i
        for column in REQUIRED_COLUMNS:
            if column not in positions:
                self._problem(1, column, "required column is missing from the header")
        return positions

    def _record(self, row: int, cells: dict[str, str]) -> ClaimRecord | None:
        before = len(self.problems)
        values: dict[str, Any] = {}
        for column, value in cells.items():
            if not value:
                self._problem(row, column, "is empty")
                continue
            parsed = self._parse(row, column, value)
            if parsed is not None:
                values[column] = parsed
        self._check_order(row, values)
        self._check_duplicate(row, values.get("claim_id"))
        if len(self.problems) > before or len(values) < len(REQUIRED_COLUMNS):
            return None
        return ClaimRecord(**values)

    def _parse(self, row: int, column: str, value: str) -> Any:
        parser = PARSERS.get(column)
        if parser is None:
            return value
        parsed, problem = parser(value)
        if problem:
            self._problem(row, column, problem)
        return parsed

    def _check_order(self, row: int, values: dict[str, Any]) -> None:
        dos_from = values.get("dos_from")
        if dos_from is None:
            return
        if "dos_to" in values and values["dos_to"] < dos_from:
            self._problem(row, "dos_to", "is before dos_from")
        if "submitted_date" in values and values["submitted_date"] < dos_from:
            self._problem(row, "submitted_date", "is before dos_from (a claim is submitted after the service)")

    def _check_duplicate(self, row: int, claim_id: str | None) -> None:
        if claim_id is None:
            return
        first = self.first_row_of.setdefault(claim_id, row)
        if first != row:
            self._problem(row, "claim_id", f"{claim_id} appears more than once (rows {first} and {row})")

    def _problem(self, row: int, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(self.file, row, column, message))
