"""The `portal-worker appeal` command group: several modules add their subcommands to it
(appeal_packets.py: build; the filing and decision modules theirs), so it lives on its own."""

from __future__ import annotations

import typer

from worker.cli.app import app

appeal_app = typer.Typer(help="Appeals of denials: packets, filing, decisions.", no_args_is_help=True)
app.add_typer(appeal_app, name="appeal", rich_help_panel="Your data")
