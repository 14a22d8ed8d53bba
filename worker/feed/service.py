"""The feed inside `run`: one thread per worker process sends what waits, every `feed.poll_seconds`.

Every process runs it; the channel's lease lets one deliver at a time, so a second host takes over when the
first stops, and no claim's events ever go out of order."""

from __future__ import annotations

import threading

import structlog
from sqlalchemy.engine import Engine

from worker.feed.pump import FeedPump
from worker.settings import Settings

log = structlog.get_logger(__name__)

PASS_LIMIT = 1000  # events per channel per pass, so one busy channel does not hold up the others


class FeedThread:
    def __init__(self, settings: Settings, engine: Engine, owner: str, stop: threading.Event) -> None:
        self.settings, self.engine, self.owner, self.stop = settings, engine, owner, stop
        self.thread = threading.Thread(target=self._loop, name="feed", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        pump = FeedPump(self.settings, self.engine, self.owner)
        try:
            while not self.stop.is_set():
                busy = False
                try:
                    busy = any(result.more for result in pump.deliver_all(limit=PASS_LIMIT))
                except Exception:  # the database went away for a moment: the next pass tries again
                    log.exception("feed_pass_failed")
                if not busy:
                    self.stop.wait(self.settings.feed.poll_seconds)
        finally:
            pump.close()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)
