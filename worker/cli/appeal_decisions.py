"""`portal-worker appeal decide`: the payer's decision on a filed appeal, as staff read it (flows/appeal_decisions.py).

Write-offs are `portal-worker denial ID --status written-off --amount X --reason ...` (worker/cli/denials.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from worker.cli.app import console, err, load_settings, open_engine, practice_today
from worker.cli.appeal_group import appeal_app

MAX_NOTE = 2000


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"a date is YYYY-MM-DD, not {text.strip()[:20]!r}", param_hint="--on") from None


@appeal_app.command("decide")
def decide_command(
    appeal_id: Annotated[str, typer.Argument(help="The appeal's id (`portal-worker appeal list`).")],
    overturned: Annotated[bool, typer.Option("--overturned", help="The payer reversed its denial.")] = False,
    upheld: Annotated[bool, typer.Option("--upheld", help="The payer kept its denial.")] = False,
    amount: Annotated[
        str | None, typer.Option(help="With --overturned: the dollars the payer will pay, e.g. 240.00.")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option(help="The decision's date, YYYY-MM-DD (required with --upheld: the next level counts from it)."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Anything to keep with it (the denial's history).")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help='Who recorded it, e.g. your workspace login (default "staff").')
    ] = None,
) -> None:
    """Record the payer's decision on a filed appeal (overturned or upheld).

    An overturn resolves the denial with the amount recovered; an upheld decision reopens it with the next
    level's deadline counted from the decision date (and an alert for billing)."""
    from flows.appeal_decisions import DecisionRefused, record_decision
    from flows.denials import parse_dollars
    from store.appeal_decisions import get_appeal
    from store.db import session_scope
    from store.denials import history
    from worker.clock import utcnow

    if overturned == upheld:
        raise typer.BadParameter("say --overturned or --upheld (one of them)", param_hint="--overturned/--upheld")
    if upheld and amount is not None:
        raise typer.BadParameter("an upheld appeal recovers nothing: no --amount with --upheld", param_hint="--amount")
    if overturned and amount is None:
        raise typer.BadParameter("with --overturned, say what the payer will pay (e.g. 240.00)", param_hint="--amount")
    if upheld and on is None:
        raise typer.BadParameter("with --upheld, the decision's date: the next level counts from it", param_hint="--on")
    if note is not None and len(note) > MAX_NOTE:
        raise typer.BadParameter(f"longer than {MAX_NOTE} characters", param_hint="--note")
    recovered = parse_dollars(amount, "--amount") if amount is not None else None
    settings = load_settings()
    decided_on = _day(on) if on is not None else practice_today(settings)
    decision = "overturned" if overturned else "upheld"
    with session_scope(open_engine(settings)) as session:
        appeal = get_appeal(session, appeal_id.strip())
        if appeal is None:
            err.print(f"[red]error:[/] no appeal with id {escape(appeal_id.strip()[:40])!r}")
            raise typer.Exit(2)
        before = (appeal.state, appeal.decision, appeal.decided_on, appeal.amount_recovered)
        try:
            record_decision(
                session,
                appeal,
                decision=decision,
                decided_on=decided_on,
                amount_recovered=recovered,
                source="staff",
                actor=by.strip() if by and by.strip() else "staff",
                at=utcnow(),
                note=note.strip() if note and note.strip() else None,
            )
        except DecisionRefused as refused:
            err.print(f"[red]error, nothing was recorded:[/] {escape(str(refused))}")
            raise typer.Exit(2) from None
        if before == ("decided", decision, decided_on, recovered):
            console.print(f"Appeal {escape(appeal.appeal_id)} was already recorded {decision}: nothing changed.")
            return
        events = history(session, appeal.denial_id)
    said = events[-1].note if events else ""
    console.print(f"Denial {appeal.denial_id}, now {events[-1].status.replace('_', ' ')}: {escape(said or '')}")
