"""What `portal-worker alerts` and `portal-worker digest` do and print (cli.py only declares them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from flows.alerts import acknowledge
from store.alerts import alerts_page, count_unresolved
from store.db import session_scope
from store.models import Alert
from worker.cli.paging import print_footer
from worker.delivery import notify
from worker.settings import ConfigError, Settings

SNOOZE = re.compile(r"\s*(\d+)\s*([hdw])\s*", re.IGNORECASE)
SNOOZE_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
SEVERITY_COLOURS = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def parse_snooze(text: str) -> timedelta:
    """ "3d", "12h", "1w" as a duration; ValueError says what is accepted."""
    match = SNOOZE.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a snooze like 3d, 12h or 1w (a whole number of hours, days or weeks)")
    return int(match.group(1)) * SNOOZE_UNITS[match.group(2).lower()]


def alerts_table(alerts: Sequence[Alert], *, with_status: bool = False, total: int | None = None) -> Table:
    """Alerts as staff read them: ids, payers, amounts, dates, codes; never a patient name."""
    table = Table(title=f"{len(alerts) if total is None else total} alert(s), soonest first", title_justify="left")
    for column in ("ID", "Severity", "Kind", "Title", "Action", "Due", "Owner", *(["Status"] if with_status else [])):
        table.add_column(column, overflow="fold")
    for alert in alerts:
        colour = SEVERITY_COLOURS.get(alert.severity, "")
        row = [
            str(alert.id),
            f"[{colour}]{alert.severity}[/]" if colour else alert.severity,
            alert.kind,
            escape(alert.title),
            escape(alert.action),
            alert.due.isoformat() if alert.due else "-",
            alert.owner,
        ]
        if with_status:
            by = alert.acknowledged_by if alert.status in ("acknowledged", "snoozed") else None
            row.append(f"{alert.status} by {escape(by)}" if by else alert.status)
        table.add_row(*row)
    return table


def print_alerts(
    console: Console,
    settings: Settings,
    engine: Engine,
    now: datetime,
    *,
    include_all: bool,
    page: tuple[int, int] = (0, 0),
) -> None:
    """Open alerts as of now (a snooze that ended counts as open), or with --all every alert and its status.
    `page` is (limit, offset); limit 0 shows every alert."""
    notify.refresh_alerts(settings, engine, now)
    with session_scope(engine) as session:
        shown = alerts_page(session, *page, now=None if include_all else now)
        waiting = count_unresolved(session) - shown.total
    console.print(alerts_table(shown.items, with_status=include_all, total=shown.total))
    print_footer(console, shown, "alert(s)")
    if not include_all and waiting:
        console.print(f"{waiting} acknowledged or snoozed alert(s) not shown (--all shows every alert).")


def ack(
    console: Console,
    settings: Settings,
    engine: Engine,
    alert_id: int,
    snooze: timedelta | None,
    now: datetime,
    *,
    by: str,
) -> None:
    with session_scope(engine) as session:
        alert = acknowledge(session, alert_id, now, snooze, by=by)
    if alert.status == "resolved":
        console.print(f"Alert {alert_id} is already resolved; nothing to do.")
    elif alert.status == "snoozed" and alert.snoozed_until is not None:
        until = alert.snoozed_until.astimezone(settings.worker.tzinfo)
        console.print(
            f"Alert {alert_id} snoozed by {escape(by)} until {until:%a %d %b %H:%M} ({settings.worker.timezone}); "
            "it comes back then if still true.",
            highlight=False,
        )
    else:
        console.print(
            f"Alert {alert_id} acknowledged by {escape(by)}: out of the daily summary until it escalates or comes back."
        )


def print_preview(console: Console, settings: Settings, engine: Engine, now: datetime) -> list[notify.Preview]:
    """Refresh the alerts, then print each channel's summary as its text version reads."""
    previews = notify.preview(settings, engine, now)
    if not settings.alerts.channels:
        console.print("No alert channels in the config: this is the summary for every department.")
    if not settings.web.base_url:
        console.print("Links are off because web.base_url is not set: the summary links to no workspace page.")
    for shown in previews:
        audience = ", ".join(shown.owners) or "every department"
        console.rule(f"{escape(shown.channel)} ({audience})")
        console.print(shown.text, markup=False, highlight=False, end="")
    return previews


def send_now(console: Console, err: Console, settings: Settings, engine: Engine, now: datetime) -> bool:
    """`digest --send`: the digest job, now, retrying failed summaries whatever their attempts. True if none failed."""
    if not settings.alerts.channels:
        raise ConfigError(
            "no alert channels in the config, so nothing to send to: add an alerts.channels.NAME "
            'table with urls (README, "Alerts and the daily summary")'
        )
    outcomes = notify.send_digests(settings, engine, now, retry_all=True)
    for outcome in outcomes:
        line = f"{outcome.day}  {outcome.key}: {outcome.state}" + (f" ({outcome.detail})" if outcome.detail else "")
        (err if outcome.state == "failed" else console).print(line, markup=False, highlight=False)
    return not any(outcome.state == "failed" for outcome in outcomes)
