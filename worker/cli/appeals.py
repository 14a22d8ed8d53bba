"""`portal-worker appeal file|sent|list|show|requeue`: appeals of denials, filed online by the worker exactly once
(flows/appeals.py says how) or sent by staff by fax or mail, and followed to the payer's decision."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from worker.cli.app import console, load_settings, open_engine
from worker.cli.appeal_group import appeal_app

if TYPE_CHECKING:
    from flows.appeal_queue import Prepared
    from store.models import AppealRow
    from worker.settings import Settings

ByOption = Annotated[str, typer.Option("--by", help="Who does it (recorded with it; default: your login).")]
PacketOption = Annotated[
    Path | None,
    typer.Option(
        "--packet", help="The appeal's packet PDF (default: the one `portal-worker appeal build` wrote for the denial)."
    ),
]


def packet_keeper(settings: Settings, packet: Path | None) -> Callable[[str], str | None]:
    """The packet checked now (a missing file or a non-PDF refused before anything is written), and a function
    that keeps a private copy of it for the new appeal."""
    from flows.appeal_queue import check_packet, keep_packet

    source = check_packet(packet) if packet is not None else None

    def keep(appeal_id: str) -> str | None:
        return keep_packet(source, settings.worker.data_dir, appeal_id) if source is not None else None

    return keep


def say_prepared(prepared: Prepared, denial_id: int) -> str:
    if not prepared.new:
        return (
            f"Denial {denial_id} is appealed already at this level as {prepared.appeal_id} ({prepared.state}): "
            "nothing new was prepared."
        )
    if prepared.state == "queued":
        return (
            f"Queued appeal {prepared.appeal_id} ({prepared.level_name}, through the {prepared.channel}): the "
            "`appeals` job (or `check --what appeals`) files it once."
        )
    return (
        f"Prepared appeal {prepared.appeal_id} ({prepared.level_name}, by {prepared.channel}). Send it, then "
        f"record it: `portal-worker appeal sent {prepared.appeal_id} --on YYYY-MM-DD`."
    )


@appeal_app.command("file")
def file_command(
    denial_id: Annotated[int, typer.Argument(help="The denial to appeal (its id in `denials`).")],
    packet: PacketOption = None,
    by: ByOption = "",
) -> None:
    """Appeal a denial at its next level: queued for the worker when the payer takes it online, else prepared
    for staff to fax or mail (the payer playbook says which)."""
    from flows.appeal_queue import prepare_appeal
    from flows.deadlines import load_payer_rules
    from flows.task_work import TaskKind
    from store.db import session_scope
    from worker.clock import utcnow
    from worker.runtime.packets import packet_path
    from worker.runtime.planning import portal_taking

    settings = load_settings()
    built = packet_path(settings.worker.data_dir, denial_id)
    keep = packet_keeper(settings, packet if packet is not None or not built.is_file() else built)
    with session_scope(open_engine(settings)) as session:
        prepared = prepare_appeal(
            session,
            denial_id,
            packet=keep,
            by=by or getpass.getuser(),
            now=utcnow(),
            rules=load_payer_rules(),
            playbook=settings.playbook(),
            portal_for=lambda payer_id: portal_taking(settings, TaskKind.APPEAL, payer_id),
        )
    console.print(say_prepared(prepared, denial_id), highlight=False)


@appeal_app.command("sent")
def sent_command(
    appeal_id: Annotated[str, typer.Argument(help="The prepared appeal, e.g. AP-1F2E3D4C.")],
    on: Annotated[str, typer.Option("--on", help="The day it was faxed or mailed, YYYY-MM-DD.")],
    by: ByOption = "",
) -> None:
    """Record that a fax or mail appeal was sent: filed that day, its answer due by the playbook's response time."""
    from flows.appeal_queue import AppealProblem, mark_sent
    from flows.csv_rows import BadValue, parse_date
    from store.db import session_scope
    from worker.clock import utcnow

    settings = load_settings()
    try:
        day = parse_date(on.strip())
    except BadValue as bad:
        raise AppealProblem(f"--on: {on[:20]} {bad.reason}") from None
    with session_scope(open_engine(settings)) as session:
        row = mark_sent(
            session,
            appeal_id.upper(),
            on=day,
            by=by or getpass.getuser(),
            now=utcnow(),
            tz=settings.worker.tzinfo,
            playbook=settings.playbook(),
        )
        due = row.response_due
    console.print(f"Recorded {appeal_id.upper()} as sent on {day}; the payer's answer is due by {due}.")


@appeal_app.command("list")
def list_command(
    state: Annotated[
        str | None,
        typer.Option(help="Only this state: prepared, queued, submitting, needs_look, refused, filed, decided."),
    ] = None,
) -> None:
    """List the appeals with their state, confirmation and what the portal last said (no member ids)."""
    from store.appeals import STATES, list_appeals
    from store.db import session_scope

    if state is not None and state not in STATES:
        raise typer.BadParameter(f"choose one of {', '.join(STATES)}", param_hint="--state")
    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        rows = list_appeals(session, [state] if state else None)
    table = Table(
        "Appeal", "Denial", "Claim", "Payer", "Level", "Channel", "State", "Confirmation", "Portal says", "Due",
        "Portal's words / last error",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            row.appeal_id,
            str(row.denial_id),
            escape(row.claim_id or ""),
            row.payer_id,
            f"{row.level} {escape(row.level_name)}",
            row.channel,
            _state_words(row),
            row.confirmation_number or "",
            (row.portal_status or "").replace("_", " "),
            str(row.response_due or ""),
            escape(row.refusal or row.last_error or ""),
        )
    console.print(table)
    console.print(f"{len(rows)} appeal(s)")


@appeal_app.command("show")
def show_command(appeal_id: Annotated[str, typer.Argument(help="The appeal, e.g. AP-1F2E3D4C.")]) -> None:
    """One appeal in full: the denial, level, channel, packet, confirmation and evidence, status and decision."""
    from flows.appeal_queue import AppealProblem
    from store.appeals import get_appeal
    from store.db import session_scope
    from store.models import Evidence

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        row = get_appeal(session, appeal_id.upper())
        if row is None:
            raise AppealProblem(f"no appeal {appeal_id.upper()[:20]}")
        evidence = session.get(Evidence, row.evidence_id) if row.evidence_id else None
    facts = [
        ("Appeal", row.appeal_id),
        ("Denial", f"{row.denial_id} on claim {row.claim_id or '?'} ({row.payer_id})"),
        ("Level", f"{row.level}: {row.level_name}"),
        ("Channel", row.channel + (f" ({row.portal})" if row.portal else "")),
        ("State", _state_words(row)),
        ("Disputed", f"${row.disputed_amount:,.2f}"),
        ("Packet", row.packet_path or "none"),
        ("Prepared", f"{row.created_at:%Y-%m-%d %H:%M} UTC by {row.created_by}"),
        ("Attempts", str(row.attempts)),
        ("Filed", f"{row.filed_at:%Y-%m-%d} by {row.filed_by}" if row.filed_at else "not yet"),
        ("Confirmation", row.confirmation_number or "—"),
        ("Confirmation page", (evidence.pdf_path or evidence.html_path or "") if evidence else "—"),
        ("Answer due", str(row.response_due or "—")),
        (
            "Portal says",
            f"{(row.portal_status or '').replace('_', ' ')} (read {row.status_checked_at:%Y-%m-%d %H:%M} UTC)"
            if row.status_checked_at
            else "—",
        ),
        ("Decision", f"{row.decision} on {row.decided_on} ({row.decision_source})" if row.decision else "—"),
        ("Recovered", f"${row.amount_recovered:,.2f}" if row.amount_recovered is not None else "—"),
        ("Portal's words", row.refusal or "—"),
        ("Last error", row.last_error or "—"),
    ]
    table = Table(show_header=False, box=None)
    for name, value in facts:
        table.add_row(f"[bold]{name}[/]", escape(value))
    console.print(table)


@appeal_app.command("requeue")
def requeue_command(
    appeal_id: Annotated[str, typer.Argument(help="The refused appeal, e.g. AP-1F2E3D4C.")],
    packet: PacketOption = None,
) -> None:
    """Queue a refused appeal again, corrected as the portal said (with a new packet if that was the problem)."""
    from flows.appeal_queue import requeue
    from store.db import session_scope
    from worker.clock import utcnow

    settings = load_settings()
    keep = packet_keeper(settings, packet)
    with session_scope(open_engine(settings)) as session:
        requeue(session, appeal_id.upper(), utcnow(), packet=keep)
    console.print(f"Queued {appeal_id.upper()} again.")


def _state_words(row: AppealRow) -> str:
    if row.state == "filed" and row.adopted:
        return "filed (found on the portal)"
    return row.state.replace("_", " ")
