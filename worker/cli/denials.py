"""The denial worklist, and one denial and what staff did about it (the reports: worker/cli/reports.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from worker.cli.app import app, console, load_settings, open_engine, practice_today
from worker.cli.export_files import CsvOption, XlsxOption, check_targets, write_exports
from worker.cli.paging import DEFAULT_LIMIT, LimitOption, OffsetOption, print_footer

PANEL = "Denials"


@app.command(rich_help_panel=PANEL)
def worklist(
    owner: Annotated[
        str | None, typer.Option(help='Only this department, e.g. coding or "front desk" (any case).')
    ] = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
    include_worked: Annotated[
        bool, typer.Option("--all", help="Also denials already appealed or resubmitted.")
    ] = False,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
) -> None:
    """Open denials, most worth working first: dollars x urgency x recoverability."""
    from flows.list_tables import worklist_table
    from flows.worklist import load_worklist, normalise_owner, owner_choices
    from store.db import session_scope
    from store.denials import OPEN_STATES
    from store.pages import page_of_list
    from worker.cli import display

    department = None
    if owner is not None:
        department = normalise_owner(owner)
        if department is None:
            raise typer.BadParameter(
                f"no department {owner!r}; choose one of: {', '.join(owner_choices())}", param_hint="--owner"
            )
    check_targets(csv_path, xlsx_path)
    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        items = load_worklist(
            session, practice_today(settings), owner=department, statuses=OPEN_STATES if include_worked else ("open",)
        )
    if csv_path or xlsx_path:
        table = worklist_table(items, patient_names=settings.alerts.include_patient_names)
        write_exports(table, settings.worker.tzinfo, csv_path, xlsx_path, "denial(s)")
        return
    # ranked in Python (dollars x urgency x recoverability), so paged after ranking
    page = page_of_list(items, limit, offset)
    console.print(display.worklist_table(page.items, console.width))
    print_footer(console, page, "denial(s) in the worklist")


@app.command("denial", rich_help_panel=PANEL)
def denial_command(
    denial_id: Annotated[int, typer.Argument(help="The denial's id, as the worklist shows it.")],
    status: Annotated[
        str | None, typer.Option(help="appealed, resubmitted, written-off, resolved or open (any case).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="What was done (kept in the denial's history).")] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help='Who did it, e.g. your workspace login (the history says "staff" without).'),
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option(help="With --status written-off: the dollars written off (default: all that was denied)."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="With --status written-off (required): why, e.g. appeal upheld at last level.")
    ] = None,
) -> None:
    """Show a denial and its history; with --status, record what you did about it."""
    from flows.denials import DenialActionRefused, parse_dollars, record_staff_action
    from store.db import session_scope
    from store.denials import history
    from store.models import Denial
    from worker.cli import display
    from worker.clock import utcnow

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        chosen = status.strip().lower().replace("_", "-") if status else None
        if chosen != "written-off" and (amount is not None or reason is not None):
            raise typer.BadParameter("--amount and --reason go with --status written-off", param_hint="--status")
        if chosen is not None:
            who = by.strip() if by and by.strip() else "staff"
            if chosen == "written-off" and not (reason or note or "").strip():
                raise typer.BadParameter(
                    "a write-off needs a reason (why the money is given up); --note is taken for one",
                    param_hint="--reason",
                )
            written = parse_dollars(amount, "--amount") if amount is not None else None
            record_staff_action(session, denial_id, chosen, note, utcnow(), actor=who, amount=written, reason=reason)
        denial = session.get(Denial, denial_id)
        if denial is None:
            raise DenialActionRefused(f"no denial with id {denial_id}")
        events = history(session, denial_id)
    console.print(display.denial_detail(denial, events, settings.worker.tzinfo))
