"""`portal-worker appeal build DENIAL_ID`: one PDF to send the payer (flows/appeal_packet.py says what is in it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from worker.cli.app import console, err, load_settings, open_engine, practice_today
from worker.cli.appeal_group import appeal_app


@appeal_app.command("build")
def build_command(
    denial_id: Annotated[int, typer.Argument(help="The denial's id (as in `portal-worker worklist`).")],
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A PDF to merge in, e.g. medical records (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of the data folder's packets/.")] = None,
) -> None:
    """Build a denial's appeal packet: one PDF to send the payer.

    The cover letter (for a claim to correct: a correction sheet), the claim summary, the payer's denial,
    eligibility and authorization when held, your attachments, and a checklist of what to attach still."""
    from flows.appeal_packet import PacketProblem
    from worker.runtime.packets import build_packet

    settings = load_settings()
    engine = open_engine(settings)
    try:
        built = build_packet(
            settings, engine, denial_id, today=practice_today(settings), attachments=attach or [], out=out
        )
    except PacketProblem as problem:
        err.print(f"[red]error:[/] {escape(str(problem))}; nothing was written", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    plan = built.plan
    what = "Correction sheet" if plan.correction else f"Appeal packet ({plan.level_name})"
    console.print(f"{what} for denial {denial_id}: {escape(str(built.path))} ({built.pages} pages)", highlight=False)
    for part in plan.parts:
        console.print(f"  - {escape(part.title)}", highlight=False)
    if plan.checklist:
        console.print("Still to attach:", highlight=False)
        for item in plan.checklist:
            console.print(f"  [ ] {escape(item)}", highlight=False)
