"""Setting the worker up: portal credentials, the database schema, the browser, the fake portals and the demo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from worker.cli.app import (
    app,
    browser_app,
    console,
    credentials_app,
    db_app,
    fake_app,
    load_settings,
    open_engine,
    require_portal,
    state,
)

PANEL = "Setting up"


@app.command(rich_help_panel=PANEL)
def init() -> None:
    """Write an example config (if there is none), create the data directory and the database."""
    from flows.rules import rules_dir

    if not state.config_path.exists():
        shutil.copyfile(rules_dir() / "portal-worker.example.toml", state.config_path)
        console.print(
            f"Wrote an example config to [bold]{escape(str(state.config_path))}[/]; edit it, then run this again."
        )
    settings = load_settings()
    open_engine(settings)
    console.print(f"Data directory [bold]{escape(str(settings.worker.data_dir))}[/] and database ready.")


@credentials_app.command("set")
def credentials_set(
    portal: Annotated[str, typer.Argument(help="The portal's name in the config.")],
    stdin: Annotated[
        bool,
        typer.Option(
            "--stdin",
            help="Read JSON {username, password, totp_secret, security_answers} from standard input (for automation).",
        ),
    ] = False,
) -> None:
    """Store a portal's username, password and (if it has one) TOTP secret. Never as arguments."""
    from portals.types import Credentials
    from worker.runtime.gates import record_credentials
    from worker.security.credentials import open_store

    settings = load_settings()
    require_portal(settings, portal)
    if stdin:
        blob = json.loads(sys.stdin.read())
        creds = Credentials(
            blob["username"],
            blob["password"],
            blob.get("totp_secret") or None,
            dict(blob.get("security_answers") or {}),
        )
    else:
        username = typer.prompt("Username")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        totp = typer.prompt(
            "TOTP secret (empty if the portal has no authenticator step)",
            default="",
            hide_input=True,
            show_default=False,
        )
        answers: dict[str, str] = {}
        while question := typer.prompt(
            "Security question as the portal shows it (empty when done)", default="", show_default=False
        ):
            answers[question] = typer.prompt("Answer", hide_input=True)
        creds = Credentials(username, password, totp or None, answers)
    store = open_store(settings.worker.data_dir)
    store.save(portal, creds)
    record_credentials(settings, open_engine(settings), store)
    console.print(f"Stored credentials for [bold]{escape(portal)}[/] in {escape(store.description)}.")


@credentials_app.command("test")
def credentials_test(
    portal: Annotated[str | None, typer.Argument(help="One portal; all configured ones if omitted.")] = None,
) -> None:
    """Log in to each portal with its stored credentials and say what happened."""
    from worker.runtime.login_check import check_logins

    settings = load_settings()
    names = [portal] if portal else list(settings.portals)
    for name in names:
        require_portal(settings, name)
    results = check_logins(settings, names)
    for name, (ok, message) in results.items():
        console.print(f"{'[green]ok[/]' if ok else '[red]FAILED[/]'}  {escape(name)}: {escape(message)}")
    if not all(ok for ok, _ in results.values()):
        raise typer.Exit(1)


@credentials_app.command("delete")
def credentials_delete(portal: Annotated[str, typer.Argument()]) -> None:
    """Remove a portal's stored credentials."""
    from worker.runtime.gates import record_credentials
    from worker.security.credentials import open_store

    settings = load_settings()
    store = open_store(settings.worker.data_dir)
    deleted = store.delete(portal)
    record_credentials(settings, open_engine(settings), store)
    done = f"Deleted credentials for {portal}." if deleted else f"No credentials stored for {portal}."
    console.print(done, markup=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to this version's schema. Workers do it on start; with several, do it once first."""
    from store.db import make_engine
    from store.migrate import upgrade

    before, head = upgrade(make_engine(load_settings().database_url()))  # main() reports SchemaTooNew
    console.print(
        f"Schema already at {head}."
        if before == head
        else f"Schema upgraded from {before or 'an empty database'} to {head}.",
        highlight=False,
    )


@db_app.command("current")
def db_current() -> None:
    """The schema revision the database is at, and the newest this portal-worker knows."""
    from store.db import make_engine
    from store.migrate import current_revision, head_revision

    current, head = current_revision(make_engine(load_settings().database_url())), head_revision()
    known = "newest" if current == head else f"this portal-worker's newest is {head}"
    console.print(f"{current or 'none recorded'} ({known})", highlight=False)


@browser_app.command("setup")
def browser_setup() -> None:
    """Find a Chromium; install Debian's (as root) or Playwright's if there is none. Says which."""
    from worker.runtime.browser import setup_browser

    choice, action = setup_browser()
    where = choice.executable_path or "Playwright's browser folder"
    console.print(f"Chromium: {action}: {choice.source} at {where}", markup=False)


@fake_app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def fake_portal_serve(ctx: typer.Context) -> None:
    """Run the bundled fake portals (options as `fake-portal serve --help`)."""
    # the same interpreter, our own module: only the options are the user's, passed as arguments
    raise typer.Exit(subprocess.call([sys.executable, "-m", "fake_portal", "serve", *ctx.args]))  # noqa: S603


@app.command(rich_help_panel=PANEL)
def demo(
    claims_per_payer: Annotated[int, typer.Option(help="Claims per payer in the fake practice.")] = 12,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files (replaced).")] = Path("demo-data"),
) -> None:
    """Start the fake portals, import the practice's claims and check them all, end to end."""
    from worker.cli.demo import run_demo

    run_demo(console, data_dir.resolve(), claims_per_payer)
