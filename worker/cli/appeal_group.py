"""The `portal-worker appeal ...` command group; each appeal module registers its commands on `appeal_app`."""

from __future__ import annotations

import typer

from worker.cli.app import app

appeal_app = typer.Typer(help="Appeals: packets, filing, decisions.", no_args_is_help=True)
app.add_typer(appeal_app, name="appeal", rich_help_panel="Denials")
