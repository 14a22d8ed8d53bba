"""The bulk path: a portal's claim list answers for the claims that did not move, and links the rest.

A portal with a claim list (`ClaimList`) shows many claims per page: each one's status-level fields
(which ones depends on the portal: `ListedClaim.shows`) and a link to its detail page, but never its
adjustment lines. So a batch of claim checks reads the list for the calendar months its claims' service
dates fall in, and then, claim by claim:

- a claim the list shows exactly as last observed (every field the list shows), whose detail could not
  have changed unseen, is marked checked without opening a page ("unchanged");
- any other claim (seen for the first time, a new status or amount, or a decided claim on a list that
  shows no status date, where a reprocessing could hide) is read from its detail page, opened straight
  from the list's link;
- a claim the list does not show goes the usual way: the portal's search, and "not on file" if that
  finds nothing.

One reading of a month serves every batch of the worker process for LIST_MAX_AGE, so a run costs a
few list pages per portal and month, plus one page per claim that moved. A list that cannot be read
raises: a moved column is LayoutChanged, an outage PortalUnavailable, for the runner's failure policy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from flows.claim_states import ClaimState
from portals.capabilities import ClaimList, ClaimListPortal, PortalSession
from portals.identifiers import normal_id, same_id
from portals.types import ListedClaim
from store.claims import list_claims
from store.db import session_scope
from store.models import Claim, ClaimStatusObservation
from store.observations import latest_observation, mark_checked

log = structlog.get_logger(__name__)

# A list read this recently answers for a claim as well as one read now.
LIST_MAX_AGE = timedelta(minutes=15)
# On an unpaced account, the detail pages of this many of the batch's next claims are asked for while a claim is
# read and stored. One page ahead hid the portal's answer only while a runner's own turn on a claim lasted longer
# than the answer: the page ahead went out through the lease fence's route, which adds its own milliseconds, and
# the runner waited on it for about a third of each claim. Two ahead, each request has two turns to come back in.
PAGES_AHEAD = 2
# Claims still waiting on the payer: their detail shows no adjustments the list would miss.
UNDECIDED_STATES = frozenset({ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.INFO_REQUESTED})

Month = date  # the first day of a calendar month
Listed = dict[str, ListedClaim]  # normal claim id -> row


@dataclass(frozen=True)
class _Reading:
    rows: Listed
    read_at: datetime


class ClaimLists:
    """Each portal's list by month, as last read; shared by the runners of one worker process.

    Ages are counted on the worker's clock, the one its observations are dated by."""

    def __init__(self, clock: Callable[[], datetime], max_age: timedelta = LIST_MAX_AGE) -> None:
        self.clock, self.max_age = clock, max_age
        self._readings: dict[tuple[str, Month], _Reading] = {}
        self._lock = threading.Lock()

    def fresh(self, portal: str, month: Month) -> Listed | None:
        with self._lock:
            reading = self._readings.get((portal, month))
        if reading is None or not timedelta(0) <= self.clock() - reading.read_at <= self.max_age:
            return None
        return reading.rows

    def keep(self, portal: str, months: Iterable[Month], rows: Listed) -> None:
        reading = _Reading(rows, self.clock())
        with self._lock:
            for month in months:
                self._readings[(portal, month)] = reading


class ClaimListing:
    """The portal's list for the claims of one batch: read on first use, once per month not read lately."""

    def __init__(
        self,
        adapter: PortalSession,
        engine: Engine,
        claim_ids: Sequence[str],
        lists: ClaimLists,
        *,
        open_unchanged: bool = False,
        look_ahead: bool = False,
    ) -> None:
        # only a portal that lists its claims has one to offer
        self.portal: ClaimListPortal | None = adapter if isinstance(adapter, ClaimList) else None
        self.engine, self.claim_ids, self.lists = engine, list(claim_ids), lists
        self.open_unchanged = open_unchanged  # a person named these claims: their pages are read, moved or not
        # the next claims' detail pages may be asked for early: not when the account is paced, since a request
        # ahead would come sooner than the pace allows
        self.look_ahead = look_ahead
        self._next_id = dict(zip(self.claim_ids, self.claim_ids[1:], strict=False))  # the batch's order
        self._read = False
        self._claims: dict[str, Claim] = {}  # the batch's claims, by id, as read with the list
        self._judged: dict[str, bool] = {}  # `unchanged` of the next claims, judged early by `details_after`
        self.skipped = 0  # claims the listing answered for

    def row_for(self, claim: Claim) -> ListedClaim | None:
        """What the portal's list shows of `claim`, or None (the portal has no list, or it does not show the claim)."""
        if self.portal is None:
            return None
        if not self._read:
            self._read = True
            self._read_months(self.portal)
        key = normal_id(claim.claim_id)
        for month in months_of(claim.dos_from, claim.dos_to):
            rows = self.lists.fresh(self.portal.portal, month)
            if rows is not None and key in rows:
                return rows[key]
        return None

    def unchanged(self, claim: Claim, row: ListedClaim) -> bool:
        """Whether `row` shows `claim` exactly as last observed, so its detail page has nothing new."""
        if self.open_unchanged:
            return False
        if claim.claim_id in self._judged:  # nothing of this claim was recorded since: only the ones before it
            return self._judged.pop(claim.claim_id)
        with session_scope(self.engine) as session:
            latest = latest_observation(session, claim.claim_id)
        return latest is not None and same_as_listed(latest, row)

    def details_after(self, claim: Claim) -> tuple[str, ...]:
        """With `look_ahead`, the detail pages of the batch's next PAGES_AHEAD claims that the list links and that
        moved (their pages will be read next), in the batch's order; none without. Each claim is judged once, when
        it first comes within reach: one more query per claim."""
        paths: list[str] = []
        later_id = claim.claim_id
        for _ in range(PAGES_AHEAD if self.look_ahead else 0):
            later = self._claims.get(self._next_id.get(later_id, ""))
            row = self.row_for(later) if later is not None else None
            if later is None or row is None:
                break
            if later.claim_id not in self._judged:
                self._judged[later.claim_id] = self.unchanged(later, row)
            if not self._judged[later.claim_id] and row.detail_path:
                paths.append(row.detail_path)
            later_id = later.claim_id
        return tuple(paths)

    def mark_checked(self, claim: Claim, at: datetime) -> None:
        with session_scope(self.engine) as session:
            mark_checked(session, claim.claim_id, at)
        self.skipped += 1

    def _read_months(self, portal: ClaimListPortal) -> None:
        """Read the batch's months not read lately, consecutive months in one call (the adapter splits it). Even
        for one claim: a list page and the claim's own page cost no more than a search's pages and that page."""
        with session_scope(self.engine) as session:
            claims = list_claims(session, claim_ids=self.claim_ids)
        self._claims = {c.claim_id: c for c in claims}
        needed = sorted({m for c in claims for m in months_of(c.dos_from, c.dos_to)})
        stale = [m for m in needed if self.lists.fresh(portal.portal, m) is None]
        for run in consecutive(stale):
            rows = portal.list_claims(run[0], month_end(run[-1]))
            self.lists.keep(portal.portal, run, {normal_id(row.claim_id): row for row in rows})
            log.info("claim_list_read", months=len(run), claims=len(rows))


def same_as_listed(latest: ClaimStatusObservation, row: ListedClaim) -> bool:
    """The row shows the claim as last observed, in every field it shows, and nothing could hide behind it.

    A decided claim (denied, paid in part) can be reprocessed with new adjustment lines; a list that shows
    the status date shows that too, one that does not cannot vouch for it."""
    listed = row.result
    # The state itself needs the adjustment lines (a 'finalized' category is a denial with a CARC that says
    # so), which no list shows: the list's 277 category must be the one the detail gave last time.
    if listed.category_code.strip().upper() != (latest.category_code or "").strip().upper():
        return False
    if ClaimState(latest.status) not in UNDECIDED_STATES and "status_date" not in row.shows:
        return False
    for name in row.shows - {"category_code"}:
        value, before = getattr(listed, name), getattr(latest, name)
        if name == "payer_claim_number":
            if (value or before) and not same_id(before, value):
                return False
        elif value != before:
            return False
    return True


def months_of(first: date, last: date) -> list[Month]:
    """The calendar months a claim's service dates fall in."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def month_end(month: Month) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def consecutive(months: list[Month]) -> list[list[Month]]:
    """Sorted months grouped into runs of consecutive months."""
    runs: list[list[Month]] = []
    for month in months:
        if runs and month_end(runs[-1][-1]) + timedelta(days=1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return runs
