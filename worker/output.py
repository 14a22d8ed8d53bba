"""What the CLI shows: a progress bar while checking, tables after."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from store.models import Claim
from worker.runner import STATE_COLUMNS, RunReport


class ClaimProgress:
    """A Rich progress bar over all claims of a run, naming the portal being worked."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=False)
        self.task = self.bar.add_task("checking claims", total=None)

    def __enter__(self) -> ClaimProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bar.stop()

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, portal: str, claims: int = 1) -> None:
        self.bar.update(self.task, advance=claims, description=f"checking claims on {portal}")


def print_report(console: Console, report: RunReport) -> None:
    table = Table(title=f"Claim status check {report.run_id}", title_justify="left")
    table.add_column("Portal", no_wrap=True)
    table.add_column("Checked", justify="right")
    for title, _ in STATE_COLUMNS:
        table.add_column(title, justify="right")
    table.add_column("Errors", justify="right")
    table.add_column("Changed", justify="right")
    table.add_column("Logins", justify="right")
    table.add_column("Time", justify="right")
    for row in report.portals:
        counts = [sum(row.states.get(s.value, 0) for s in states) for _, states in STATE_COLUMNS]
        table.add_row(row.portal, str(row.checked), *map(str, counts),
                      f"[red]{row.errors}[/]" if row.errors else "0",
                      str(row.changed), str(row.logins), f"{row.seconds:.1f} s")
    console.print(table)
    for row in report.portals:
        if row.problem:
            console.print(f"[red]{row.portal}:[/] {escape(row.problem)}", highlight=False)
    for payer, count in sorted(report.unrouted.items()):
        console.print(f"[yellow]{count} claim(s) of payer {payer}: no enabled portal in the config answers for "
                      "this payer.[/]")
    if report.unknown_claims:
        console.print(f"[red]Not imported, so not checked:[/] {', '.join(report.unknown_claims)}")
    if not report.portals:
        console.print("No claims were due. Use --force to check everything now.")
    console.print(f"Wall time: {report.seconds:.1f} s")


def claims_table(claims: Sequence[Claim]) -> Table:
    table = Table(title=f"{len(claims)} claim(s)", title_justify="left")
    for name, justify in (("Claim", "left"), ("Payer", "left"), ("DOS", "left"), ("Billed", "right"),
                          ("Status", "left"), ("Paid", "right"), ("Payer claim #", "left"),
                          ("Last checked (UTC)", "left"), ("Last error", "left")):
        table.add_column(name, justify=justify, no_wrap=name in {"Claim", "Payer claim #"})  # type: ignore[arg-type]
    for c in claims:
        table.add_row(c.claim_id, c.payer_id, c.dos_from.isoformat(), f"{c.billed_amount:,.2f}", c.status,
                      "" if c.paid_amount is None else f"{c.paid_amount:,.2f}", c.payer_claim_number or "",
                      c.last_checked_at.strftime("%Y-%m-%d %H:%M") if c.last_checked_at else "never",
                      escape(c.last_error or ""))
    return table
