"""The one failure policy: what a portal error means and what the worker does about it.

Every path that drives a portal (the runners of `run`, and `check`, which drains the same
queue with the same runners) decides here. Four outcomes:

- needs a person (login rejected, MFA refused or missing): stop using the account at once,
  on every host; never a second strike toward a lockout. Its tasks wait for new credentials.
- layout changed: the page is not the one the adapter knows, so nothing is read off it;
  that kind of work pauses on that portal, with the page kept as evidence and a finding
  for whoever maintains the adapter.
- portal down (maintenance, HTTP 5xx, HTTP 429, no answer in time, a task the watchdog cut off
  past its deadline): the task is retried later; the circuit breaker pauses the whole portal
  after `run.breaker_failures` failures in a row, and at once for a 429 or a Retry-After, while
  the other portals go on.
- transient (any other browser error): retried with exponential backoff and jitter, parked as
  failed after `run.max_attempts`.

A browser that died under a task, or was killed for another runner's task, is no failure of the
task's: the runner hands it back unworked (browser_slot.BrowserLost) before it gets here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from portals.errors import (
    LayoutChanged,
    LoginRejected,
    MfaRejected,
    MfaRequired,
    PortalError,
    PortalUnavailable,
    RateLimited,
)
from worker.settings import CheckSettings, RunSettings

NEEDS_A_PERSON_ERRORS = (LoginRejected, MfaRequired, MfaRejected)


class TaskDeadlinePassed(PortalUnavailable):
    """The watchdog ended a task that ran past `run.task_deadline_seconds`. Most often a page that never came,
    like a navigation timeout, so it counts toward the portal's breaker: a portal that hangs every task pauses."""

    def __init__(self, portal: str, seconds: float) -> None:
        super().__init__(portal, f"the task ran past its deadline of {seconds:.0f} s and was cut off")


class Outcome(StrEnum):
    NEEDS_A_PERSON = "needs a person"
    LAYOUT_CHANGED = "layout changed"
    PORTAL_DOWN = "portal down"
    TRANSIENT = "transient"


def classify(exc: BaseException) -> Outcome:
    if isinstance(exc, NEEDS_A_PERSON_ERRORS):
        return Outcome.NEEDS_A_PERSON
    if isinstance(exc, LayoutChanged):
        return Outcome.LAYOUT_CHANGED
    if isinstance(exc, PortalUnavailable):
        return Outcome.PORTAL_DOWN
    return Outcome.TRANSIENT


def error_text(exc: BaseException) -> str:
    """The error as stored and shown: type and the portal's words, never a browser's raw text."""
    if isinstance(exc, PortalError):
        return f"{type(exc).__name__}: {exc.message}"
    # Browser errors can echo what was typed: their details go to the scrubbed log only.
    return f"{type(exc).__name__}: unexpected browser error (details in the log)"


def words(exc: BaseException) -> str:
    """The failure as a person reads it in an alert: the portal's words, or what happened in the browser."""
    if isinstance(exc, PortalError):
        return exc.message
    return f"{type(exc).__name__} in the browser"


def retry_delay(attempts: int, run: RunSettings) -> timedelta:
    """Exponential backoff from `run.retry_base_seconds`, capped, with jitter so retries do not bunch up."""
    seconds = min(run.retry_base_seconds * 2 ** (attempts - 1), run.retry_max_seconds)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311  (jitter, not cryptography)


def breaker_trips(exc: PortalUnavailable, failures_in_a_row: int, run: RunSettings) -> bool:
    """Whether the whole portal pauses now: a 429, a Retry-After, or too many failures in a row."""
    return isinstance(exc, RateLimited) or exc.retry_after is not None or failures_in_a_row >= run.breaker_failures


def breaker_pause_until(
    exc: PortalUnavailable, failures_in_a_row: int, run: RunSettings, check: CheckSettings, now: datetime
) -> datetime:
    """The portal's pause: `check.backoff_minutes`, doubling with each trip up to the maximum, or the portal's
    Retry-After when that is later."""
    trips = max(failures_in_a_row - run.breaker_failures, 0)
    minutes = min(check.backoff_minutes * 2**trips, check.max_backoff_minutes)
    return max(exc.retry_after or now, now + timedelta(minutes=minutes))


@dataclass(frozen=True)
class Failure:
    """What one failed task meant and what the worker did about it, in words a person can act on."""

    portal: str
    kind: str  # the task's kind, e.g. claim_status
    target: str
    outcome: Outcome
    error: str  # error_text()
    detail: str  # the portal's words (or the error's type for a browser failure)
    rate_limited: bool = False
    evidence: str | None = None
    paused_until: datetime | None = None  # the portal (breaker) or that kind of work (layout) is paused
    retry_at: datetime | None = None
    parked: bool = False  # gave up: failed, for a person to look at

    def problem(self) -> str:
        """What went wrong, what the worker did, and what a person should do."""
        evidence = f". Evidence: {Path(self.evidence).name}" if self.evidence else ""
        if self.outcome is Outcome.NEEDS_A_PERSON:
            return (
                f"login failed ({self.detail}); the account is paused so it cannot be locked out. "
                f"Fix the password/MFA, then run `portal-worker credentials set {self.portal}`{evidence}"
            )
        if self.outcome is Outcome.LAYOUT_CHANGED:
            where = f"for claim {self.target}" if self.kind == "claim_status" else f"for {self.target or 'it'}"
            until = f" until {self.paused_until:%Y-%m-%d %H:%M} UTC" if self.paused_until else ""
            return (
                f"the portal's pages changed ({self.detail}); nothing was recorded {where}. "
                f"{self.kind.replace('_', ' ').capitalize()} work on {self.portal} is paused{until} "
                f"(`portal-worker resume {self.portal}` once fixed). The adapter needs updating{evidence}"
            )
        if self.outcome is Outcome.PORTAL_DOWN:
            words = "rate limited" if self.rate_limited else "unavailable"
            if self.paused_until is not None:
                return f"portal {words} ({self.detail}); backing off until {self.paused_until:%Y-%m-%d %H:%M} UTC"
            return f"portal {words} ({self.detail}); {self._retry_words()}"
        return f"{self.error}; {self._retry_words()}{evidence}"

    def _retry_words(self) -> str:
        if self.parked:
            return "gave up after the last attempt (parked as failed, see `portal-worker status`)"
        if self.retry_at is not None:
            return f"will retry after {self.retry_at:%Y-%m-%d %H:%M} UTC"
        return "will retry"
