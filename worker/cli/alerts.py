"""Alerts and the daily summary: list, acknowledge or snooze, preview and send."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from worker.cli.app import alerts_app, app, console, err, load_settings, open_engine
from worker.cli.export_files import CsvOption, XlsxOption, check_targets, write_exports
from worker.cli.paging import DEFAULT_LIMIT, LimitOption, OffsetOption

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from flows.tables import Table
    from worker.settings import Settings

PANEL = "Alerts"


@alerts_app.callback(invoke_without_command=True)
def alerts_list(
    ctx: typer.Context,
    include_all: Annotated[bool, typer.Option("--all", help="Also acknowledged, snoozed and resolved alerts.")] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
) -> None:
    """List open alerts, soonest first (ids, payers, amounts, dates, codes; no patient names)."""
    from worker.cli.alerts_view import print_alerts
    from worker.clock import utcnow

    if ctx.invoked_subcommand is None:
        check_targets(csv_path, xlsx_path)
        settings = load_settings()
        if csv_path or xlsx_path:
            table = alerts_export(settings, open_engine(settings), utcnow(), include_all=include_all)
            write_exports(table, settings.worker.tzinfo, csv_path, xlsx_path, "alert(s)")
            return
        print_alerts(console, settings, open_engine(settings), utcnow(), include_all=include_all, page=(limit, offset))


def alerts_export(settings: Settings, engine: Engine, now: datetime, *, include_all: bool) -> Table:
    """The alerts `alerts` lists (refreshed first), every one of them, as a table to write."""
    from flows.list_tables import alerts_table
    from store.alerts import alerts_page
    from store.db import session_scope
    from store.list_exports import patient_names
    from worker.delivery import notify

    notify.refresh_alerts(settings, engine, now)
    with session_scope(engine) as session:
        chosen = alerts_page(session, 0, 0, now=None if include_all else now).items
        names = None
        if settings.alerts.include_patient_names:
            names = patient_names(session, sorted({a.claim_id for a in chosen if a.claim_id}))
        return alerts_table(chosen, names)


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id, as `portal-worker alerts` shows it.")],
    snooze: Annotated[
        str | None, typer.Option(help="Hide it for this long, e.g. 3d, 12h or 1w; it comes back if still true.")
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help='Who is on it, e.g. your workspace login (the alert says "staff" without).')
    ] = "staff",
) -> None:
    """Acknowledge an alert (out of the daily summary until it escalates), or snooze it."""
    from worker.cli.alerts_view import ack, parse_snooze
    from worker.clock import utcnow

    try:
        duration = parse_snooze(snooze) if snooze is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--snooze") from None
    settings = load_settings()
    ack(console, settings, open_engine(settings), alert_id, duration, utcnow(), by=by.strip() or "staff")


@app.command("digest", rich_help_panel=PANEL)
def digest_command(
    preview: Annotated[
        bool, typer.Option("--preview", help="Refresh the alerts and print the summary; send nothing.")
    ] = False,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="Send today's summary through the configured channels now "
            "(never twice a day; failed ones are retried).",
        ),
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="With --preview: also write the email's HTML to this file for a look "
            "(with several channels, FILE-NAME.html for each).",
        ),
    ] = None,
) -> None:
    """The daily summary of open alerts: --preview prints it, --send sends it (exit 1 if a channel failed)."""
    from worker.cli.alerts_view import print_preview, send_now
    from worker.cli.digest_html import HtmlPathRefused, check_target, write_previews
    from worker.clock import utcnow

    if preview == send:
        err.print("[red]error:[/] give exactly one of --preview or --send", highlight=False)
        raise typer.Exit(2)
    if html is not None and not preview:
        err.print("[red]error:[/] --html goes with --preview (it writes the summary for a look)", highlight=False)
        raise typer.Exit(2)
    try:
        html_path = check_target(html) if html is not None else None
        settings = load_settings()
        engine = open_engine(settings)
        if preview:
            previews = print_preview(console, settings, engine, utcnow())
            for path in write_previews(html_path, previews) if html_path else []:
                console.print(f"Wrote the summary's HTML to {path}", markup=False, highlight=False)
        elif not send_now(console, err, settings, engine, utcnow()):
            raise typer.Exit(1)
    except HtmlPathRefused as exc:
        err.print(f"[red]error:[/] --html: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
