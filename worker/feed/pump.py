"""The pump: sends each channel the events after its cursor, in order, and moves the cursor only past what
the receiver acknowledged. At least once: a process killed between a receiver's answer and the cursor's
commit sends that event again, with the same id, and the receiver deduplicates by it.

One process at a time delivers a channel (a lease in the channel's row), so events go out in the order they
were recorded and so in order per claim. A failure keeps the channel's place, records the receiver's words
and waits, doubling the wait each failure in a row up to `feed.retry_max_seconds`; nothing is skipped.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.feed_deadlines import next_steps
from flows.feed_format import PatientDetails, StoredEvent, encode, envelope
from store import feed
from store.db import session_scope
from store.models import FeedEvent
from worker.clock import aware, utcnow
from worker.feed.channel import Channel, DeliveryFailed, Outgoing
from worker.settings import FeedChannelSettings, Settings

log = structlog.get_logger(__name__)

LEASE_SECONDS = 60.0
BATCH = 200  # events read per query for a webhook; a CSV channel reads its max_rows, one file per read


@dataclass(frozen=True, slots=True)
class PassResult:
    channel: str
    sent: int  # events the receiver acknowledged in this pass
    skipped: str | None = None  # why nothing was tried: "backing off until ...", "delivered by another process"
    error: str | None = None  # the failure that ended the pass
    more: bool = False  # events were left waiting (a pass stops at its limit)


def stored(event: FeedEvent) -> StoredEvent:
    assert event.seq is not None
    return StoredEvent(
        event.seq,
        event.event_id,
        event.type,
        event.version,
        aware(event.occurred_at),
        event.claim_id,
        event.subject,
        event.body,
    )


def outgoing(session: Session, settings: Settings, events: Sequence[FeedEvent], now: datetime) -> list[Outgoing]:
    """The events as a channel sends them: each denial's next step and deadline worked out now, and patient
    details only where the installation turns them on. `feed preview` shows the same."""
    details = _details(session, events) if settings.feed.include_patient_names else None
    denial_ids = {int(row.body.get("denial_id") or 0) for row in events if row.type.startswith("denial.")}
    steps = next_steps(session, denial_ids - {0}, now.astimezone(settings.worker.tzinfo).date())
    items = []
    for row in events:
        event = stored(row)
        message = envelope(event, details, steps)
        items.append(Outgoing(event, message, encode(message)))
    return items


def _details(session: Session, rows: Sequence[FeedEvent]) -> PatientDetails:
    claims = feed.patient_names(session, [row.claim_id for row in rows if row.claim_id])
    visits = feed.appointment_details(session, [row.subject for row in rows if row.type == "eligibility.checked"])
    return PatientDetails(
        claims,
        {key: name for key, (name, _) in visits.items()},
        {key: member for key, (_, member) in visits.items()},
    )


def retry_delay(settings: Settings, failures: int) -> timedelta:
    """The wait after the `failures`-th failure in a row: doubled each time, capped, with a little jitter so
    several channels to one receiver do not retry in step."""
    base = settings.feed.retry_initial_seconds * 2 ** max(failures - 1, 0)
    seconds = min(base, settings.feed.retry_max_seconds)
    return timedelta(seconds=seconds * random.uniform(0.9, 1.0))  # noqa: S311  (jitter, not a secret)


@dataclass
class _Acked:
    count: int  # events of the batch acknowledged
    cursor: int  # where the channel's cursor now is
    lost: bool = False  # another process took the channel over


class FeedPump:
    """Delivers the configured channels from this process. `channels` maps names to open channels; by
    default each is opened from the config on first use (worker.feed.channels.open_channel)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        owner: str,
        *,
        opener: Callable[[str, FeedChannelSettings], Channel] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings, self.engine, self.owner, self.now = settings, engine, owner, now
        self._opener = opener
        self._open: dict[str, Channel] = {}

    @property
    def names(self) -> list[str]:
        return list(self.settings.feed.channels)

    def channel(self, name: str) -> Channel:
        if name not in self._open:
            config = self.settings.feed.channels[name]
            if self._opener is not None:
                self._open[name] = self._opener(name, config)
            else:
                from worker.feed.channels import open_channel

                self._open[name] = open_channel(self.settings, name, config)
        return self._open[name]

    def close(self) -> None:
        for channel in self._open.values():
            channel.close()
        self._open.clear()

    def deliver_all(self, *, limit: int | None = None, force: bool = False) -> list[PassResult]:
        return [self.deliver(name, limit=limit, force=force) for name in self.names]

    def deliver(self, name: str, *, limit: int | None = None, force: bool = False) -> PassResult:
        """One pass over `name`: everything waiting (or `limit` events), unless the channel is backing off
        after a failure (`force` tries anyway) or another process holds it."""
        config = self.settings.feed.channels[name]
        types = set(config.types) if config.types is not None else None
        read = config.max_rows if config.kind == "csv" else BATCH
        with session_scope(self.engine) as session:
            now = self.now()
            state = feed.take_lease(session, name, self.owner, now, LEASE_SECONDS)
            if state is None:
                return PassResult(name, 0, skipped="delivered by another process")
            waiting_until = aware(state.next_attempt_at) if state.next_attempt_at else None
            if waiting_until is not None and waiting_until > now and not force:
                feed.release_lease(session, name, self.owner)
                return PassResult(name, 0, skipped=f"backing off until {waiting_until:%H:%M:%S} UTC")
            cursor = state.delivered_seq
        sent, error, more = 0, None, False
        try:
            while limit is None or sent < limit:
                with session_scope(self.engine) as session:
                    rows, reached = feed.events_after(session, cursor, read, types)
                    batch = outgoing(session, self.settings, rows, self.now())
                if reached == cursor:
                    break
                if not rows:  # only events of other types: the cursor passes them
                    if not self._acknowledge(name, reached, 0, cursor):
                        break
                    cursor = reached
                    continue
                if limit is not None:
                    batch = batch[: limit - sent]
                acked = self._send(name, batch, reached if len(batch) == len(rows) else None, cursor)
                sent += acked.count
                cursor = acked.cursor
                if acked.lost or acked.count < len(batch):
                    more = not acked.lost
                    break
            else:
                more = True
        except DeliveryFailed as exc:
            error = str(exc)
            self._failed(name, error)
        finally:
            with session_scope(self.engine) as session:
                feed.release_lease(session, name, self.owner)
        if sent or error:
            log.info("feed_delivered", channel=name, events=sent, error=error)
        return PassResult(name, sent, error=error, more=more)

    # --- inside a pass -------------------------------------------------------------------------------

    def _send(self, name: str, batch: list[Outgoing], reached: int | None, cursor: int) -> _Acked:
        """Send one batch; the cursor follows each acknowledgement (to `reached`, past skipped events of
        other types, with the batch's last one)."""
        acked = _Acked(0, cursor)
        position = {item.event.seq: index + 1 for index, item in enumerate(batch)}
        last = batch[-1].event.seq

        def acknowledged(item: Outgoing) -> bool:
            upto = position[item.event.seq]
            seq = reached if item.event.seq == last and reached is not None else item.event.seq
            if not self._acknowledge(name, seq, upto - acked.count, acked.cursor):
                acked.lost = True
                log.warning(
                    "feed_pass_stopped", channel=name, why="another process took the channel, or a replay moved it back"
                )
                return False
            acked.count, acked.cursor = upto, seq
            return True

        self.channel(name).send(batch, acknowledged)
        return acked

    def _acknowledge(self, name: str, seq: int, delivered: int, from_seq: int) -> bool:
        now = self.now()
        lease_until = now + timedelta(seconds=LEASE_SECONDS)
        with session_scope(self.engine) as session:
            return feed.acknowledge(session, name, self.owner, seq, delivered, now, lease_until, from_seq=from_seq)

    def _failed(self, name: str, error: str) -> None:
        now = self.now()
        with session_scope(self.engine) as session:
            state = feed.channel(session, name)
            retry_at = now + retry_delay(self.settings, state.consecutive_failures + 1)
            feed.record_failure(session, name, self.owner, error, now, retry_at)
        log.warning("feed_delivery_failed", channel=name, error=error, retry_at=retry_at.isoformat())
