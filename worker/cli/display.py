"""What the CLI shows: a progress bar while checking, tables after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flows.claim_states import ClaimState
from flows.worklist import WorkItem, describe_codes
from store.models import Authorization, Claim, Denial, DenialEvent, Enrollment, Finding, Provider
from worker.clock import aware

if TYPE_CHECKING:
    from worker.runtime.check import RunReport

# The check report's columns of claim states.
STATE_COLUMNS = (
    ("Paid", (ClaimState.PAID,)),
    ("Partial", (ClaimState.PARTIALLY_PAID,)),
    ("Pending", (ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.INFO_REQUESTED)),
    ("Denied", (ClaimState.DENIED,)),
    ("Rejected", (ClaimState.REJECTED,)),
    ("Not on file", (ClaimState.NOT_ON_FILE,)),
)


class ClaimProgress:
    """A Rich progress bar over all the work of a run (claims, auths, enrollments), naming the portal."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task = self.bar.add_task("checking", total=None)

    def __enter__(self) -> ClaimProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bar.stop()

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, portal: str, claims: int = 1) -> None:
        self.bar.update(self.task, advance=claims, description=f"checking {portal}")

    def describe(self, doing: str) -> None:
        self.bar.update(self.task, description=doing)


def print_report(console: Console, report: RunReport) -> None:
    table = Table(title=f"Claim status check {report.run_id}", title_justify="left")
    table.add_column("Portal", no_wrap=True)
    table.add_column("Checked", justify="right")
    for title, _ in STATE_COLUMNS:
        table.add_column(title, justify="right")
    table.add_column("Errors", justify="right")
    table.add_column("Changed", justify="right")
    table.add_column("New denials", justify="right")
    table.add_column("ERAs", justify="right")
    table.add_column("Auths", justify="right")
    table.add_column("Enrollments", justify="right")
    table.add_column("Eligibility", justify="right")
    table.add_column("Logins", justify="right")
    table.add_column("Time", justify="right")
    for row in report.portals:
        counts = [sum(row.states.get(s.value, 0) for s in states) for _, states in STATE_COLUMNS]
        table.add_row(
            escape(row.portal),
            str(row.checked),
            *map(str, counts),
            f"[red]{row.errors}[/]" if row.errors else "0",
            str(row.changed),
            str(row.new_denials),
            str(row.eras),
            str(row.auths_checked),
            str(row.enrollments_checked),
            str(row.eligibility_checked),
            str(row.logins),
            f"{row.seconds:.1f} s",
        )
    console.print(table)
    for row in report.portals:
        for said in row.auth_requests:
            console.print(f"{escape(row.portal)}: prior-auth request {escape(said)}", highlight=False)
        for said in row.appeals:
            console.print(f"{escape(row.portal)}: appeal {escape(said)}", highlight=False)
    for row in report.portals:
        if row.problem:
            console.print(f"[red]{escape(row.portal)}:[/] {escape(row.problem)}", highlight=False)
    for payer, count in sorted(report.unrouted.items()):
        console.print(
            f"[yellow]{count} claim(s) or appointment(s) of payer {escape(payer)}: "
            "no enabled portal in the config answers for this payer.[/]"
        )
    if report.unknown_claims:
        console.print(f"[red]Not imported, so not checked:[/] {escape(', '.join(report.unknown_claims))}")
    if not report.portals:
        console.print("Nothing was due. Use --force to check everything now.")
    if report.findings.opened or report.findings.resolved:
        console.print(
            f"Findings: {len(report.findings.opened)} new, {len(report.findings.resolved)} resolved "
            "(`portal-worker findings` lists the open ones)."
        )
    console.print(f"Wall time: {report.seconds:.1f} s")


def claims_table(claims: Sequence[Claim], total: int | None = None, tz: tzinfo = UTC) -> Table:
    """`total`: how many claims the list holds when `claims` is one page of it."""
    table = Table(title=f"{len(claims) if total is None else total} claim(s)", title_justify="left")
    for name, justify in (
        ("Claim", "left"),
        ("Payer", "left"),
        ("DOS", "left"),
        ("Billed", "right"),
        ("Status", "left"),
        ("Paid", "right"),
        ("Payer claim #", "left"),
        ("Last checked", "left"),
        ("Last error", "left"),
    ):
        key = name in {"Claim", "Payer"}  # which claim, whose: never squeezed out at 80 columns
        table.add_column(
            name,
            justify=justify,  # type: ignore[arg-type]
            no_wrap=key or name == "Payer claim #",
            min_width=len("PW100000") if name == "Claim" else 5 if name == "Payer" else None,
            overflow="fold" if key else "ellipsis",
        )
    for c in claims:
        table.add_row(
            *_texts(c.claim_id, c.payer_id, c.dos_from.isoformat(), f"{c.billed_amount:,.2f}", c.status),
            "" if c.paid_amount is None else f"{c.paid_amount:,.2f}",
            *_texts(c.payer_claim_number or "", _checked(c.last_checked_at, tz), c.last_error or ""),
        )
    return table


CODES_WIDTH = 36
# The worklist's columns, and the terminal width below which each text column is left out (ids, payer, money
# and dates never are): at 80 columns a person still sees which denial, whose, how much and by when. The full
# wording of every column is in `worklist --csv`.
WORKLIST_TEXT_COLUMNS = (("Owner", 0), ("Category", 95), ("Codes", 120), ("Action", 150))
FIXED_WIDTH = {"ID": 4, "Claim": 8, "Payer": 5, "Amount": 9, "Deadline": 10, "Days": 4}


def _worklist_cells(item: WorkItem) -> dict[str, str]:
    d = item.denial
    return {
        "ID": str(d.id),
        "Claim": d.claim_id or f"{d.reported_claim_id} (not in claims)",
        "Payer": d.payer_id or "",
        "Amount": f"{d.amount:,.2f}",
        "Owner": d.owner,
        "Category": d.category,
        "Codes": item.codes,
        "Action": item.action,
        "Deadline": item.deadline.due.isoformat() if item.deadline else "",
        "Days": "" if item.days_left is None else str(item.days_left),
    }


def worklist_table(items: Sequence[WorkItem], width: int = 200) -> Table:
    """The worklist for a terminal `width` columns wide: the text columns a narrow one cannot hold are left out."""
    table = Table(title=f"Denial worklist ({len(items)} shown, most worth working first)", title_justify="left")
    texts = [name for name, needs in WORKLIST_TEXT_COLUMNS if width >= needs]
    names = ["ID", "Claim", "Payer", "Amount", *texts, "Deadline", "Days"]
    for name in names:
        table.add_column(
            name,
            justify="right" if name in {"ID", "Amount", "Days"} else "left",
            no_wrap=True,
            min_width=FIXED_WIDTH.get(name),
            overflow="fold" if name in FIXED_WIDTH else "ellipsis",
            max_width=CODES_WIDTH if name == "Codes" else None,
        )
    for item in items:
        cells = _worklist_cells(item)
        row = _texts(*(cells[name] for name in names))
        if item.days_left is not None and item.days_left <= 7:
            row[-1] = f"[red]{row[-1]}[/]"
        table.add_row(*row)
    captions = []
    left_out = [name.lower() for name, needs in WORKLIST_TEXT_COLUMNS if width < needs]
    if left_out:
        captions.append(f"Not shown at this width: {', '.join(left_out)} (`worklist --csv` has them).")
    # money that does not add up on an ERA is said under the table, in full
    warnings = dict.fromkeys(f"denial {item.denial.id}: {w}" for item in items for w in item.warnings)
    if warnings:
        captions.append("ERA out of balance:\n" + "\n".join(warnings))
    if captions:
        table.caption = escape("\n".join(captions))
        table.caption_justify = "left"
    return table


def denial_detail(denial: Denial, events: Sequence[DenialEvent], tz: tzinfo = UTC) -> Table:
    table = Table(
        title=escape(
            f"Denial {denial.id}: claim {denial.claim_id or denial.reported_claim_id}, "
            f"{denial.group_code}-{denial.carc} {denial.amount:,.2f} ({denial.status})"
        ),
        title_justify="left",
        caption=escape(describe_codes(denial)),  # what each code means; a remark we lack says so
        caption_justify="left",
    )
    for name in ("When", "Who", "Status", "Note"):
        table.add_column(name, no_wrap=name == "When")
    for event in events:
        table.add_row(*_texts(_local(event.at, tz), event.actor, event.status, event.note or ""))
    return table


def auths_table(auths: Sequence[Authorization], total: int | None = None, tz: tzinfo = UTC) -> Table:
    table = Table(title=f"{len(auths) if total is None else total} authorization(s)", title_justify="left")
    for name, justify in (
        ("Auth #", "left"),
        ("Payer", "left"),
        ("Status", "left"),
        ("Codes", "left"),
        ("Units used", "right"),
        ("From", "left"),
        ("To", "left"),
        ("Scheduled", "left"),
        ("Last checked", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name in {"Auth #", "From", "To"})  # type: ignore[arg-type]
    for a in auths:
        approved = a.portal_units_approved if a.portal_units_approved is not None else a.units_approved
        used = "" if a.units_used is None else f"{a.units_used} / {approved}"
        table.add_row(
            *_texts(
                a.auth_number,
                a.payer_id,
                a.status,
                ", ".join(a.portal_codes or a.procedure_codes),
                used,
                str(a.portal_start or a.start_date),
                str(a.portal_end or a.end_date),
                str(a.scheduled_date or ""),
                _checked(a.last_checked_at, tz),
            )
        )
    return table


def providers_table(
    providers: Sequence[Provider], enrollments: Sequence[Enrollment], total: int | None = None, tz: tzinfo = UTC
) -> Table:
    table = Table(title=f"{len(providers) if total is None else total} provider(s)", title_justify="left")
    for name in (
        "NPI",
        "Name",
        "CAQH attested",
        "Payer",
        "Enrollment",
        "Effective",
        "Terminated",
        "Revalidate by",
        "ERA/EFT",
        "Last checked",
    ):
        table.add_column(name, no_wrap=name == "NPI")
    by_npi: dict[str, list[Enrollment]] = {}
    for enrollment in enrollments:
        by_npi.setdefault(enrollment.npi, []).append(enrollment)
    for p in providers:
        rows: list[Enrollment | None] = [*by_npi.get(p.npi, [])] or [None]
        for i, e in enumerate(rows):
            head = tuple(_texts(p.npi, p.name, str(p.caqh_attested_date or ""))) if i == 0 else ("", "", "")
            if e is None:
                table.add_row(*head, "", "not checked yet", "", "", "", "", "")
                continue
            era_eft = (
                ""
                if e.era_enrolled is None
                else f"{'yes' if e.era_enrolled else 'no'}/{'yes' if e.eft_enrolled else 'no'}"
            )
            table.add_row(
                *head,
                *_texts(e.payer_id, e.status),
                str(e.effective or ""),
                str(e.termination or ""),
                str(e.revalidation_due or ""),
                era_eft,
                _checked(e.last_checked_at, tz),
            )
    return table


def findings_table(findings: Sequence[Finding], total: int | None = None) -> Table:
    count = len(findings) if total is None else total
    table = Table(title=f"{count} finding(s), soonest first", title_justify="left")
    for name, justify in (
        ("ID", "right"),
        ("Kind", "left"),
        ("Subject", "left"),
        ("Payer", "left"),
        ("Due", "left"),
        ("At risk", "right"),
        ("What to do", "left"),
        ("Status", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name in {"ID", "Subject", "Due"})  # type: ignore[arg-type]
    for f in findings:
        table.add_row(
            *_texts(str(f.id), f.kind, f.subject, f.payer_id or "", str(f.due or "")),
            "" if f.amount_at_risk is None else f"{f.amount_at_risk:,.2f}",
            *_texts(f.message, f.status),
        )
    return table


def _texts(*values: str) -> list[str]:
    """Table cells from stored data, printed as written: an id like "C[/]1" is not console markup."""
    return [escape(value) for value in values]


def _local(at: datetime, tz: tzinfo) -> str:
    """A stored UTC time as the practice's clock shows it."""
    return aware(at).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _checked(at: datetime | None, tz: tzinfo) -> str:
    return _local(at, tz) if at else "never"
