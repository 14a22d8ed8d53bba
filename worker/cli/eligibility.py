"""`portal-worker eligibility`: a day's visits with their payers' answers, what is wrong and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from worker.cli.app import app, console, load_settings, open_engine, practice_today
from worker.cli.export_files import CsvOption, XlsxOption, check_targets, write_exports
from worker.cli.paging import parse_day

if TYPE_CHECKING:
    from datetime import tzinfo

    from flows.visits import Visit

PANEL = "Your data"


@app.command("eligibility", rich_help_panel=PANEL)
def eligibility_command(
    day: Annotated[
        str | None,
        typer.Option(
            "--date", help="The visits of this day (YYYY-MM-DD); default the next business day's (a Friday: to Monday)."
        ),
    ] = None,
    csv_path: CsvOption = None,
    xlsx_path: XlsxOption = None,
) -> None:
    """Appointments with their coverage as the payer last answered, the problems found and what to do before
    the patient arrives (no member ids or dates of birth; names only where the config turns them on)."""
    from flows.visits import next_visit_days, visits_between, visits_table

    check_targets(csv_path, xlsx_path)
    settings = load_settings()
    chosen = parse_day(day, "--date")
    first, last = (
        (chosen, chosen) if chosen else next_visit_days(practice_today(settings), settings.schedule.eligibility.times)
    )
    names = settings.alerts.include_patient_names
    visits = visits_between(open_engine(settings), first, last, patient_names=names)
    span = f"{first}" if first == last else f"{first} to {last}"
    if csv_path or xlsx_path:
        table = visits_table(visits, span.replace(" to ", "-to-"), patient_names=names)
        write_exports(table, settings.worker.tzinfo, csv_path, xlsx_path, "appointment(s)")
        return
    console.print(_visits_table(visits, span, settings.worker.tzinfo, names))
    problems = sum(1 for visit in visits if visit.problems)
    console.print(
        f"{len(visits)} appointment(s), {problems} with problems to fix before the visit"
        + ("" if visits else " (import the schedule with `portal-worker import appointments FILE.csv`)"),
        highlight=False,
        markup=False,
    )


def _visits_table(visits: list[Visit], span: str, tz: tzinfo, names: bool) -> Table:
    table = Table(title=f"Visits {span}", title_justify="left")
    headings = ["Appointment", "When", "Payer", "Coverage", "Copay", "Checked", "Problems", "What to do"]
    for heading in headings + (["Patient"] if names else []):
        table.add_column(heading, no_wrap=heading in {"Appointment", "When"})
    for visit in visits:
        coverage = visit.coverage if visit.coverage == "active" else f"[red]{escape(visit.coverage)}[/]"
        row = [
            escape(visit.appointment_id),
            f"{visit.day:%a %m-%d} {visit.at:%H:%M}",
            escape(visit.payer_id),
            coverage,
            "" if visit.copay is None else f"{visit.copay:,.2f}",
            f"{visit.checked_at.astimezone(tz):%m-%d %H:%M}" if visit.checked_at else "never",
            escape(visit.problem_words) if visit.problems else "[green]none[/]",
            escape(f"{visit.to_do} ({visit.by_when})") if visit.problems else "",
        ]
        table.add_row(*row, *([escape(visit.patient_name or "")] if names else []))
    return table
