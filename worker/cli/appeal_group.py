"""The `portal-worker appeal` command group, shared by the modules that add commands to it (filing and following
in appeals.py; building the packet in its own module)."""

from __future__ import annotations

import typer

from worker.cli.app import app

appeal_app = typer.Typer(
    help="Appeals of denials: build the packet, file it (online exactly once, or by fax or mail), follow it.",
    no_args_is_help=True,
)
app.add_typer(appeal_app, name="appeal", rich_help_panel="Your data")
