"""`portal-worker`: the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from flows.alerts import AlertNotFound
from flows.claim_import import ImportRejected
from flows.denials import DenialActionRefused
from flows.era import EraParseError
from store.migrate import SchemaTooNew
from worker import output
from worker.browser import BrowserNotFound, setup_browser
from worker.credentials import CredentialStoreUnavailable
from worker.settings import ConfigError, Settings

DEFAULT_CONFIG = "portal-worker.toml"

app = typer.Typer(help="Checks claims on payer portals so billing staff don't have to.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
import_app = typer.Typer(help="Import data exported from the practice management system.", no_args_is_help=True)
credentials_app = typer.Typer(help="Portal credentials, kept in the OS keyring (or an encrypted file).",
                              no_args_is_help=True)
browser_app = typer.Typer(help="The Chromium the worker drives.", no_args_is_help=True)
fake_app = typer.Typer(help="The bundled fake payer portals (for trying things out).", no_args_is_help=True)
report_app = typer.Typer(help="Reports for the billing manager.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: what needs a person and by when. Without a command: list the open ones.")
app.add_typer(report_app, name="report")
app.add_typer(alerts_app, name="alerts")
app.add_typer(import_app, name="import")
app.add_typer(credentials_app, name="credentials")
app.add_typer(browser_app, name="browser")
app.add_typer(fake_app, name="fake-portal")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
if not console.is_terminal:
    console.width = max(console.width, 180)  # piped or logged: no table squeezed to 80 columns

ConfigOption = Annotated[Path, typer.Option("--config", "-c", envvar="PORTAL_WORKER_CONFIG",
                                            help="The TOML config file.")]


class State:
    config_path: Path = Path(DEFAULT_CONFIG)


state = State()


@app.callback()
def main_options(config: ConfigOption = Path(DEFAULT_CONFIG)) -> None:
    state.config_path = config


def load_settings() -> Settings:
    from worker import logs

    settings = Settings.load(state.config_path)
    settings.worker.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.configure(settings.worker.log_level, settings.worker.data_dir / "logs" / "portal-worker.jsonl")
    return settings


# --- init / import / claims --------------------------------------------

@app.command()
def init() -> None:
    """Write an example config (if there is none), create the data directory and the database."""
    from flows.rules import rules_dir

    if not state.config_path.exists():
        shutil.copyfile(rules_dir() / "portal-worker.example.toml", state.config_path)
        console.print(f"Wrote an example config to [bold]{state.config_path}[/]; edit it, then run this again.")
    settings = load_settings()
    _engine(settings)
    console.print(f"Data directory [bold]{settings.worker.data_dir}[/] and database ready.")


@import_app.command("claims")
def import_claims(file: Annotated[Path, typer.Argument(help="CSV export of submitted claims.")]) -> None:
    """Import claims; a file with any bad row is rejected whole, with every problem listed."""
    from flows.claim_import import import_claims_file
    from store.claims import list_claims
    from store.db import session_scope
    from worker.clock import utcnow

    settings = load_settings()
    engine = _engine(settings)
    counts = import_claims_file(engine, file, utcnow())
    console.print(f"Imported {file.name}: {counts.inserted} new, {counts.updated} updated, "
                  f"{counts.unchanged} unchanged.")
    with session_scope(engine) as session:
        payers = {claim.payer_id for claim in list_claims(session)}
    unrouted = sorted(p for p in payers if settings.portal_for_payer(p) is None)
    if unrouted:
        err.print(f"[yellow]No portal in the config answers for payer(s) {', '.join(unrouted)}; "
                  "their claims will not be checked.[/]")


@import_app.command("auths")
def import_auths(file: Annotated[Path, typer.Argument(help="CSV export of prior authorizations.")]) -> None:
    """Import authorizations; a file with any bad row is rejected whole, with every problem listed."""
    from flows.auth_import import import_auths_file
    from worker.clock import utcnow

    counts = import_auths_file(_engine(load_settings()), file, utcnow())
    console.print(f"Imported {file.name}: {counts.inserted} new, {counts.updated} updated, "
                  f"{counts.unchanged} unchanged.")


@import_app.command("providers")
def import_providers(file: Annotated[Path, typer.Argument(help="CSV of the practice's providers (NPI, name, "
                                                                 "CAQH attestation date).")]) -> None:
    """Import providers; a file with any bad row is rejected whole, with every problem listed."""
    from flows.provider_import import import_providers_file
    from worker.clock import utcnow

    counts = import_providers_file(_engine(load_settings()), file, utcnow())
    console.print(f"Imported {file.name}: {counts.inserted} new, {counts.updated} updated, "
                  f"{counts.unchanged} unchanged.")


@import_app.command("era")
def import_era_file(file: Annotated[Path, typer.Argument(help="An X12 835 remittance file.")]) -> None:
    """Import an ERA (835) from disk: its denials join the worklist; a malformed file imports nothing."""
    from flows.remittances import import_era
    from worker.clock import utcnow

    settings = load_settings()
    result = import_era(_engine(settings), file.read_bytes(), source="file", file_id=file.name, at=utcnow())
    if result.already_imported:
        console.print(f"{file.name} was imported before; nothing to do.")
        return
    console.print(f"Imported {file.name}: {result.claims} claim(s), payments {result.payments:,.2f}, "
                  f"{result.new_denials} new denial(s), {result.resolved_denials} resolved.")
    if result.unmatched:
        err.print(f"[yellow]{len(result.unmatched)} claim(s) not in your claims (kept, listed in the worklist): "
                  f"{', '.join(result.unmatched)}[/]", highlight=False)


def _engine(settings: Settings) -> Engine:
    """The store, with its schema created on first use."""
    from store.db import create_schema, make_engine

    engine = make_engine(settings.database_url())
    create_schema(engine)
    return engine


def _today(settings: Settings) -> date:
    """Today in the practice's time zone: deadlines are counted in its days."""
    return datetime.now(settings.worker.tzinfo).date()


@app.command()
def worklist(
    owner: Annotated[Optional[str], typer.Option(help="Only this department, e.g. coding.")] = None,
    csv_path: Annotated[Optional[Path], typer.Option("--csv", help="Write the worklist as CSV here.")] = None,
    include_worked: Annotated[bool, typer.Option("--all", help="Also denials already appealed or resubmitted.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to show on screen.")] = 40,
) -> None:
    """Open denials, most worth working first: dollars x urgency x recoverability."""
    from flows.worklist import load_worklist
    from store.db import session_scope
    from store.denials import OPEN_STATES

    settings = load_settings()
    with session_scope(_engine(settings)) as session:
        items = load_worklist(session, _today(settings), owner=owner,
                              statuses=OPEN_STATES if include_worked else ("open",))
    if csv_path:
        output.write_worklist_csv(csv_path, items)
        console.print(f"Wrote {len(items)} denial(s) to {csv_path}.")
        return
    console.print(output.worklist_table(items[:limit]))
    if len(items) > limit:
        console.print(f"... and {len(items) - limit} more (--limit, or --csv for all).")


@app.command("denial")
def denial_command(
    denial_id: Annotated[int, typer.Argument(help="The denial's id, as the worklist shows it.")],
    status: Annotated[Optional[str], typer.Option(help="appealed, resubmitted, written-off, resolved or open.")] = None,
    note: Annotated[Optional[str], typer.Option(help="What was done (kept in the denial's history).")] = None,
) -> None:
    """Show a denial and its history; with --status, record what you did about it."""
    from flows.denials import record_staff_action
    from store.db import session_scope
    from store.denials import history
    from store.models import Denial
    from worker.clock import utcnow

    settings = load_settings()
    with session_scope(_engine(settings)) as session:
        if status:
            record_staff_action(session, denial_id, status, note, utcnow())
        denial = session.get(Denial, denial_id)
        if denial is None:
            raise DenialActionRefused(f"no denial with id {denial_id}")
        events = history(session, denial_id)
    console.print(output.denial_detail(denial, events))


@report_app.command("denials")
def report_denials() -> None:
    """Denials and dollars by payer, category, CARC, owner and month; denial rate and preventable share."""
    from flows.denial_report import denial_trends
    from store.claims import list_claims
    from store.db import session_scope
    from store.denials import list_denials

    settings = load_settings()
    with session_scope(_engine(settings)) as session:
        trends = denial_trends(list_denials(session), list_claims(session))
    output.print_trends(console, trends)


@app.command("auths")
def list_auths_command(
    status: Annotated[Optional[str], typer.Option(help="Only this state, e.g. pending.")] = None,
    payer: Annotated[Optional[str], typer.Option(help="Only this payer id.")] = None,
) -> None:
    """List authorizations with what the payer last said (no patient names or member ids)."""
    from store.authorizations import list_authorizations
    from store.db import session_scope

    with session_scope(_engine(load_settings())) as session:
        auths = list_authorizations(session, status=status, payer_id=payer)
    console.print(output.auths_table(auths))


@app.command("providers")
def list_providers_command() -> None:
    """List providers and their enrollment with each payer, as the portals last showed it."""
    from store.db import session_scope
    from store.observations import all_enrollments
    from store.providers import list_providers

    with session_scope(_engine(load_settings())) as session:
        providers, enrollments = list_providers(session), all_enrollments(session)
    console.print(output.providers_table(providers, enrollments))


@app.command("findings")
def list_findings_command(
    include_resolved: Annotated[bool, typer.Option("--all", help="Also findings that were resolved.")] = False,
) -> None:
    """Authorizations and enrollments about to cause denials, soonest first."""
    from store.db import session_scope
    from store.findings import all_findings, open_findings

    with session_scope(_engine(load_settings())) as session:
        findings = all_findings(session) if include_resolved else open_findings(session)
    console.print(output.findings_table(findings))


@app.command("claims")
def list_claims_command(
    status: Annotated[Optional[str], typer.Option(help="Only claims in this state, e.g. denied.")] = None,
    payer: Annotated[Optional[str], typer.Option(help="Only this payer id.")] = None,
) -> None:
    """List claims with their latest status (no patient names or member ids)."""
    from store.claims import list_claims
    from store.db import session_scope

    with session_scope(_engine(load_settings())) as session:
        claims = list_claims(session, status=status, payer_id=payer)
    console.print(output.claims_table(claims))


@app.command()
def check(
    portal: Annotated[Optional[list[str]], typer.Option(help="Only this portal (repeatable).")] = None,
    claim: Annotated[Optional[list[str]], typer.Option(help="Only this claim id (repeatable); checked even if not due.")] = None,
    force: Annotated[bool, typer.Option(help="Check every claim now, ignoring cadence and back-off.")] = False,
    what: Annotated[Optional[list[str]], typer.Option(help="claims, auths or providers (repeatable; default all).")] = None,
) -> None:
    """Check due claims, authorizations and provider enrollments on every configured portal."""
    from worker.runner import WORK_KINDS, CheckRunner

    settings = load_settings()
    unknown_kinds = sorted(set(what or ()) - set(WORK_KINDS))
    if unknown_kinds:
        raise ConfigError(f"--what {', '.join(unknown_kinds)}: choose from {', '.join(WORK_KINDS)}")
    unknown_portals = sorted(set(portal or ()) - set(settings.portals))
    if unknown_portals:
        raise ConfigError(f"unknown portal(s) {', '.join(unknown_portals)}; configured: "
                          f"{', '.join(settings.portals)}")
    with output.ClaimProgress(console) as progress:
        report = CheckRunner(settings).run(portals=portal or (), claim_ids=claim or (), force=force,
                                           what=tuple(what or WORK_KINDS), progress=progress)
    output.print_report(console, report)
    if any(r.problem for r in report.portals) or report.unknown_claims:
        raise typer.Exit(1)


# --- alerts and the daily summary -------------------------------------------


@alerts_app.callback(invoke_without_command=True)
def alerts_list(
    ctx: typer.Context,
    include_all: Annotated[bool, typer.Option("--all", help="Also acknowledged, snoozed and resolved alerts.")] = False,
) -> None:
    """List open alerts, soonest first (ids, payers, amounts, dates, codes; no patient names)."""
    from worker.alerts_cli import print_alerts
    from worker.clock import utcnow

    if ctx.invoked_subcommand is None:
        settings = load_settings()
        print_alerts(console, settings, _engine(settings), utcnow(), include_all=include_all)


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id, as `portal-worker alerts` shows it.")],
    snooze: Annotated[Optional[str], typer.Option(help="Hide it for this long, e.g. 3d, 12h or 1w; it comes back "
                                                       "if still true.")] = None,
) -> None:
    """Acknowledge an alert (out of the daily summary until it escalates), or snooze it."""
    from worker.alerts_cli import ack, parse_snooze
    from worker.clock import utcnow

    try:
        duration = parse_snooze(snooze) if snooze is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--snooze") from None
    settings = load_settings()
    ack(console, settings, _engine(settings), alert_id, duration, utcnow())


@app.command("digest")
def digest_command(
    preview: Annotated[bool, typer.Option("--preview", help="Refresh the alerts and print the summary; send "
                                                            "nothing.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Send today's summary through the configured channels now "
                                                      "(never twice a day; failed ones are retried).")] = False,
) -> None:
    """The daily summary of open alerts: --preview prints it, --send sends it (exit 1 if a channel failed)."""
    from worker.alerts_cli import print_preview, send_now
    from worker.clock import utcnow

    if preview == send:
        err.print("[red]error:[/] give exactly one of --preview or --send", highlight=False)
        raise typer.Exit(2)
    settings = load_settings()
    engine = _engine(settings)
    if preview:
        print_preview(console, settings, engine, utcnow())
    elif not send_now(console, err, settings, engine, utcnow()):
        raise typer.Exit(1)


# --- unattended ---------------------------------------------------------

@app.command()
def run() -> None:
    """Work unattended: scheduled jobs enqueue what is due, runners check it. Stops on SIGTERM/SIGINT."""
    import signal

    from worker.service import Worker

    worker = Worker(load_settings())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: worker.request_stop())
    raise typer.Exit(worker.run())


@app.command()
def status(
    check_alive: Annotated[bool, typer.Option("--check", help="Only say whether a worker is alive; exit 1 "
                                              "when its heartbeat is stale (for monitoring).")] = False,
    this_host: Annotated[bool, typer.Option("--this-host", help="With --check: only a worker on this machine "
                                            "counts (several hosts share the database).")] = False,
) -> None:
    """Portals (ok, paused, needs a password, layout changed), the queue, jobs and the worker's heartbeat."""
    import socket

    from worker.clock import utcnow
    from worker.status import liveness, print_status

    settings = load_settings()
    if not check_alive:
        print_status(console, _context(settings))
        return
    # Monitoring reads the heartbeat only: no credential store (its key is the service's, not the monitor's).
    alive = liveness(_engine(settings), settings, utcnow(), host=socket.gethostname() if this_host else None)
    (console if alive.ok else err).print(alive.message, highlight=False)
    if not alive.ok:
        raise typer.Exit(1)


@app.command()
def schedule(
    show: Annotated[int, typer.Option(help="How many due targets to list per job.")] = 10,
) -> None:
    """What will run next, when, and which claims, auths and providers are due now and why."""
    from worker.status import print_schedule

    print_schedule(console, _context(load_settings()), show=show)


@app.command()
def resume(
    portal: Annotated[str, typer.Argument(help="The portal's name in the config.")],
    kind: Annotated[Optional[str], typer.Option(help="Only this kind of work (e.g. claim_status).")] = None,
) -> None:
    """Lift a pause: work a layout change stopped (after the adapter was fixed) and any back-off."""
    from store import accounts, health
    from store.db import session_scope

    settings = load_settings()
    _require_portal(settings, portal)
    with session_scope(_engine(settings)) as session:
        lifted = health.resume_flows(session, portal, kind)
        if kind is None:
            accounts.get_account(session, portal, settings.portals[portal].adapter)
            accounts.pause(session, portal, None)
    console.print(f"Resumed {portal}: {lifted} paused flow(s) lifted" + ("" if kind else ", back-off cleared") + ".")


def _context(settings: Settings):  # type: ignore[no-untyped-def]
    """The shared view `status` and `schedule` read, without starting any runner."""
    from worker.browser import ChromiumChoice
    from worker.clock import utcnow
    from worker.credentials import open_store
    from worker.worker_context import WorkerContext

    return WorkerContext(settings, _engine(settings), open_store(settings.worker.data_dir),
                         clock=utcnow, chromium=ChromiumChoice(None, "not used"), worker_id="cli")


# --- credentials --------------------------------------------------------

@credentials_app.command("set")
def credentials_set(
    portal: Annotated[str, typer.Argument(help="The portal's name in the config.")],
    stdin: Annotated[bool, typer.Option("--stdin", help="Read JSON {username, password, totp_secret, "
                                        "security_answers} from standard input (for automation).")] = False,
) -> None:
    """Store a portal's username, password and (if it has one) TOTP secret. Never as arguments."""
    from portals.types import Credentials
    from worker.credentials import open_store

    settings = load_settings()
    _require_portal(settings, portal)
    if stdin:
        blob = json.loads(sys.stdin.read())
        creds = Credentials(blob["username"], blob["password"], blob.get("totp_secret") or None,
                            dict(blob.get("security_answers") or {}))
    else:
        username = typer.prompt("Username")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        totp = typer.prompt("TOTP secret (empty if the portal has no authenticator step)", default="",
                            hide_input=True, show_default=False)
        answers: dict[str, str] = {}
        while question := typer.prompt("Security question as the portal shows it (empty when done)",
                                       default="", show_default=False):
            answers[question] = typer.prompt("Answer", hide_input=True)
        creds = Credentials(username, password, totp or None, answers)
    store = open_store(settings.worker.data_dir)
    store.save(portal, creds)
    console.print(f"Stored credentials for [bold]{portal}[/] in {store.description}.")


@credentials_app.command("test")
def credentials_test(
    portal: Annotated[Optional[str], typer.Argument(help="One portal; all configured ones if omitted.")] = None,
) -> None:
    """Log in to each portal with its stored credentials and say what happened."""
    from worker.login_check import check_logins

    settings = load_settings()
    names = [portal] if portal else list(settings.portals)
    for name in names:
        _require_portal(settings, name)
    results = check_logins(settings, names)
    for name, (ok, message) in results.items():
        console.print(f"{'[green]ok[/]' if ok else '[red]FAILED[/]'}  {name}: {message}")
    if not all(ok for ok, _ in results.values()):
        raise typer.Exit(1)


@credentials_app.command("delete")
def credentials_delete(portal: Annotated[str, typer.Argument()]) -> None:
    """Remove a portal's stored credentials."""
    from worker.credentials import open_store

    settings = load_settings()
    deleted = open_store(settings.worker.data_dir).delete(portal)
    console.print(f"Deleted credentials for {portal}." if deleted else f"No credentials stored for {portal}.")


def _require_portal(settings: Settings, portal: str) -> None:
    if portal not in settings.portals:
        raise ConfigError(f"{settings.config_path}: no portal named {portal!r} (configured: "
                          f"{', '.join(settings.portals)})")


# --- database schema ------------------------------------------------------

db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to this version's schema. Workers do it on start; with several, do it once first."""
    from store.db import make_engine
    from store.migrate import upgrade

    before, head = upgrade(make_engine(load_settings().database_url()))  # main() reports SchemaTooNew
    console.print(f"Schema already at {head}." if before == head else
                  f"Schema upgraded from {before or 'an empty database'} to {head}.", highlight=False)


@db_app.command("current")
def db_current() -> None:
    """The schema revision the database is at, and the newest this portal-worker knows."""
    from store.db import make_engine
    from store.migrate import current_revision, head_revision

    current, head = current_revision(make_engine(load_settings().database_url())), head_revision()
    known = "newest" if current == head else f"this portal-worker's newest is {head}"
    console.print(f"{current or 'none recorded'} ({known})", highlight=False)


# --- browser / fake portal / demo -------------------------------------

@browser_app.command("setup")
def browser_setup() -> None:
    """Find a Chromium; install Debian's (as root) or Playwright's if there is none. Says which."""
    choice, action = setup_browser()
    where = choice.executable_path or "Playwright's browser folder"
    console.print(f"Chromium: {action}: {choice.source} at {where}")


@fake_app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def fake_portal_serve(ctx: typer.Context) -> None:
    """Run the bundled fake portals (options as `fake-portal serve --help`)."""
    raise typer.Exit(subprocess.call([sys.executable, "-m", "fake_portal", "serve", *ctx.args]))


@app.command()
def demo(
    claims_per_payer: Annotated[int, typer.Option(help="Claims per payer in the fake practice.")] = 12,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files (replaced).")] = Path("demo-data"),
) -> None:
    """Start the fake portals, import the practice's claims and check them all, end to end."""
    from worker.demo import run_demo

    run_demo(console, data_dir.resolve(), claims_per_payer)


def main() -> None:
    os.umask(0o077)  # everything the worker writes is the service user's alone
    try:
        app()
    except ImportRejected as exc:
        err.print(f"[red]import rejected, nothing was written:[/]\n{exc}", markup=True, highlight=False)
        sys.exit(2)
    except EraParseError as exc:
        err.print(f"[red]ERA rejected, nothing was imported:[/] {exc}", highlight=False)
        sys.exit(2)
    except (DenialActionRefused, AlertNotFound) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except (ConfigError, CredentialStoreUnavailable, BrowserNotFound, SchemaTooNew) as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)
