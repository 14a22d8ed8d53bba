"""The reports a revenue-cycle lead runs the practice by, each one a ReportSpec in REPORTS.

A report is computed by flows from store queries, for a ReportFilter (date range, payer), into a Report:
tables (which the CLI prints and every export writes), charts (which the workspace draws) and the
definition of every figure (printed under it, so nobody has to guess what "denial rate" counted).
The CLI (`portal-worker report NAME`) and the workspace (/reports/NAME) read the same REPORTS."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from sqlmodel import Session

from flows.tables import Kind, Table


@dataclass(frozen=True)
class ReportFilter:
    """Inclusive dates in the practice's calendar; None leaves that end open. `payer` is a payer id."""

    date_from: date | None = None
    date_to: date | None = None
    payer: str | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the range starts ({self.date_from}) after it ends ({self.date_to})")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no figure for that label (drawn as a gap, never as zero)


@dataclass(frozen=True)
class Chart:
    """What the workspace draws; the numbers are also in one of the report's tables."""

    title: str
    kind: str  # "bar" | "stacked_bar" | "line" | "pareto" (bars by dollars and a cumulative-share line)
    labels: Sequence[str]
    series: Sequence[Series]
    unit: Kind = Kind.MONEY  # how the axis and tooltips read: MONEY, COUNT, NUMBER (days) or PERCENT


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    chosen: ReportFilter
    tables: Sequence[Table]
    charts: Sequence[Chart] = ()
    # figure -> what it counts and from which dates, shown under the report and in the CLI's footer
    definitions: Mapping[str, str] = field(default_factory=dict)
    # said instead of a table or chart that has nothing to show yet ("no decisions recorded yet"),
    # so an empty figure is never shown as a made-up zero
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class ReportSpec:
    name: str  # the CLI's NAME and the workspace's /reports/NAME: lower-kebab
    title: str
    summary: str  # one line, for `report --help` and the reports index page
    compute: Callable[[Session, ReportFilter, date], Report]  # (session, filter, today in the practice)


_REPORTS: dict[str, ReportSpec] = {}
REPORTS: Mapping[str, ReportSpec] = MappingProxyType(_REPORTS)


def register(spec: ReportSpec) -> ReportSpec:
    if spec.name in _REPORTS:
        raise ValueError(f"two reports named {spec.name!r}")
    _REPORTS[spec.name] = spec
    return spec


def report_names() -> tuple[str, ...]:
    load_reports()
    return tuple(REPORTS)


def load_reports() -> Mapping[str, ReportSpec]:
    """Every report module, imported once, each registering its spec."""
    from flows.reports import catalogue  # noqa: F401  (registers on import)

    return REPORTS
