"""What `portal-worker feed status` and the Feed section of `status` show: where each channel stands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from rich.markup import escape
from rich.table import Table

from store.feed import Backlog
from worker.clock import aware
from worker.settings import FeedChannelSettings

NOT_CONFIGURED = (
    "No feed channels are configured: add a [feed.channels.NAME] table to the config (a webhook or a CSV folder; "
    "docs/feed.md says how)."
)


def destination(config: FeedChannelSettings) -> str:
    """Where a channel sends, without a path or query that could hold a token: the host, or the folder."""
    if config.kind == "webhook" and config.url:
        parts = urlsplit(config.url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return str(config.folder)


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = max((now - aware(moment)).total_seconds(), 0)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return f"{aware(moment).astimezone(tz):%Y-%m-%d %H:%M}" if moment else "-"


def failing(entry: Backlog, now: datetime) -> str:
    state = entry.state
    if state.failing_since is None:
        return "[green]ok[/]"
    return f"[red]failing since {ago(state.failing_since, now)}[/] ({state.consecutive_failures} in a row)"


def feed_table(
    channels: dict[str, FeedChannelSettings], backlog: Sequence[Backlog], now: datetime, tz: tzinfo, *, full: bool
) -> Table:
    """One row per channel; `full` adds the counts and times `feed status` shows."""
    columns = ["Channel", "Kind", "Goes to", "Waiting", "Oldest waiting", "State"]
    if full:
        columns += ["Delivered", "Last delivered", "Next attempt"]
    table = Table(*columns, "Last error", title="Feed to the PM system", caption=f"Times are {tz}.")
    for entry in backlog:
        config, state = channels[entry.name], entry.state
        row = [
            escape(entry.name),
            config.kind,
            escape(destination(config)),
            str(entry.waiting),
            ago(entry.oldest_waiting_at, now) if entry.waiting else "-",
            failing(entry, now),
        ]
        if full:
            next_attempt = state.next_attempt_at if state.failing_since is not None else None
            row += [str(state.delivered_count), _when(state.last_delivered_at, tz), _when(next_attempt, tz)]
        error = f"{_when(state.last_error_at, tz)}: {state.last_error}" if state.last_error else ""
        table.add_row(*row, escape(error))
    return table
