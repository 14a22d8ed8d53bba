"""Exports read back as a spreadsheet or a PM import reads them: numbers as numbers, dates as dates,
the same cells in CSV and Excel, and no text that runs as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from flows.exports import sheet_title, write_csv, write_xlsx
from flows.tables import Column, Kind, Table

CHICAGO = ZoneInfo("America/Chicago")
TABLE = Table(
    "claims",
    "Claims: open",
    (
        Column("claim", "Claim"),
        Column("billed", "Billed", Kind.MONEY),
        Column("lines", "Lines", Kind.COUNT),
        Column("rate", "Denial rate", Kind.PERCENT),
        Column("dos", "Date of service", Kind.DATE),
        Column("seen", "Seen", Kind.DATETIME),
        Column("note", "Note"),
    ),
    [
        ("PW1", Decimal("1234.5"), 3, 0.125, date(2026, 11, 2), datetime(2026, 12, 6, 15, 30, tzinfo=UTC), "ok"),
        ("PW2", None, 0, None, None, None, '=HYPERLINK("http://x","y")'),
        ("PW3", Decimal("0.10"), 1, 1, date(2026, 1, 31), datetime(2026, 6, 1, 4, 0, tzinfo=UTC), "-2+3"),
    ],
)


def test_csv_writes_plain_numbers_iso_dates_and_practice_time() -> None:
    out = io.StringIO()
    write_csv(TABLE, out, CHICAGO)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["claim", "billed", "lines", "rate", "dos", "seen", "note"]
    assert rows[1] == ["PW1", "1234.50", "3", "0.1250", "2026-11-02", "2026-12-06 09:30:00", "ok"]
    assert rows[2] == ["PW2", "", "0", "", "", "", '\'=HYPERLINK("http://x","y")']
    assert rows[3] == ["PW3", "0.10", "1", "1.0000", "2026-01-31", "2026-05-31 23:00:00", "'-2+3"]


def test_excel_holds_the_same_cells_typed_and_formats_them() -> None:
    out = io.BytesIO()
    write_xlsx([TABLE, TABLE], out, CHICAGO)
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Claims  open", "Claims  open (2)"]
    sheet = book.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Claim", "Billed", "Lines", "Denial rate", "Date of service", "Seen", "Note"]
    assert values[1] == ["PW1", 1234.5, 3, 0.125, datetime(2026, 11, 2), datetime(2026, 12, 6, 9, 30), "ok"]
    assert values[2] == ["PW2", None, 0, None, None, None, '=HYPERLINK("http://x","y")']
    assert sheet["G3"].data_type == "s"  # a string, never a formula
    assert values[3][1:4] == [0.1, 1, 1]
    assert [sheet[f"{c}2"].number_format for c in "BCDEF"] == [
        "#,##0.00",
        "0",
        "0.0%",
        "yyyy-mm-dd",
        "yyyy-mm-dd hh:mm",
    ]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold


def test_a_row_of_the_wrong_width_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="claims: row 2 has 1 cells for 2 columns"):
        Table("claims", "Claims", (Column("a", "A"), Column("b", "B")), [("x", "y"), ("z",)])


def test_sheet_titles_follow_excels_rules() -> None:
    taken: set[str] = set()
    assert sheet_title("A/R aging: by payer [all]", taken) == "A R aging  by payer  all"
    assert sheet_title("x" * 40, taken) == "x" * 31
    assert sheet_title("x" * 40, taken) == "x" * 27 + " (2)"
