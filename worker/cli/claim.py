"""`portal-worker claim ID`: one claim as the workspace's claim page shows it, in text.

The patient's name and member id stay on the workspace's pages: a terminal's scrollback and a
logged command's output are not where PHI belongs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from worker.cli.app import app, console, err, load_settings, open_engine, practice_today

if TYPE_CHECKING:
    from flows.claim_view import ClaimView, DenialView
    from store.models import Evidence

PANEL = "Your data"


@app.command("claim", rich_help_panel=PANEL)
def claim_command(claim_id: Annotated[str, typer.Argument(help="The practice's claim id, e.g. PW100027.")]) -> None:
    """Everything known about one claim: state, timeline, payments, denials with deadlines, evidence."""
    from flows.appeal_progress import appeal_progress
    from flows.claim_view import claim_view
    from store.claim_detail import load_claim_record
    from store.db import session_scope

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        record = load_claim_record(session, claim_id)
        if record is None:
            err.print(f"[red]error:[/] no claim with id {escape(repr(claim_id))} in the store", highlight=False)
            err.print("`portal-worker claims` lists the claims; the workspace's Search finds one.", markup=False)
            raise typer.Exit(2)
        progress = appeal_progress(session, [d.id for d in record.denials if d.id])
        view = claim_view(record, practice_today(settings), progress=progress)
        shown = claim_text(view, settings.worker.tzinfo)
    console.print(shown)


def claim_text(view: ClaimView, tz: ZoneInfo) -> Group:
    """The claim as Rich renderables; ids and amounts never wrap, free text does."""
    return Group(
        _facts(view, tz),
        _timeline(view, tz),
        _payments(view),
        *[_denial(d, tz) for d in view.denials],
        _behind(view, tz),
        _evidence(view, tz),
    )


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    from worker.clock import aware

    return aware(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "never"


def _money(amount: Decimal | None) -> str:
    return "—" if amount is None else f"{amount:,.2f}"


def _pairs(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=escape(title), title_justify="left", show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(escape(label), escape(value))
    return table


def _facts(view: ClaimView, tz: ZoneInfo) -> Table:
    c = view.record.claim
    provider = view.record.provider
    queued = "yes: the worker will check it on its next run" if view.recheck_queued else "no"
    return _pairs(
        f"Claim {c.claim_id} ({c.status})",
        [
            ("Payer", c.payer_id),
            ("Payer claim #", c.payer_claim_number or "—"),
            (
                "Service date",
                c.dos_from.isoformat() + ("" if c.dos_to == c.dos_from else f" to {c.dos_to.isoformat()}"),
            ),
            ("Billed", _money(c.billed_amount)),
            ("Submitted", c.submitted_date.isoformat()),
            ("Provider", (f"{provider.name}, " if provider else "") + f"NPI {c.rendering_npi}"),
            ("Procedures", ", ".join(c.procedure_codes) or "—"),
            ("Prior auth", c.prior_auth_number or "none"),
            ("Status", c.status + (f": {c.status_text}" if c.status_text else "")),
            ("Paid", _money(c.paid_amount)),
            (f"Last checked ({tz})", _when(c.last_checked_at, tz)),
            ("Last check failed", c.last_error or "no"),
            ("Re-check queued", queued),
        ],
    )


def _timeline(view: ClaimView, tz: ZoneInfo) -> Table:
    table = Table(title=f"Timeline, newest first ({tz})", title_justify="left")
    table.add_column("When", no_wrap=True, min_width=16)
    table.add_column("From", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("What changed", overflow="fold")
    table.add_column("Evidence", overflow="fold")
    for entry in view.timeline:
        table.add_row(
            escape(_when(entry.at, tz)),
            escape(entry.source),
            escape(entry.status),
            escape(entry.changes),
            escape(_kept(entry.evidence)),
        )
    if not view.timeline:
        table.caption = "No portal or ERA has said anything about this claim yet."
    return table


def _payments(view: ClaimView) -> Table:
    table = Table(title="Payments", title_justify="left")
    table.add_column("Check/EFT #", no_wrap=True)
    table.add_column("Paid on", no_wrap=True, min_width=10)
    for name in ("Billed", "Allowed", "Paid"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("From", overflow="fold")
    for p in view.payments:
        table.add_row(
            escape(p.number or "—"),
            p.paid_on.isoformat() if p.paid_on else "—",
            _money(p.billed),
            _money(p.allowed),
            _money(p.paid),
            escape(p.source),
        )
    if not view.payments:
        table.caption = "No payment has been seen for this claim."
    return table


def _denial(d: DenialView, tz: ZoneInfo) -> Group:
    den, item = d.item.denial, d.item
    if item.deadline is None:
        deadline = "none applies"
    else:
        late = item.days_left is not None and item.days_left < 0
        days = f"{-item.days_left} days late" if late and item.days_left is not None else f"{item.days_left} days left"
        deadline = f"{item.deadline.due.isoformat()} ({days})"
    facts = _pairs(
        f"Denial {den.id}: {den.group_code}-{den.carc} {_money(den.amount)} ({den.status})",
        [
            *[(code.code, code.words) for code in d.codes],
            ("Category", den.category.replace("_", " ")),
            ("Owner", den.owner.replace("_", " ")),
            ("Kind", d.kind_words),
            ("Next step", item.action),
            ("Deadline", deadline),
            ("Assigned to", den.assignee or "nobody"),
        ],
    )
    history = Table(title=f"Denial {den.id} history, newest first", title_justify="left")
    history.add_column("When", no_wrap=True, min_width=16)
    history.add_column("Who", no_wrap=True)
    history.add_column("Status", no_wrap=True)
    history.add_column("Note", overflow="fold")
    for event in d.events:
        history.add_row(
            escape(_when(event.at, tz)), escape(event.actor), escape(event.status), escape(event.note or "")
        )
    return Group(facts, history)


def _behind(view: ClaimView, tz: ZoneInfo) -> Table:
    a, e = view.record.authorization, view.record.enrollment
    rows: list[tuple[str, str]] = []
    if a is not None:
        used = "?" if a.units_used is None else str(a.units_used)
        valid = f"{(a.portal_start or a.start_date).isoformat()} to {(a.portal_end or a.end_date).isoformat()}"
        approved = a.portal_units_approved or a.units_approved
        rows.append(("Authorization", f"{a.auth_number} ({a.status}), {valid}, {used} of {approved} units used"))
    elif view.record.claim.prior_auth_number:
        rows.append(("Authorization", f"{view.record.claim.prior_auth_number} (not among the imported authorizations)"))
    else:
        rows.append(("Authorization", "none named"))
    if e is not None:
        rows.append(
            ("Enrollment", f"{e.status} with {e.payer_id} (checked {_when(e.last_checked_at, tz)} on {e.portal})")
        )
    else:
        rows.append(("Enrollment", "not checked with this payer"))
    return _pairs("Authorization and enrollment", rows)


def _evidence(view: ClaimView, tz: ZoneInfo) -> Table:
    table = Table(title="Evidence kept", title_justify="left")
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("When", no_wrap=True, min_width=16)
    table.add_column("Portal", no_wrap=True)
    table.add_column("Why", overflow="fold")
    table.add_column("Files", overflow="fold")
    for ev in view.record.evidence:
        files = ", ".join(path for path in (ev.screenshot_path, ev.html_path, ev.pdf_path, ev.archive_path) if path)
        table.add_row(str(ev.id), escape(_when(ev.created_at, tz)), escape(ev.portal), escape(ev.reason), escape(files))
    if not view.record.evidence:
        table.caption = "None: a page is kept when a portal first shows a new status, payment or denial."
    return table


def _kept(evidence: Evidence | None) -> str:
    """'#12: screenshot, page, PDF, archive': the files of the evidence row listed under "Evidence kept"."""
    if evidence is None:
        return "—"
    named = (
        ("screenshot", evidence.screenshot_path),
        ("page", evidence.html_path),
        ("PDF", evidence.pdf_path),
        ("archive", evidence.archive_path),
    )
    return f"#{evidence.id}: " + ", ".join(name for name, path in named if path)
