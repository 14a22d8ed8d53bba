"""`portal-worker feed status|replay|preview|send`: the outbound feed to the practice management system
(docs/feed.md). `status` and `preview` only read; `replay` moves a channel's cursor back; `send` delivers now."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, time, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from worker.cli.app import console, load_settings, open_engine
from worker.cli.feed_group import feed_app

if TYPE_CHECKING:
    from worker.settings import Settings

ChannelOption = Annotated[
    str | None, typer.Option("--channel", help="Only this channel (its name in [feed.channels]); default: all.")
]


def chosen_channels(settings: Settings, channel: str | None) -> list[str]:
    """The channels a command works on; an unknown name is refused before anything is read or changed."""
    configured = list(settings.feed.channels)
    if not configured:
        from worker.cli.feed_view import NOT_CONFIGURED

        raise typer.BadParameter(NOT_CONFIGURED, param_hint="[feed.channels]")
    if channel is None:
        return configured
    if channel not in configured:
        raise typer.BadParameter(
            f"no feed channel named {channel!r} (configured: {', '.join(configured)})", param_hint="--channel"
        )
    return [channel]


def parse_since(value: str, tz: tzinfo) -> datetime:
    """--since: a day (YYYY-MM-DD, from its midnight in the practice's time zone) or an ISO time (practice
    time unless it names its offset), as UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time.min, tz)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value[:40]!r} is not a date: write YYYY-MM-DD (practice time) or an ISO time like 2026-11-02T08:00",
            param_hint="--since",
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)


@feed_app.command("status")
def status_command() -> None:
    """Each channel: where it sends, what waits and since when, what was delivered, and its last error."""
    from store import feed
    from store.db import session_scope
    from worker.cli.feed_view import NOT_CONFIGURED, feed_table
    from worker.clock import utcnow

    settings = load_settings()
    if not settings.feed.channels:
        console.print(NOT_CONFIGURED, markup=False, highlight=False)
        return
    with session_scope(open_engine(settings)) as session:
        backlog = feed.backlog(session, list(settings.feed.channels))
    console.print(feed_table(settings.feed.channels, backlog, utcnow(), settings.worker.tzinfo, full=True))


@feed_app.command("replay")
def replay_command(
    since: Annotated[
        str,
        typer.Option(
            "--since",
            help="Send again every kept event recorded from then on: YYYY-MM-DD (practice time) or an ISO time.",
        ),
    ],
    channel: ChannelOption = None,
) -> None:
    """Send events again, in order, after the PM system was restored from a backup."""
    from store import feed
    from store.db import session_scope
    from worker.clock import aware

    settings = load_settings()
    names = chosen_channels(settings, channel)
    moment = parse_since(since, settings.worker.tzinfo)
    local = settings.worker.tzinfo
    with session_scope(open_engine(settings)) as session:
        oldest = feed.oldest_kept(session)
        counts = {name: feed.rewind(session, name, moment) for name in names}
    if oldest is None:
        console.print("No events are kept: there is nothing to send again.", highlight=False)
        return
    kept_from = aware(oldest).astimezone(local)
    if moment < kept_from:
        console.print(
            f"Events before {kept_from:%Y-%m-%d %H:%M} are no longer kept (every channel had them, and "
            f"feed.keep_days = {settings.feed.keep_days}): the replay starts there.",
            highlight=False,
        )
    start = f"{moment.astimezone(local):%Y-%m-%d %H:%M}"
    for name, count in counts.items():
        console.print(f"{escape(name)}: {count} event(s) from {start} on will be sent again.", highlight=False)
    console.print(
        "They go out in order with the next delivery: within feed.poll_seconds while `portal-worker run` runs, "
        "or now with `portal-worker feed send`. Receivers deduplicate by event id.",
        highlight=False,
    )


@feed_app.command("preview")
def preview_command(
    channel: ChannelOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many events to show.")] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON message per line: exactly the bytes a webhook would get.")
    ] = False,
) -> None:
    """The next events as a channel would get them, without sending anything or moving its place."""
    from store import feed
    from store.db import session_scope
    from worker.clock import utcnow
    from worker.feed.pump import outgoing

    settings = load_settings()
    names = chosen_channels(settings, channel)
    if as_json and len(names) > 1:
        raise typer.BadParameter(
            f"--json shows one channel's messages: name it with --channel ({', '.join(names)})", param_hint="--channel"
        )
    with session_scope(open_engine(settings)) as session:
        shown = {}
        for name in names:
            config = settings.feed.channels[name]
            rows = feed.preview(session, name, limit, config.types)
            shown[name] = outgoing(session, settings, rows, utcnow())
    if as_json:
        sys.stdout.flush()
        for item in shown[names[0]]:
            sys.stdout.buffer.write(item.body + b"\n")
        sys.stdout.buffer.flush()
        return
    for name, items in shown.items():
        console.print(f"[bold]{escape(name)}[/]: the next {len(items)} event(s)" + ("" if items else " (none waiting)"))
        for item in items:
            console.print_json(json.dumps(item.message, ensure_ascii=False))


@feed_app.command("send")
def send_command(channel: ChannelOption = None) -> None:
    """Deliver what waits now, even a channel backing off after a failure (for installations that run `check`
    from cron rather than `run`). Exit 1 when a channel failed."""
    import os
    import socket

    from worker.feed.pump import FeedPump

    settings = load_settings()
    names = chosen_channels(settings, channel)
    pump = FeedPump(settings, open_engine(settings), f"feed-send:{socket.gethostname()}:{os.getpid()}")
    failed = False
    try:
        for name in names:
            result = pump.deliver(name, force=True)
            said = f"{escape(name)}: {result.sent} event(s) sent"
            if result.skipped:
                said += f"; {escape(result.skipped)}"
            if result.error:
                failed = True
                said += f"; [red]failed:[/] {escape(result.error)} (what was not sent waits for the next try)"
            console.print(said, highlight=False)
    finally:
        pump.close()
    if failed:
        raise typer.Exit(1)
