"""What `portal-worker status` and `schedule` show: portals, queue, jobs, heartbeats, the feed, what is due."""

from __future__ import annotations

import socket
from collections import Counter
from contextlib import suppress
from datetime import datetime, timedelta

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from store import accounts, feed, health, tasks
from store.alerts import digests_by_state
from store.db import StoreNotWritable, session_scope
from store.runs import recent_runs
from worker.cli.feed_view import feed_table
from worker.clock import aware, utcnow
from worker.runtime.check_runs import is_running, mark_interrupted_checks
from worker.runtime.gates import PortalGates
from worker.runtime.heartbeat import ROLE, Liveness, liveness
from worker.runtime.jobs import JobSpec, job_specs, next_fire
from worker.runtime.planning import JOB_KINDS, Planner
from worker.settings import WORKER_JOBS, Settings


def print_status(console: Console, ctx: PortalGates) -> Liveness:
    now = utcnow()
    alive = liveness(ctx.engine, ctx.settings, now)
    console.print(f"[{'green' if alive.ok else 'red'}]{escape(alive.message)}[/]")
    workers = _workers_table(ctx, now)
    if workers is not None:
        console.print(workers)
    console.print(_portals_table(ctx, now))
    console.print(_queue_table(ctx))
    console.print(_jobs_table(ctx.settings, ctx, now))
    checks = _checks_table(ctx)
    if checks is not None:
        console.print(checks)
    with session_scope(ctx.engine) as session:
        failures = tasks.recent_failures(session, limit=10)
    if failures:
        table = Table("Task", "Kind", "Portal", "Target", "Attempts", "Last error", title="Parked (failed) tasks")
        for task in failures:
            table.add_row(str(task.id), task.kind, task.portal, task.target, str(task.attempts), task.last_error or "")
        console.print(table)
    if ctx.settings.feed.channels:
        with session_scope(ctx.engine) as session:
            backlog = feed.backlog(session, list(ctx.settings.feed.channels))
        console.print(feed_table(ctx.settings.feed.channels, backlog, now, ctx.settings.worker.tzinfo, full=False))
    deliveries = _deliveries_table(ctx, now)
    if deliveries is not None:
        console.print(deliveries)
    return alive


DELIVERIES_SHOWN_DAYS = 14
CHECKS_SHOWN = 5


def _checks_table(ctx: PortalGates) -> Table | None:
    """The last few `check` runs; one killed on this host shows "interrupted", never "running" forever."""
    with suppress(StoreNotWritable):  # a read-only store: the table below still tells them apart
        mark_interrupted_checks(ctx.engine)
    with session_scope(ctx.engine) as session:
        runs = recent_runs(session, CHECKS_SHOWN)
    if not runs:
        return None
    local, host = ctx.settings.worker.tzinfo, socket.gethostname()
    table = Table("Started", "Host", "PID", "Result", title="Recent checks")
    for run in runs:
        if run.finished_at is not None:
            done = run.summary or []
            checked = sum(int(row.get("checked", 0)) for row in done)
            problems = sum(1 for row in done if row.get("problem"))
            result = f"[green]finished[/] {aware(run.finished_at).astimezone(local):%a %d %b %H:%M}: {checked} checked"
            result += f", [red]{problems} portal(s) with a problem[/]" if problems else ""
        elif run.interrupted_at is not None or (
            run.host == host and run.pid and not is_running(run.pid, run.process_started)
        ):
            result = "[red]interrupted[/] (its process ended before it finished)"
        else:
            result = "running"
        table.add_row(
            f"{aware(run.started_at).astimezone(local):%a %d %b %H:%M}",
            escape(run.host or "-"),
            str(run.pid or "-"),
            result,
        )
    return table


def _workers_table(ctx: PortalGates, now: datetime) -> Table | None:
    """Every running worker process (several hosts may share one database), and which one schedules."""
    stale_after = timedelta(seconds=ctx.settings.run.stale_after_seconds)
    with session_scope(ctx.engine) as session:
        beats = [beat for beat in health.heartbeats(session) if beat.stopped_at is None]
    if not beats:
        return None
    table = Table("Worker", "Host", "PID", "Role", "Last beat", "Runners", title="Workers")
    for beat in beats:
        age = now - aware(beat.beat_at)
        runners = {name: state for name, state in beat.detail.items() if name != ROLE}
        table.add_row(
            escape(beat.worker_id),
            escape(beat.host),
            str(beat.pid),
            beat.detail.get(ROLE, "-"),
            f"{age.total_seconds():.0f} s ago" + (" [red](stale)[/]" if age > stale_after else ""),
            escape(", ".join(f"{name}: {state}" for name, state in sorted(runners.items()))),
        )
    return table


def _deliveries_table(ctx: PortalGates, now: datetime) -> Table | None:
    """Daily summaries that did not (surely) arrive: failed ones are retried, unconfirmed ones are not."""
    since = now.astimezone(ctx.settings.worker.tzinfo).date() - timedelta(days=DELIVERIES_SHOWN_DAYS)
    with session_scope(ctx.engine) as session:
        troubled = [d for d in digests_by_state(session, ["failed", "unconfirmed"]) if d.digest_date >= since]
    if not troubled:
        return None
    limit = ctx.settings.alerts.delivery_attempts
    table = Table("Day", "Channel", "State", "Attempts", "Last error", title="Deliveries (daily summary)")
    for digest in troubled:
        state = digest.state
        if state == "failed":
            state = "failed, gave up" if digest.attempts >= limit else "failed, will retry"
        table.add_row(
            digest.digest_date.isoformat(),
            escape(digest.channel),
            f"[red]{state}[/]",
            str(digest.attempts),
            escape(digest.last_error or ""),
        )
    return table


def _portals_table(ctx: PortalGates, now: datetime) -> Table:
    table = Table("Portal", "State", "Detail", "Last success", title="Portals")
    with session_scope(ctx.engine) as session:
        pauses = health.active_pauses(session, now)
    for name, config in ctx.settings.portals.items():
        gate = ctx.gate(name, now)
        with session_scope(ctx.engine) as session:
            account = accounts.peek_account(session, name, config.adapter)
        state, detail = gate.state, gate.detail or ""
        paused_flows = [p for p in pauses if p.portal == name]
        if paused_flows and gate.open:
            state = "layout changed"
            local = ctx.settings.worker.tzinfo
            detail = "; ".join(
                f"{p.kind} paused until {aware(p.until).astimezone(local):%Y-%m-%d %H:%M}: {p.reason}"
                for p in paused_flows
            )
        colour = "green" if state == "ok" else "yellow" if state in ("closed", "paused") else "red"
        last = (
            f"{aware(account.last_success_at).astimezone(ctx.settings.worker.tzinfo):%Y-%m-%d %H:%M}"
            if account.last_success_at
            else "never"
        )
        table.add_row(name, f"[{colour}]{state}[/]", detail, last)
    return table


def _queue_table(ctx: PortalGates) -> Table:
    with session_scope(ctx.engine) as session:
        depth = tasks.queue_depth(session)
    states = ("queued", "leased", "done", "failed")
    table = Table("Kind", *[s.capitalize() for s in states], title="Queue")
    for kind in sorted({kind for kind, _ in depth}):
        table.add_row(kind, *[str(depth.get((kind, state), 0)) for state in states])
    return table


def _jobs_table(settings: Settings, ctx: PortalGates, now: datetime) -> Table:
    with session_scope(ctx.engine) as session:
        runs = health.job_runs(session)
    table = Table("Job", "Schedule", "Portals", "Last success", "Enqueued", "Next run", "Last error", title="Jobs")
    local = settings.worker.tzinfo
    for spec in job_specs(settings):
        run = runs.get(spec.job_id)
        upcoming = next_fire(spec, now)
        table.add_row(
            spec.job_id,
            spec.schedule,
            ", ".join(spec.portals) or "-",
            f"{aware(run.last_success_at).astimezone(local):%a %d %b %H:%M}"
            if run and run.last_success_at
            else "never",
            str(run.last_enqueued) if run else "-",
            f"{upcoming.astimezone(local):%a %d %b %H:%M}" if upcoming else "-",
            (run.last_error or "") if run else "",
        )
    return table


def print_schedule(console: Console, ctx: PortalGates, *, show: int = 10) -> None:
    """Each job's next runs, and what it would enqueue now and why."""
    now, local = utcnow(), ctx.settings.worker.tzinfo
    specs = job_specs(ctx.settings)
    table = Table("Job", "Schedule", "Portals", "Next runs", title=f"Schedule ({ctx.settings.worker.timezone})")
    for spec in specs:
        table.add_row(
            spec.job_id,
            spec.schedule,
            ", ".join(spec.portals) or "-",
            ", ".join(f"{t.astimezone(local):%a %d %b %H:%M}" for t in _next_runs(spec, now, 3)),
        )
    console.print(table)
    windows = Table("Portal", "Now", title="Portal hours")
    for name in ctx.settings.portals:
        gate = ctx.gate(name, now)
        windows.add_row(name, "open" if gate.open else f"{gate.state}: {gate.detail}")
    console.print(windows)
    planner = Planner(ctx.settings, ctx.engine, ctx.clock)
    for job in sorted({spec.job for spec in specs} - set(WORKER_JOBS)):
        due = planner.due(JOB_KINDS[job])
        per_portal = Counter(portal for portal, _ in due)
        summary = ", ".join(f"{portal} {count}" for portal, count in sorted(per_portal.items())) or "nothing"
        console.print(f"[bold]{job}[/]: due now: {escape(summary)}")
        for portal, item in due[:show]:
            console.print(f"  {portal:<12} {item.target:<16} {item.reason}", markup=False)
        if len(due) > show:
            console.print(f"  ... and {len(due) - show} more")


def _next_runs(spec: JobSpec, now: datetime, count: int) -> list[datetime]:
    times: list[datetime] = []
    after = now
    while len(times) < count:
        upcoming = spec.trigger.get_next_fire_time(times[-1] if times else None, after)
        if upcoming is None:
            break
        times.append(upcoming)
        after = upcoming + timedelta(seconds=1)
    return times
