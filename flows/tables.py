"""A table as staff export it: typed columns, so a spreadsheet or a PM system gets numbers and dates, not
text. Every export (lists, reports) is a Table; flows/exports.py writes it as CSV or Excel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

Cell = str | int | float | Decimal | date | datetime | None


class Kind(StrEnum):
    TEXT = "text"
    MONEY = "money"  # Decimal dollars: "1234.50" in CSV, a number formatted #,##0.00 in Excel
    COUNT = "count"  # int
    NUMBER = "number"  # float or Decimal: days, ratios that are not shares
    PERCENT = "percent"  # a share from 0 to 1: "0.1250" in CSV, 12.5% in Excel
    DATE = "date"
    DATETIME = "datetime"  # aware; written in the practice's time zone


@dataclass(frozen=True)
class Column:
    key: str  # the CSV header and the machine name: lower_snake, stable across releases
    title: str  # what a person reads (Excel's header, a page's table head)
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Table:
    name: str  # the file name's stem: "worklist", "ar-aging"
    title: str  # the Excel sheet's title, a page's caption
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Cell]]

    def __post_init__(self) -> None:
        width = len(self.columns)
        for number, row in enumerate(self.rows, start=1):
            if len(row) != width:
                raise ValueError(f"{self.name}: row {number} has {len(row)} cells for {width} columns")
