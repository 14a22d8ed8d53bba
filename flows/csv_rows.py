"""All-or-nothing reading of the CSV files a practice-management system exports.

One importer describes its file as a `CsvTable` (columns, key, cross-column checks,
the record it builds); `read_table` reads the whole file, collects every problem
before anything is written, and raises ImportRejected when there is any.

PHI rule: a problem text shows a cell's value only when its column says
`echo=True` (ids, payer ids, amounts, NPIs, procedure codes, unit counts). Member
ids, patient names and dates are never repeated, so the rejection can be shown,
logged and pasted into a ticket as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from flows.input_bounds import control_character_problem, date_problem, money_problem, units_problem

R = TypeVar("R")

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
# 1234.50, 1,234.50, $1,234.50 and -12.00 (rejected later as negative, with a clear reason)
AMOUNT = re.compile(r"^(?P<sign>-)?\$?(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d+))?$")
# CPT (99213), HCPCS Level II (J1100) and CPT Category II/III (3074F, 0042T)
PROCEDURE_CODE = re.compile(r"\d{5}|[A-Z]\d{4}|\d{4}[FTU]")
NPI_PREFIX = "80840"  # the health-industry prefix the NPI check digit is computed over
MAX_PROBLEMS_SHOWN = 50
DELIMITER_NAMES = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


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
        if count == 1:
            return str(self.problems[0])  # one line: an unreadable file, a foreign delimiter, one bad cell
        file = self.problems[0].file if self.problems else "the file"
        lines = [f"{file}: nothing was imported; {count} problem{'s' if count != 1 else ''} to fix:"]
        lines += [f"  {problem}" for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        if count > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {count - MAX_PROBLEMS_SHOWN} more")
        return "\n".join(lines)


class BadValue(ValueError):
    """A cell parser's complaint. `reason` reads after the value ("is negative"); `part` is the
    piece of the cell at fault when not all of it (one code of several)."""

    def __init__(self, reason: str, part: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.part = part


Parser = Callable[[str], Any]
# Given the row's parsed values, yields (column, reason) for what is wrong between columns.
RowCheck = Callable[[dict[str, Any]], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser = str
    required: bool = True  # False: the header may lack it and a cell may be blank (-> `blank`)
    blank: Any = None
    echo: bool = False  # True only for values that are safe to repeat in a problem text (never PHI)
    bounded: bool = True  # False: a date the parser bounds itself (a date of birth is before 2000)


@dataclass(frozen=True)
class CsvTable(Generic[R]):
    """What one kind of export looks like, and the record each row becomes."""

    noun: str  # plural, for messages: "claims", "authorizations"
    columns: tuple[Column, ...]
    key: str  # the column no two rows may share
    build: Callable[..., R]  # called with every column's value as a keyword
    checks: tuple[RowCheck, ...] = ()


@dataclass(frozen=True)
class TableRows(Generic[R]):
    records: list[R]
    absent: frozenset[str]  # optional columns the header lacks: an import keeps what it stored for them


def read_table(path: Path, table: CsvTable[R], today: date) -> TableRows[R]:
    """Every record in the file, or ImportRejected listing every problem in it. `today` bounds the
    dates a row may hold (flows.input_bounds)."""
    text, problem = _read_text(path)
    if problem:
        raise ImportRejected([problem])
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportRejected([ImportProblem(path.name, 0, None, f"is not a readable CSV file ({exc})")]) from None
    if not any(_has_values(row) for row in rows):
        raise ImportRejected(
            [ImportProblem(path.name, 1, None, f"the file is empty (expected a header row and {table.noun})")]
        )
    delimiter = _foreign_delimiter(rows[0], table)
    if delimiter:
        raise ImportRejected(
            [
                ImportProblem(
                    path.name,
                    1,
                    None,
                    f"the columns are separated by {delimiter}, not commas; "
                    'export the file again as comma-separated values ("CSV")',
                )
            ]
        )
    return _TableReader(path.name, table, today).read(rows)


# --- cell parsers: each returns the value or raises BadValue -------------------------------


def parse_date(value: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BadValue("is not a date (expected YYYY-MM-DD or MM/DD/YYYY)")


def parse_amount(value: str) -> Decimal:
    """A positive amount of money with at most two decimals."""
    match = AMOUNT.match(value)
    if not match:
        raise BadValue("is not an amount (expected a number like 125.00)")
    cents = match["cents"] or ""
    if len(cents) > 2:
        raise BadValue("has more than 2 decimal places")
    whole = match["whole"].replace(",", "")
    too_large = money_problem(whole)
    if too_large:
        raise BadValue(too_large)
    amount = Decimal(f"{match['sign'] or ''}{whole}.{cents.ljust(2, '0')}")
    if amount < 0:
        raise BadValue("is negative")
    if amount == 0:
        raise BadValue("is zero")
    return amount


def parse_count(value: str) -> int:
    """A count of units, zero to flows.input_bounds.MAX_UNITS."""
    if re.fullmatch(r"-\d+", value):
        raise BadValue("is negative")
    if not re.fullmatch(r"\d+", value):
        raise BadValue("is not a whole number")
    too_many = units_problem(value)
    if too_many:
        raise BadValue(too_many)
    return int(value)


def parse_npi(value: str) -> str:
    if not re.fullmatch(r"\d{10}", value):
        raise BadValue("is not an NPI (expected 10 digits)")
    if npi_check_digit(value[:9]) != value[9]:
        raise BadValue("is not a valid NPI (its check digit is wrong)")
    return value


def parse_procedure_codes(value: str) -> tuple[str, ...]:
    """Semicolon-separated CPT/HCPCS codes, in the file's order (empty pieces from a stray ';' ignored)."""
    codes = tuple(code.strip().upper() for code in value.split(";") if code.strip())
    for code in codes:
        if not PROCEDURE_CODE.fullmatch(code):
            raise BadValue("is not a procedure code (expected a CPT or HCPCS code like 99213 or J1100)", part=code)
    return codes


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


def not_before(later: str, earlier: str, why: str = "") -> RowCheck:
    """A row check: the date in `later` may not be before the date in `earlier`."""

    def check(values: dict[str, Any]) -> Iterable[tuple[str, str]]:
        first, second = values.get(earlier), values.get(later)
        if first is not None and second is not None and second < first:
            yield later, f"is before {earlier}{f' ({why})' if why else ''}"

    return check


# --- the walk over the rows -----------------------------------------------------------------


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
        return "", ImportProblem(
            path.name, row, None, 'is not UTF-8 text (save the export as "CSV UTF-8"); nothing was read'
        )


def _has_values(row: list[str]) -> bool:
    return any(value.strip() for value in row)


def _foreign_delimiter(header: list[str], table: CsvTable[Any]) -> str | None:
    """How the header is separated when it is not by commas (a spreadsheet's locale, a tab export):
    said once, instead of every column reported missing."""
    known = {column.name for column in table.columns}
    if len(known & {name.strip().lower() for name in header}) > 1:
        return None
    line = ",".join(header)
    for delimiter, words in DELIMITER_NAMES.items():
        if len(known & {name.strip().lower() for name in line.split(delimiter)}) > 1:
            return words
    return None


class _TableReader(Generic[R]):
    """Walks the rows once, collecting records and problems."""

    def __init__(self, file: str, table: CsvTable[R], today: date) -> None:
        self.file = file
        self.table = table
        self.today = today
        self.columns = {column.name: column for column in table.columns}
        self.in_file_order = list(table.columns)
        self.problems: list[ImportProblem] = []
        self.first_row_of: dict[Any, int] = {}

    def read(self, rows: list[list[str]]) -> TableRows[R]:
        header = [name.strip().lower() for name in rows[0]]
        positions = self._column_positions(header)
        # problems read left to right, as the person fixing the spreadsheet sees the columns
        self.in_file_order.sort(key=lambda column: positions.get(column.name, len(header)))
        records: list[R] = []
        for row_number, values in enumerate(rows[1:], start=2):
            if not _has_values(values):
                continue  # blank lines at the end of spreadsheet exports
            if len(values) > len(header):
                self._problem(row_number, None, f"has {len(values)} values but the header has {len(header)} columns")
                continue
            cells = {name: values[i].strip() if i < len(values) else "" for name, i in positions.items()}
            record = self._record(row_number, cells)
            if record is not None:
                records.append(record)
        if not records and not self.problems:
            self._problem(2, None, f"there are no {self.table.noun} after the header row")
        if self.problems:
            raise ImportRejected(self.problems)
        return TableRows(records, frozenset(self.columns) - frozenset(positions))

    def _column_positions(self, header: list[str]) -> dict[str, int]:
        positions: dict[str, int] = {}
        for i, name in enumerate(header):
            if name not in self.columns:
                continue  # extra columns from the PM system are ignored
            if name in positions:
                self._problem(1, name, "this column appears more than once")
            else:
                positions[name] = i
        for column in self.table.columns:
            if column.required and column.name not in positions:
                self._problem(1, column.name, "required column is missing from the header")
        return positions

    def _record(self, row: int, cells: dict[str, str]) -> R | None:
        values: dict[str, Any] = {}
        for column in self.in_file_order:
            if column.required and column.name not in cells:
                continue  # already reported on the header row
            value = cells.get(column.name, "")
            garbled = control_character_problem(value)
            if garbled:
                self._problem(row, column.name, garbled)
                continue
            if not value:
                if column.required:
                    self._problem(row, column.name, "is empty")
                else:
                    values[column.name] = column.blank
                continue
            try:
                values[column.name] = parsed = column.parse(value)
            except BadValue as bad:
                self._problem(row, column.name, self._say(column, bad.part or value, bad.reason))
                continue
            if isinstance(parsed, date) and column.bounded:
                far = date_problem(parsed, self.today)
                if far:
                    self._problem(row, column.name, far)
                    del values[column.name]  # no "is before" on top: one problem per bad cell
        for check in self.table.checks:
            for name, reason in check(values):
                self._problem(row, name, reason)
        self._check_duplicate(row, values.get(self.table.key))
        if self.problems:
            return None  # nothing will be imported; from here on only the problems matter
        return self.table.build(**values)

    def _check_duplicate(self, row: int, key: Any) -> None:
        if key is None:
            return
        first = self.first_row_of.setdefault(key, row)
        if first != row:
            column = self.columns[self.table.key]
            repeated = f"appears more than once (rows {first} and {row})"
            self._problem(row, column.name, self._say(column, str(key), repeated))

    @staticmethod
    def _say(column: Column, value: str, reason: str) -> str:
        return f"{value} {reason}" if column.echo else reason

    def _problem(self, row: int, column: str | None, message: str) -> None:
        self.problems.append(ImportProblem(self.file, row, column, message))
