"""The feed's queries: events after a channel's cursor, the channel's delivery lease, acknowledgements,
failures with their backoff, replay and the purge. The events themselves are written by store/outbox.py."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from store.models import Appointment, Claim, EligibilityCheck, FeedChannelState, FeedEvent
from store.pages import in_chunks

# The oldest transaction still running that could hold an event (the statement's snapshot, less the
# transactions pg_stat_activity places in another database of the server: transaction ids are server-wide,
# and another database's long transaction must not hold this feed back). A transaction that ended between the
# snapshot and the look at pg_stat_activity is kept, which only ever holds the feed back, never lets it skip.
OLDEST_RUNNING = text(
    """(WITH snap AS (SELECT pg_current_snapshot() AS s)
    SELECT coalesce(
        (SELECT min(x) FROM snap, pg_snapshot_xip(snap.s) AS x
         WHERE x::xid NOT IN (SELECT backend_xid FROM pg_stat_activity
                              WHERE datname <> current_database() AND backend_xid IS NOT NULL)),
        (SELECT pg_snapshot_xmax(s) FROM snap))::text::bigint)"""
)


def _visible(session: Session) -> ColumnElement[bool] | None:
    """PostgreSQL: only events whose transaction is older than every transaction of this database still
    running (the `txid` column's note); None on SQLite, where a committed event never has a smaller seq still
    to come."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return col(FeedEvent.txid) < OLDEST_RUNNING


def events_after(
    session: Session, seq: int, limit: int, types: Collection[str] | None = None
) -> tuple[list[FeedEvent], int]:
    """Up to `limit` events after `seq` in order (only `types`, when given), and the seq a cursor may move
    to having read them: past the skipped ones too, but never past an event still to become visible."""
    statement = select(FeedEvent).where(col(FeedEvent.seq) > seq).order_by(col(FeedEvent.seq)).limit(limit)
    visible = _visible(session)
    if visible is not None:
        statement = statement.where(visible)
    batch = list(session.exec(statement))
    reached = batch[-1].seq if batch else seq
    assert reached is not None
    if types is not None:
        batch = [event for event in batch if event.type in types]
    return batch, reached


def oldest_kept(session: Session) -> datetime | None:
    """When the oldest event still kept was recorded: `feed replay` cannot go further back."""
    return session.exec(select(func.min(FeedEvent.recorded_at))).one()


def last_seq(session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(FeedEvent.seq), 0))).one() or 0)


def channel(session: Session, name: str) -> FeedChannelState:
    """The channel's row, made at its first use: a new channel starts at the oldest event still kept."""
    state = session.get(FeedChannelState, name)
    if state is not None:
        return state
    try:
        with session.begin_nested():
            session.add(FeedChannelState(name=name))
    except IntegrityError:  # another process made it first
        pass
    found = session.get(FeedChannelState, name)
    assert found is not None
    return found


def channels(session: Session, names: Sequence[str]) -> list[FeedChannelState]:
    return [channel(session, name) for name in names]


def take_lease(session: Session, name: str, owner: str, now: datetime, seconds: float) -> FeedChannelState | None:
    """The channel, leased to `owner` until now + seconds, or None while another process holds it."""
    channel(session, name)
    until = now + timedelta(seconds=seconds)
    taken = session.exec(
        update(FeedChannelState)
        .where(
            col(FeedChannelState.name) == name,
            or_(
                col(FeedChannelState.lease_owner).is_(None),
                col(FeedChannelState.lease_owner) == owner,
                col(FeedChannelState.lease_expires_at) < now,
            ),
        )
        .values(lease_owner=owner, lease_expires_at=until)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:
        return None
    state = session.get(FeedChannelState, name, populate_existing=True)
    assert state is not None
    return state


def release_lease(session: Session, name: str, owner: str) -> None:
    session.exec(
        update(FeedChannelState)
        .where(col(FeedChannelState.name) == name, col(FeedChannelState.lease_owner) == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def acknowledge(
    session: Session,
    name: str,
    owner: str,
    seq: int,
    delivered: int,
    now: datetime,
    lease_until: datetime,
    *,
    from_seq: int | None = None,
) -> bool:
    """Move the channel's cursor to `seq` (`delivered` events sent to it up to there), clear its failure and
    extend the lease; False when `owner` no longer holds the lease, or the cursor is no longer at `from_seq`
    (a `feed replay` moved it back meanwhile): nothing is moved then, and the pass stops."""
    where = [
        col(FeedChannelState.name) == name,
        col(FeedChannelState.lease_owner) == owner,
        col(FeedChannelState.delivered_seq) <= seq,
    ]
    if from_seq is not None:
        where.append(col(FeedChannelState.delivered_seq) == from_seq)
    moved = session.exec(
        update(FeedChannelState)
        .where(*where)
        .values(
            delivered_seq=seq,
            lease_expires_at=lease_until,
            delivered_count=FeedChannelState.delivered_count + delivered,
            last_delivered_at=now if delivered else FeedChannelState.last_delivered_at,
            consecutive_failures=0,
            failing_since=None,
            next_attempt_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)


def record_failure(session: Session, name: str, owner: str, error: str, now: datetime, retry_at: datetime) -> None:
    """A delivery failed: keep the receiver's words and wait until `retry_at` before the next try."""
    state = channel(session, name)
    if state.lease_owner not in (None, owner):
        return
    state.consecutive_failures += 1
    state.failing_since = state.failing_since or now
    state.next_attempt_at = retry_at
    state.last_error, state.last_error_at = error[:500], now
    session.add(state)


def rewind(session: Session, name: str, since: datetime) -> int:
    """Send again every kept event recorded at or after `since`; returns how many that is."""
    first = session.exec(select(func.min(FeedEvent.seq)).where(col(FeedEvent.recorded_at) >= since)).one()
    state = channel(session, name)
    if first is None:
        return 0
    state.delivered_seq = min(state.delivered_seq, first - 1)
    state.next_attempt_at = None
    session.add(state)
    return session.exec(select(func.count()).select_from(FeedEvent).where(col(FeedEvent.seq) >= first)).one()


@dataclass(frozen=True, slots=True)
class Backlog:
    name: str
    waiting: int  # events after the cursor (whether or not of the channel's types)
    oldest_waiting_at: datetime | None  # recorded_at of the first of them
    state: FeedChannelState


def backlog(session: Session, names: Sequence[str]) -> list[Backlog]:
    """Where each channel stands; read only (a channel not used yet shows as its row will start)."""
    found = []
    for name in names:
        state = session.get(FeedChannelState, name) or FeedChannelState(name=name)
        after = col(FeedEvent.seq) > state.delivered_seq
        waiting = session.exec(select(func.count()).select_from(FeedEvent).where(after)).one()
        oldest = session.exec(select(func.min(FeedEvent.recorded_at)).where(after)).one()
        found.append(Backlog(state.name, waiting, oldest, state))
    return found


def preview(session: Session, name: str, limit: int, types: Collection[str] | None = None) -> list[FeedEvent]:
    """The next `limit` events the channel would be sent (only `types`, when given); read only."""
    state = session.get(FeedChannelState, name)
    cursor = state.delivered_seq if state else 0
    found: list[FeedEvent] = []
    while len(found) < limit:
        batch, reached = events_after(session, cursor, limit, types)
        found += batch[: limit - len(found)]
        if reached == cursor:
            break
        cursor = reached
    return found


def purge_delivered(session: Session, names: Sequence[str], before: datetime) -> int:
    """Events recorded before `before` that every configured channel has acknowledged (all of them before
    `before` when no channel is configured); returns how many were deleted."""
    statement = delete(FeedEvent).where(col(FeedEvent.recorded_at) < before)
    if names:
        floor = min(state.delivered_seq for state in channels(session, names))
        statement = statement.where(col(FeedEvent.seq) <= floor)
    result = session.exec(statement)
    return int(result.rowcount or 0)


def patient_names(session: Session, claim_ids: Collection[str]) -> dict[str, str]:
    """Claim id -> patient name, for an installation that sends names."""
    found: dict[str, str] = {}
    for chunk in in_chunks(sorted(set(claim_ids))):
        statement = select(Claim.claim_id, Claim.patient_name).where(col(Claim.claim_id).in_(chunk))
        found.update(dict(session.exec(statement).all()))
    return found


def appointment_details(session: Session, appointment_ids: Collection[str]) -> dict[str, tuple[str, str]]:
    """Appointment id -> (patient name, member id now: the newest check's new one, else the scheduled one)."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in in_chunks(sorted(set(appointment_ids))):
        statement = select(Appointment.appointment_id, Appointment.patient_name, Appointment.member_id).where(
            col(Appointment.appointment_id).in_(chunk)
        )
        for appointment_id, name, member_id in session.exec(statement).all():
            found[appointment_id] = (name, member_id)
        newer = select(EligibilityCheck.appointment_id, EligibilityCheck.new_member_id).where(
            col(EligibilityCheck.appointment_id).in_(chunk), col(EligibilityCheck.new_member_id).is_not(None)
        )
        for appointment_id, new_member_id in session.exec(newer.order_by(col(EligibilityCheck.id))).all():
            if appointment_id in found and new_member_id:
                found[appointment_id] = (found[appointment_id][0], new_member_id)
    return found
