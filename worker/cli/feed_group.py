"""The `portal-worker feed` command group: the outbound feed to the practice management system. Several
modules add their subcommands to it (feed.py: status, replay, preview, send; feed_secret.py: secret)."""

from __future__ import annotations

import typer

from worker.cli.app import app

feed_app = typer.Typer(help="The outbound feed to the practice management system.", no_args_is_help=True)
app.add_typer(feed_app, name="feed", rich_help_panel="Your data")
