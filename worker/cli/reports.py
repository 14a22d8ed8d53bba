"""`portal-worker report NAME`: the reports of flows/reports/, printed with their definitions, or written
as CSV (the main table) or Excel (every table a sheet)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from worker.cli.app import app, console, load_settings, open_engine, practice_today
from worker.cli.paging import parse_day

if TYPE_CHECKING:
    from flows.reports import Report
    from flows.tables import Cell, Kind, Table
    from worker.settings import Settings

PANEL = "Denials"


def _writable(path: Path | None, option: str) -> None:
    if path is None:
        return
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder: give a file name", param_hint=option)
    if not path.parent.is_dir():
        raise typer.BadParameter(f"the folder {path.parent} does not exist", param_hint=option)


def _check_payer(settings: Settings, payer: str | None, stored: set[str]) -> None:
    configured = sorted({p for portal in settings.portals.values() for p in portal.payers})
    if payer is not None and payer not in configured and payer not in stored:
        raise typer.BadParameter(
            f"no payer {payer!r}; configured payers: {', '.join(configured)}", param_hint="--payer"
        )


def _list_reports() -> None:
    from flows.reports import load_reports

    table = RichTable(title="Reports", title_justify="left")
    table.add_column("Name", no_wrap=True)
    table.add_column("What it shows")
    for spec in load_reports().values():
        table.add_row(spec.name, escape(spec.summary))
    console.print(table)
    console.print("Run one: portal-worker report NAME [--from YYYY-MM-DD --to YYYY-MM-DD --payer ID]", markup=False)


@app.command("report", rich_help_panel=PANEL)
def report_command(
    name: Annotated[str | None, typer.Argument(help="The report; without one, the list of reports.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of the range, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of the range, YYYY-MM-DD.")] = None,
    payer: Annotated[str | None, typer.Option(help="Only this payer id.")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write the report's main table as CSV here.")] = None,
    xlsx_path: Annotated[Path | None, typer.Option("--xlsx", help="Write every table as an Excel sheet here.")] = None,
) -> None:
    """Reports for the billing manager: A/R aging, days to pay, denials, first pass, appeals, exposure."""
    from flows.reports import ReportFilter, load_reports
    from store.claims import claim_payer_ids
    from store.db import session_scope

    if name is None:
        _list_reports()
        return
    reports = load_reports()
    if name not in reports:
        raise typer.BadParameter(f"no report {name!r}; choose one of: {', '.join(reports)}", param_hint="NAME")
    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if start and end and start > end:
        raise typer.BadParameter(f"--from {start} is after --to {end}", param_hint="--from")
    _writable(csv_path, "--csv")
    _writable(xlsx_path, "--xlsx")
    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        _check_payer(settings, payer, claim_payer_ids(session))
        report = reports[name].compute(session, ReportFilter(start, end, payer), practice_today(settings))
    if csv_path or xlsx_path:
        _write_files(report, csv_path, xlsx_path, settings)
        return
    print_report(report)


def _write_files(report: Report, csv_path: Path | None, xlsx_path: Path | None, settings: Settings) -> None:
    from worker.cli.export_files import write_csv_file, write_xlsx_file

    tz = settings.worker.tzinfo
    main = report.tables[0]
    if csv_path:
        write_csv_file(csv_path, main, tz)
        others = f"; its other tables ({len(report.tables) - 1}) go in --xlsx" if len(report.tables) > 1 else ""
        console.print(f"Wrote {main.title!r} ({len(main.rows)} row(s)) to {csv_path}{others}.", markup=False)
    if xlsx_path:
        write_xlsx_file(xlsx_path, report.tables, tz)
        console.print(f"Wrote {len(report.tables)} sheet(s) to {xlsx_path}.", markup=False)


def cell_text(value: Cell, kind: Kind) -> str:
    from flows.tables import Kind

    if value is None:
        return "-"
    if kind is Kind.MONEY and isinstance(value, int | float | Decimal):
        return f"{Decimal(value):,.2f}"
    if kind is Kind.PERCENT and isinstance(value, int | float | Decimal):
        return f"{float(value):.1%}"
    if kind is Kind.NUMBER and isinstance(value, float | Decimal):
        return f"{float(value):,.1f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def rich_table(table: Table) -> RichTable:
    from flows.tables import Kind

    shown = RichTable(title=escape(table.title), title_justify="left")
    for column in table.columns:
        shown.add_column(escape(column.title), justify="left" if column.kind is Kind.TEXT else "right")
    for row in table.rows:
        shown.add_row(*(escape(cell_text(v, c.kind)) for v, c in zip(row, table.columns, strict=True)))
    return shown


def print_report(report: Report) -> None:
    chosen = report.chosen
    scope = ", ".join(
        part
        for part in (
            f"from {chosen.date_from}" if chosen.date_from else "",
            f"to {chosen.date_to}" if chosen.date_to else "",
            f"payer {chosen.payer}" if chosen.payer else "",
        )
        if part
    )
    console.print(f"[bold]{escape(report.title)}[/]" + (f" ({escape(scope)})" if scope else ""))
    for table in report.tables:
        if table.rows:
            console.print(rich_table(table))
    _print_lines("Notes", report.notes)
    _print_lines("Definitions", [f"{figure}: {text}" for figure, text in report.definitions.items()])


def _print_lines(heading: str, lines: Sequence[str]) -> None:
    if lines:
        console.print(f"[bold]{heading}[/]")
        for line in lines:
            console.print(f"- {line}", markup=False)
