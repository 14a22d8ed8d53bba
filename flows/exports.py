"""Tables written as CSV or Excel, the same columns in both, so a spreadsheet or a PM system can take
them back: amounts and counts as numbers, dates as dates, each code in its own column.

A text cell that a spreadsheet would run as a formula (it starts with = + - @ or a tab) is written with a
leading apostrophe in CSV and as a plain string in Excel: exported claim data comes from portals and
imports, and must never execute on a billing clerk's machine."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as ExcelCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from flows.tables import Cell, Column, Kind, Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_FORMATS = {
    Kind.MONEY: "#,##0.00",
    Kind.COUNT: "0",
    Kind.NUMBER: "0.0",
    Kind.PERCENT: "0.0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}
SHEET_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def _text(value: object) -> str:
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_cell(value: Cell, kind: Kind, tz: tzinfo) -> str:
    if value is None:
        return ""
    if kind is Kind.MONEY and isinstance(value, int | float | Decimal):
        return f"{Decimal(value):.2f}"
    if kind is Kind.PERCENT and isinstance(value, int | float | Decimal):
        return f"{float(value):.4f}"
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return _text(value)


def write_csv(table: Table, out: TextIO, tz: tzinfo) -> None:
    """One header row of column keys, then the rows; `tz` is the practice's time zone for datetimes."""
    writer = csv.writer(out)
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(value, column.kind, tz) for value, column in zip(row, table.columns, strict=True)])


def sheet_title(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = SHEET_TITLE_UNSAFE.sub(" ", title).strip()[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _excel_value(value: Cell, tz: tzinfo) -> str | float | datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None)  # Excel has no time zones: the practice's clock
    if isinstance(value, date):
        return datetime.combine(value, time())  # shown as a date by the column's format
    if isinstance(value, Decimal | int):
        return float(value)
    return value


def _excel_cell(sheet: WriteOnlyWorksheet, value: Cell, column: Column, tz: tzinfo) -> ExcelCell:
    cell = WriteOnlyCell(sheet, value=_excel_value(value, tz))
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif column.kind in EXCEL_FORMATS and value is not None:
        cell.number_format = EXCEL_FORMATS[column.kind]
    return cell


def write_xlsx(tables: Sequence[Table], out: BinaryIO, tz: tzinfo) -> None:
    """One sheet per table, header in bold and frozen; written streaming, so 50,000 rows stay small."""
    book = Workbook(write_only=True)
    taken: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(sheet_title(table.title, taken))
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns):
            width = max(len(column.title), 12 if column.kind is not Kind.TEXT else 16)
            sheet.column_dimensions[_letter(index)].width = min(width + 2, 60)
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=column.title)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([_excel_cell(sheet, v, c, tz) for v, c in zip(row, table.columns, strict=True)])
    book.save(out)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
