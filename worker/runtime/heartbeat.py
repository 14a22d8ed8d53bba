"""Worker heartbeats: which worker processes are alive, and which one runs the scheduler.

Every `run` process writes a heartbeat row (store.health) every `run.heartbeat_seconds`;
`status --check` reads only these rows, so monitoring needs neither a browser nor the
credential store's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from store import health
from store.db import session_scope
from worker.clock import aware
from worker.settings import Settings

# The heartbeat's detail says which worker runs the scheduler (the others only run runners).
ROLE, SCHEDULER, RUNNERS_ONLY = "role", "scheduler", "runners"


@dataclass(frozen=True)
class Liveness:
    ok: bool
    message: str


def liveness(engine: Engine, settings: Settings, now: datetime, host: str | None = None) -> Liveness:
    """Is a worker alive (on `host`, or anywhere)? Its newest heartbeat must be younger than
    run.stale_after_seconds."""
    stale_after = timedelta(seconds=settings.run.stale_after_seconds)
    with session_scope(engine) as session:
        beats = [beat for beat in health.heartbeats(session) if beat.stopped_at is None and host in (None, beat.host)]
    if not beats:
        return Liveness(False, "no worker is running" + (f" on {host}" if host else "") + " (no live heartbeat)")
    newest = beats[0]
    age = now - aware(newest.beat_at)
    if age > stale_after:
        return Liveness(
            False,
            f"worker {newest.worker_id} last beat {age.total_seconds():.0f} s ago "
            f"(stale after {stale_after.total_seconds():.0f} s): it is hung or dead",
        )
    return Liveness(True, f"worker {newest.worker_id} alive, last beat {age.total_seconds():.0f} s ago")
