"""The Typer application every command module registers on, and what all commands share.

Start-up cost is paid by every command, `--help` included, so this module imports only
Typer and Rich: each command imports what it uses (Playwright, SQLAlchemy, Alembic,
APScheduler, the keyring) inside its own body.
"""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from typer._click import Context as ClickContext  # typer vendors click: its group takes this Context

    from worker.settings import Settings

DEFAULT_CONFIG = "portal-worker.toml"
UMASK = 0o077  # everything the worker writes is the service user's alone


class Commands(TyperGroup):
    """The command group: a person's error becomes a message on stderr and exit code 2 here, inside the
    command, so every way of running it (the `portal-worker` script, Typer's CliRunner) says the same."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            told = user_error(exc)
            if told is None:
                raise
            message, code = told
            err.print(message, markup=True, highlight=False)
            raise typer.Exit(code) from None


app = typer.Typer(
    help="Checks claims on payer portals so billing staff don't have to.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=Commands,
)
import_app = typer.Typer(help="Import data exported from the practice management system.", no_args_is_help=True)
credentials_app = typer.Typer(
    help="Portal credentials, kept in the OS keyring (or an encrypted file).", no_args_is_help=True
)
browser_app = typer.Typer(help="The Chromium the worker drives.", no_args_is_help=True)
fake_app = typer.Typer(help="The bundled fake payer portals (for trying things out).", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: what needs a person and by when. Without a command: list the open ones.")
db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
# Command groups, in the help panels of the areas their modules fill.
app.add_typer(import_app, name="import", rich_help_panel="Your data")
app.add_typer(alerts_app, name="alerts", rich_help_panel="Alerts")
app.add_typer(credentials_app, name="credentials", rich_help_panel="Setting up")
app.add_typer(db_app, name="db", rich_help_panel="Setting up")
app.add_typer(browser_app, name="browser", rich_help_panel="Setting up")
app.add_typer(fake_app, name="fake-portal", rich_help_panel="Setting up")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
if not console.is_terminal:
    console.width = max(console.width, 180)  # piped or logged: no table squeezed to 80 columns

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", envvar="PORTAL_WORKER_CONFIG", help="The TOML config file.")
]


class State:
    config_path: Path = Path(DEFAULT_CONFIG)


state = State()


@app.callback()
def main_options(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    state.config_path = config


def load_settings() -> Settings:
    from worker import logs
    from worker.settings import Settings

    settings = Settings.load(state.config_path)
    # A folder this user cannot make: the store says so (StoreNotWritable) when a command needs it.
    with suppress(OSError):
        settings.worker.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.configure(settings.worker.log_level, settings.worker.data_dir / "logs" / "portal-worker.jsonl")
    return settings


def open_engine(settings: Settings) -> Engine:
    """The store, with its schema created on first use."""
    from store.db import create_schema, make_engine

    engine = make_engine(settings.database_url())
    create_schema(engine)
    return engine


def practice_today(settings: Settings) -> date:
    """Today in the practice's time zone: deadlines are counted in its days."""
    return datetime.now(settings.worker.tzinfo).date()


def require_portal(settings: Settings, portal: str) -> None:
    from worker.settings import ConfigError

    if portal not in settings.portals:
        raise ConfigError(
            f"{settings.config_path}: no portal named {portal!r} (configured: {', '.join(settings.portals)})"
        )


def user_error(exc: Exception) -> tuple[str, int] | None:
    """What to tell a person about an error they can act on, and the exit code; None for a bug.

    The classes are imported here, on the error path, not at start-up: each lives with the code
    that raises it, and importing them all would import most of the worker for `--help`."""
    from flows.alerts import AlertNotFound
    from flows.appeal_queue import AppealProblem
    from flows.auth_requests import RequestProblem
    from flows.claim_import import ImportRejected
    from flows.denials import DenialActionRefused
    from flows.era import EraParseError
    from store.db import StoreDamaged, StoreNotWritable
    from store.migrate import SchemaTooNew
    from worker.runtime.browser import BrowserNotFound
    from worker.security.credentials import CredentialStoreUnavailable
    from worker.security.listening import ListenRefused
    from worker.security.staff import StaffRefused
    from worker.settings import ConfigError

    words = escape(str(exc))  # the text names config keys such as [portals.unity]: not markup
    if isinstance(exc, ImportRejected):
        joint = " " if len(exc.problems) == 1 else "\n"
        return f"[red]import rejected, nothing was written:[/]{joint}{words}", 2
    if isinstance(exc, EraParseError):
        return f"[red]ERA rejected, nothing was imported:[/] {words}", 2
    if isinstance(
        exc,
        (
            DenialActionRefused,
            AlertNotFound,
            ConfigError,
            CredentialStoreUnavailable,
            BrowserNotFound,
            SchemaTooNew,
            StoreDamaged,
            StoreNotWritable,
            StaffRefused,
            ListenRefused,
            RequestProblem,
            AppealProblem,
        ),
    ):
        return f"[red]error:[/] {words}", 2
    return None


def main() -> None:
    os.umask(UMASK)
    app()
