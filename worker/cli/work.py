"""Working the portals: `check` in the foreground, `run` unattended, and `status`, `schedule`, `resume`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from worker.cli.app import app, console, err, load_settings, open_engine, require_portal
from worker.cli.paging import parse_day

PANEL = "Working the portals"

if TYPE_CHECKING:
    from worker.runtime.gates import PortalGates
    from worker.settings import Settings


@app.command(rich_help_panel=PANEL)
def check(
    portal: Annotated[list[str] | None, typer.Option(help="Only this portal (repeatable).")] = None,
    claim: Annotated[
        list[str] | None, typer.Option(help="Only this claim id (repeatable); checked even if not due.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Check every claim now, ignoring cadence and back-off.")] = False,
    what: Annotated[
        list[str] | None,
        typer.Option(
            help="claims, auths, providers, eligibility, auth-requests or appeals (repeatable; default claims, auths "
            "and providers: queued prior-auth requests and appeals are filed only when asked for)."
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="With --what eligibility: that day's appointments (YYYY-MM-DD), whatever the time; "
            "each appointment is still asked about once a day.",
        ),
    ] = None,
) -> None:
    """Check due claims, authorizations and provider enrollments (and, when asked, appointments' eligibility)."""
    from worker.cli import display
    from worker.runtime.check import KINDS_OF_WORK, WORK_KINDS, Check
    from worker.settings import ConfigError

    settings = load_settings()
    unknown_kinds = sorted(set(what or ()) - set(KINDS_OF_WORK))
    if unknown_kinds:
        raise ConfigError(f"--what {', '.join(unknown_kinds)}: choose from {', '.join(KINDS_OF_WORK)}")
    if day is not None and "eligibility" not in (what or ()):
        raise ConfigError("--date goes with --what eligibility (the day whose appointments to check)")
    visit_day = parse_day(day, "--date")
    unknown_portals = sorted(set(portal or ()) - set(settings.portals))
    if unknown_portals:
        raise ConfigError(f"unknown portal(s) {', '.join(unknown_portals)}; configured: {', '.join(settings.portals)}")
    with display.ClaimProgress(console) as progress:
        report = Check(settings).run(
            portals=portal or (),
            claim_ids=claim or (),
            force=force,
            what=tuple(what or WORK_KINDS),
            progress=progress,
            day=visit_day,
        )
    display.print_report(console, report)
    if any(r.problem for r in report.portals) or report.unknown_claims:
        raise typer.Exit(1)


@app.command(rich_help_panel=PANEL)
def run() -> None:
    """Work unattended: scheduled jobs enqueue what is due, runners check it. Stops on SIGTERM/SIGINT."""
    import signal

    from worker.runtime.service import Worker

    worker = Worker(load_settings())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: worker.request_stop())
    raise typer.Exit(worker.run())


@app.command(rich_help_panel=PANEL)
def status(
    check_alive: Annotated[
        bool,
        typer.Option(
            "--check", help="Only say whether a worker is alive; exit 1 when its heartbeat is stale (for monitoring)."
        ),
    ] = False,
    this_host: Annotated[
        bool,
        typer.Option(
            "--this-host", help="With --check: only a worker on this machine counts (several hosts share the database)."
        ),
    ] = False,
) -> None:
    """Portals (ok, paused, needs a password, layout changed), the queue, jobs, the feed and the worker's heartbeat."""
    import socket

    from worker.cli.status_view import print_status
    from worker.clock import utcnow
    from worker.runtime.heartbeat import liveness

    settings = load_settings()
    if not check_alive:
        print_status(console, _gates(settings))
        return
    alive = liveness(open_engine(settings), settings, utcnow(), host=socket.gethostname() if this_host else None)
    (console if alive.ok else err).print(alive.message, highlight=False)
    if not alive.ok:
        raise typer.Exit(1)


@app.command(rich_help_panel=PANEL)
def schedule(
    show: Annotated[int, typer.Option(help="How many due targets to list per job.")] = 10,
) -> None:
    """What will run next, when, and which claims, auths and providers are due now and why."""
    from worker.cli.status_view import print_schedule

    print_schedule(console, _gates(load_settings()), show=show)


@app.command(rich_help_panel=PANEL)
def resume(
    portal: Annotated[str, typer.Argument(help="The portal's name in the config.")],
    kind: Annotated[str | None, typer.Option(help="Only this kind of work (e.g. claim_status).")] = None,
) -> None:
    """Lift a pause: work a layout change stopped (after the adapter was fixed) and any back-off."""
    from store import accounts, health
    from store.db import session_scope

    settings = load_settings()
    require_portal(settings, portal)
    with session_scope(open_engine(settings)) as session:
        lifted = health.resume_flows(session, portal, kind)
        if kind is None:
            accounts.get_account(session, portal, settings.portals[portal].adapter)
            accounts.pause(session, portal, None)
    resumed = f"Resumed {portal}: {lifted} paused flow(s) lifted" + ("" if kind else ", back-off cleared") + "."
    console.print(resumed, markup=False)


def _gates(settings: Settings) -> PortalGates:
    """What `status` and `schedule` read: the store, and the database's record of this install's credentials
    (never the keyring, so a billing lead needs no key and no Argon2 wait)."""
    from worker.clock import utcnow
    from worker.runtime.gates import PortalGates, RecordedCredentials

    engine = open_engine(settings)
    return PortalGates(settings, engine, RecordedCredentials(engine, settings.worker.data_dir), clock=utcnow)
