"""The fence: before each portal request of a batch, proof that the runner still holds its account lease.

A renewal timer alone is not enough: a runner starved or frozen past its lease wakes up while
another host has taken the account over and signed in, and its next page would be a second
live session on one account, which real portals punish. So every request of the batch's browser
context first asks the fence, and a lost lease aborts the request and ends the batch.

Why a route on the context: it is the one choke point the page's requests pass, whether the
adapter navigates, clicks a link, submits a form or the page's own script fetches; a check in
the adapters' navigation would miss what the page asks for by itself. Routes do not see two
kinds of request: the redirects a request receives (the browser follows them at once, within
milliseconds of the check) and requests made outside the page (`page.request`, the adapters'
file downloads), which go through `PortalAdapter.fetch` and ask the fence there (`before_fetch`).
The route costs no HTTP cache: the context's route for blocked resources already turned it off
(Chromium stops caching once any request of the context is intercepted, whatever the glob).
And since every request waits for the route's answer, which runs in the runner's own thread, the
page of a frozen or starved runner sends nothing until the runner runs again and has asked.

Cheap: the fence remembers the lease's expiry and asks the database only when less than half
the lease is left, or when its last answer is older than `RECHECK_S` (another host's clock may
run ahead of ours). Each database check is one conditional UPDATE (store.tasks.hold) that also
extends the lease, so a runner that keeps making requests keeps its account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from playwright.sync_api import BrowserContext, Route
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from store import tasks
from store.db import session_scope
from store.tasks import Lease
from worker.clock import utcnow

log = structlog.get_logger(__name__)

RECHECK_S = 5.0  # at most this long between two database checks while requests flow


class LeaseLost(Exception):
    """Another owner holds the batch's account now: nothing more may be asked, recorded or handed back."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(f"the lease on {lease.portal} (generation {lease.generation}) is no longer ours")
        self.portal = lease.portal


class LeaseFence:
    """Asked before each request of one batch (on the runner's thread, where Playwright calls handlers)."""

    def __init__(
        self,
        engine: Engine,
        lease: Lease,
        *,
        lease_for: timedelta,
        recheck_s: float = RECHECK_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine, self.lease, self.lease_for, self.clock = engine, lease, lease_for, clock
        self.recheck_s = min(recheck_s, lease_for.total_seconds() / 2)
        self.expires_at: datetime = lease.expires_at
        self.checked = time.monotonic()  # taking the lease was the first check
        self.lost = False
        self.database_checks = 0

    def guard(self, context: BrowserContext) -> None:
        """Route every request of `context` through the fence. Installed after the context's other routes,
        so it is asked first; a request it lets through goes on to them."""
        context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        if self.holds():
            route.fallback()
        else:
            route.abort("blockedbyclient")

    def holds(self) -> bool:
        if self.lost:
            return False
        now = self.clock()
        if self.expires_at - now > self.lease_for / 2 and time.monotonic() - self.checked < self.recheck_s:
            return True
        return self._ask_database(now)

    def ensure_held(self) -> None:
        """Raise LeaseLost unless the lease is still ours (asks the database when the answer is not fresh)."""
        if not self.holds():
            raise LeaseLost(self.lease)

    def _ask_database(self, now: datetime) -> bool:
        self.database_checks += 1
        try:
            with session_scope(self.engine) as session:
                expires_at = tasks.hold(session, self.lease, now=now, lease_for=self.lease_for)
        except SQLAlchemyError as exc:  # not proven is not held: the request is refused
            log.warning("lease_check_failed", portal=self.lease.portal, detail=type(exc).__name__)
            return False
        if expires_at is None:
            self.lost = True
            log.warning("lease_lost", portal=self.lease.portal, generation=self.lease.generation, seen_by="fence")
            return False
        self.expires_at, self.checked = expires_at, time.monotonic()
        return True
