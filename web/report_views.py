"""A report as its page shows it: the filter read from the query string, each table's cells formatted by
their Kind, and each chart as the JSON block web/static/charts.js draws from (no inline script: CSP)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flows.reports import Chart, ReportFilter
from flows.tables import Cell, Kind, Table
from web.templating import local_time, money

NUMERIC = frozenset({Kind.MONEY, Kind.COUNT, Kind.NUMBER, Kind.PERCENT})
CHART_KINDS = frozenset({"bar", "stacked_bar", "line", "pareto"})
KIND_WORDS = {"bar": "Bar chart", "stacked_bar": "Stacked bar chart", "line": "Line chart", "pareto": "Pareto chart"}


class BadFilter(ValueError):
    """A filter a person typed that cannot be used: said on the page, nothing computed."""


@dataclass(frozen=True)
class FilterForm:
    """The filter as the form shows it (what was typed, even when wrong) and the query string it makes."""

    date_from: str = ""
    date_to: str = ""
    payer: str = ""

    def query(self) -> str:
        values = {"from": self.date_from, "to": self.date_to, "payer": self.payer}
        return urlencode({k: v for k, v in values.items() if v})

    def words(self) -> str:
        """The filter in a line, for the audit log's detail."""
        return f"dates {self.date_from or 'any'} to {self.date_to or 'any'}; payer {self.payer or 'any'}"


def read_filter(params: Mapping[str, str], payers: Collection[str]) -> tuple[FilterForm, ReportFilter]:
    """The filter from `from`, `to` and `payer`; BadFilter says what is wrong, in words."""
    form = FilterForm(params.get("from", "").strip(), params.get("to", "").strip(), params.get("payer", "").strip())
    date_from = _date(form.date_from, "From")
    date_to = _date(form.date_to, "To")
    if form.payer and form.payer not in payers:
        raise BadFilter(f"There is no payer {form.payer!r} in the store or the configuration.")
    try:
        return form, ReportFilter(date_from, date_to, form.payer or None)
    except ValueError as refused:
        raise BadFilter(f"“From” ({date_from}) is after “To” ({date_to}): choose a range that runs forward.") from (
            refused
        )


def _date(text: str, which: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"“{which}” is not a date: {text!r} (write it as YYYY-MM-DD).") from None


@dataclass(frozen=True)
class Preset:
    label: str
    form: FilterForm


def presets(today: date, payer: str) -> list[Preset]:
    """Ranges a person asks for most, each a link (the payer chosen is kept)."""
    start_of_year = today.replace(month=1, day=1)
    return [
        Preset("Last 30 days", FilterForm((today - timedelta(days=29)).isoformat(), today.isoformat(), payer)),
        Preset("Last 90 days", FilterForm((today - timedelta(days=89)).isoformat(), today.isoformat(), payer)),
        Preset("This year", FilterForm(start_of_year.isoformat(), today.isoformat(), payer)),
        Preset("All dates", FilterForm("", "", payer)),
    ]


@dataclass(frozen=True)
class ShownCell:
    text: str
    numeric: bool


@dataclass(frozen=True)
class ShownColumn:
    title: str
    numeric: bool


@dataclass(frozen=True)
class ShownTable:
    name: str
    title: str
    columns: list[ShownColumn]
    rows: list[list[ShownCell]]


def cell_text(value: Cell, kind: Kind, tz: ZoneInfo) -> str:
    """A cell as a person reads it: $1,234.50, 12.5%, 1,234, 12.3, 2026-03-01."""
    if value is None:
        return "—"
    if isinstance(value, int | float | Decimal):
        if kind is Kind.MONEY:
            return money(value)
        if kind is Kind.PERCENT:
            return f"{float(value) * 100:.1f}%"
        if kind is Kind.COUNT:
            return f"{int(value):,}"
        if kind is Kind.NUMBER:
            return f"{float(value):,.1f}"
    if isinstance(value, datetime):
        return local_time(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def shown_table(table: Table, tz: ZoneInfo) -> ShownTable:
    return ShownTable(
        table.name,
        table.title,
        [ShownColumn(c.title, c.kind in NUMERIC) for c in table.columns],
        [
            [ShownCell(cell_text(v, c.kind, tz), c.kind in NUMERIC) for v, c in zip(row, table.columns, strict=True)]
            for row in table.rows
        ],
    )


@dataclass(frozen=True)
class ShownChart:
    title: str
    label: str  # the canvas's aria-label
    data: dict[str, Any]  # the JSON block charts.js reads
    table: ShownTable  # the chart's own figures, its text alternative


def shown_chart(chart: Chart, number: int, tz: ZoneInfo) -> ShownChart | None:
    """None when there is nothing to draw (no labels, or no figure at all): the page says so instead.
    A pareto chart is drawn from its first series; the running share is worked out here, so its figures
    table shows it too."""
    if not chart.labels or all(v is None for s in chart.series for v in s.values):
        return None
    kind = chart.kind if chart.kind in CHART_KINDS else "bar"
    drawn = [(s.name, [None if v is None else float(v) for v in s.values], chart.unit) for s in chart.series]
    if kind == "pareto":
        drawn = [drawn[0], ("Cumulative share", cumulative_share(drawn[0][1]), Kind.PERCENT)]
    data = {
        "kind": kind,
        "unit": str(chart.unit),
        "title": chart.title,
        "labels": list(chart.labels),
        "series": [{"name": name, "values": values} for name, values, _ in drawn],
    }
    table = ShownTable(
        f"chart-{number}",
        chart.title,
        [ShownColumn("", False), *(ShownColumn(name, True) for name, _, _ in drawn)],
        [
            [ShownCell(str(label), False)]
            + [
                ShownCell(cell_text(values[i] if i < len(values) else None, unit, tz), True)
                for _, values, unit in drawn
            ]
            for i, label in enumerate(chart.labels)
        ],
    )
    label = f"{KIND_WORDS[kind]}: {chart.title}. Its figures are in the table “{chart.title}: figures” below it."
    return ShownChart(chart.title, label, data, table)


def cumulative_share(values: Sequence[float | None]) -> list[float | None]:
    """Each bar's running total over the whole, 0 to 1, in the order the report gave (largest first)."""
    total = sum(v for v in values if v)
    if not total:
        return [None for _ in values]
    running = 0.0
    shares: list[float | None] = []
    for value in values:
        running += value or 0.0
        shares.append(running / total)
    return shares
