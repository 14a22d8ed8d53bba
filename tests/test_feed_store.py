"""The feed's store on SQLite and PostgreSQL: the purge keeps what a channel still owes and what replay may
need, a rewind sends again from the first event recorded since a date, and one process at a time delivers
a channel (a lease, which a dead process's expires)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store import feed
from store.db import create_schema, make_engine, session_scope
from store.models import ClaimStatusObservation, FeedChannelState, FeedEvent
from store.observations import record_observation
from tests.feed_support import uhp_claim
from tests.pg_support import fresh_schema, postgres_unreachable, require_postgres
from worker.clock import utcnow
from worker.feed.channel import Channel, Outgoing
from worker.feed.csv_drop import CsvDropChannel
from worker.feed.pump import LEASE_SECONDS, FeedPump
from worker.runtime.scheduler import Enqueuer
from worker.settings import FeedChannelSettings, Settings

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            found = f"sqlite:///{tmp_path / 'portal-worker.db'}"
        else:
            require_postgres(postgres_unreachable())
            found = cleanup.enter_context(fresh_schema("pw_feed_store"))
        made = make_engine(found)
        create_schema(made)
        made.dispose()
        yield found


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    made = make_engine(url)
    yield made
    made.dispose()


def settings_with(tmp_path: Path, *channels: str, keep_days: int = 90) -> Settings:
    """A config whose [feed] has a CSV channel per name, each with its own folder under tmp_path."""
    lines = [
        f'[worker]\ndata_dir = "{tmp_path / "data"}"\n',
        '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://127.0.0.1:9/unity"\npayers = ["UHP"]\n',
        f"[feed]\nkeep_days = {keep_days}\n",
    ]
    for name in channels:
        (tmp_path / name).mkdir(exist_ok=True)
        lines.append(f'[feed.channels.{name}]\nkind = "csv"\nfolder = "{tmp_path / name}"\nmax_rows = 1\n')
    config = tmp_path / "portal-worker.toml"
    config.write_text("\n".join(lines))
    return Settings.load(config)


def paid_claims(engine: Engine, first: int, count: int) -> list[FeedEvent]:
    """`count` claims seen paid, in one transaction: two events each. Returns the events it made."""
    ids = [f"PCN-{n:05d}" for n in range(first, first + count)]
    before = last_seq(engine)
    with session_scope(engine) as session:
        for claim_id in ids:
            session.add(uhp_claim(claim_id, NOW))
        session.flush()
        for claim_id in ids:
            record_observation(
                session,
                ClaimStatusObservation(
                    claim_id=claim_id,
                    observed_at=NOW,
                    portal="unity",
                    run_id="run-1",
                    status="paid",
                    paid_amount=Decimal("10.00"),
                    check_number="CHK1",
                    payment_date=date(2026, 11, 30),
                    changes="first seen: paid",
                ),
            )
    return [event for event in events(engine) if (event.seq or 0) > before]


def events(engine: Engine) -> list[FeedEvent]:
    with session_scope(engine) as session:
        found = list(session.exec(select(FeedEvent).order_by(col(FeedEvent.seq))))
        for event in found:
            session.expunge(event)
        return found


def last_seq(engine: Engine) -> int:
    with session_scope(engine) as session:
        return feed.last_seq(session)


def state(engine: Engine, name: str) -> FeedChannelState:
    with session_scope(engine) as session:
        found = feed.channel(session, name)
        session.expunge(found)
        return found


def ids_in(folder: Path) -> list[str]:
    """Event ids of every file in `folder`, in name order (the CSV's first column)."""
    found = []
    for path in sorted(folder.glob("*.csv")):
        found += [line.split(",", 1)[0] for line in path.read_text().splitlines()[1:]]
    return found


def deliver(settings: Settings, engine: Engine, name: str, owner: str = "test") -> int:
    pump = FeedPump(settings, engine, owner)
    try:
        result = pump.deliver(name, force=True)
    finally:
        pump.close()
    assert result.error is None and result.skipped is None, result
    return result.sent


# --- the purge -----------------------------------------------------------------------------------------


def test_the_purge_keeps_what_any_channel_has_not_acknowledged(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing", "payments")
    made = paid_claims(engine, 0, 10)
    deliver(settings, engine, "billing")
    middle = made[7].seq or 0
    with session_scope(engine) as session:
        feed.take_lease(session, "payments", "test", utcnow(), LEASE_SECONDS)
        assert feed.acknowledge(session, "payments", "test", middle, 8, utcnow(), utcnow())

    with session_scope(engine) as session:
        purged = feed.purge_delivered(session, list(settings.feed.channels), utcnow() + timedelta(days=1))

    assert purged == 8
    assert [event.event_id for event in events(engine)] == [event.event_id for event in made[8:]]
    deliver(settings, engine, "payments")
    assert ids_in(tmp_path / "payments") == [event.event_id for event in made[8:]]


def test_the_purge_job_keeps_delivered_events_younger_than_keep_days(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing", keep_days=30)
    made = paid_claims(engine, 0, 3)
    deliver(settings, engine, "billing")
    with session_scope(engine) as session:  # the first four were recorded 31 days ago, the others today
        for event in made[:4]:
            stored = session.get(FeedEvent, event.seq)
            assert stored is not None
            stored.recorded_at = utcnow() - timedelta(days=31)
            session.add(stored)

    Enqueuer(settings, engine, utcnow).purge()

    assert [event.event_id for event in events(engine)] == [event.event_id for event in made[4:]]


def test_a_channel_not_yet_delivered_keeps_even_old_events(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing", "late")
    made = paid_claims(engine, 0, 2)
    deliver(settings, engine, "billing")

    with session_scope(engine) as session:
        feed.purge_delivered(session, list(settings.feed.channels), utcnow() + timedelta(days=365))

    assert len(events(engine)) == len(made)
    deliver(settings, engine, "late")
    assert ids_in(tmp_path / "late") == [event.event_id for event in made]


# --- replay --------------------------------------------------------------------------------------------


def test_a_rewind_sends_again_from_the_first_event_recorded_since(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    folder = tmp_path / "billing"
    older = paid_claims(engine, 0, 3)
    newer = paid_claims(engine, 3, 3)
    deliver(settings, engine, "billing")
    for path in folder.glob("*.csv"):  # the PM import took them, then the PM system was restored
        path.unlink()
    since = newer[0].recorded_at

    with session_scope(engine) as session:
        again = feed.rewind(session, "billing", since)

    assert again == len(newer)
    assert state(engine, "billing").delivered_seq == (older[-1].seq or 0)
    assert deliver(settings, engine, "billing") == len(newer)
    assert ids_in(folder) == [event.event_id for event in newer]
    assert state(engine, "billing").delivered_count == len(older) + 2 * len(newer)


def test_a_rewind_to_a_date_after_every_event_sends_nothing_again(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    paid_claims(engine, 0, 2)
    deliver(settings, engine, "billing")
    cursor = state(engine, "billing").delivered_seq

    with session_scope(engine) as session:
        assert feed.rewind(session, "billing", utcnow() + timedelta(hours=1)) == 0

    assert state(engine, "billing").delivered_seq == cursor


def test_a_rewind_never_moves_a_channel_forward(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    made = paid_claims(engine, 0, 2) + paid_claims(engine, 2, 2)

    with session_scope(engine) as session:
        feed.rewind(session, "billing", made[2].recorded_at)

    assert state(engine, "billing").delivered_seq == 0
    deliver(settings, engine, "billing")
    assert ids_in(tmp_path / "billing") == [event.event_id for event in made]


def test_a_rewind_waits_no_longer_for_a_backoff(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    made = paid_claims(engine, 0, 2)
    with session_scope(engine) as session:
        feed.record_failure(session, "billing", "test", "folder gone", utcnow(), utcnow() + timedelta(hours=1))
        feed.rewind(session, "billing", made[0].recorded_at)

    pump = FeedPump(settings, engine, "test")
    result = pump.deliver("billing")
    pump.close()

    assert result.skipped is None and result.sent == len(made)


# --- one process at a time -----------------------------------------------------------------------------


def test_a_channel_held_by_a_live_process_is_left_to_it(engine: Engine, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    paid_claims(engine, 0, 2)
    with session_scope(engine) as session:
        assert feed.take_lease(session, "billing", "host-a:1", utcnow(), LEASE_SECONDS) is not None

    pump = FeedPump(settings, engine, "host-b:2")
    result = pump.deliver("billing", force=True)
    pump.close()

    assert (result.sent, result.skipped) == (0, "delivered by another process")
    assert list((tmp_path / "billing").iterdir()) == []
    assert state(engine, "billing").lease_owner == "host-a:1"


def test_the_lease_of_a_dead_process_expires_and_another_delivers(url: str, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    dead, alive = make_engine(url), make_engine(url)
    try:
        made = paid_claims(dead, 0, 2)
        with session_scope(dead) as session:  # taken a lease's length ago, never renewed: the process died
            then = utcnow() - timedelta(seconds=LEASE_SECONDS + 1)
            assert feed.take_lease(session, "billing", "host-a:1", then, LEASE_SECONDS) is not None

        assert deliver(settings, alive, "billing", owner="host-b:2") == len(made)
    finally:
        dead.dispose()
        alive.dispose()
    assert ids_in(tmp_path / "billing") == [event.event_id for event in made]


class Watched:
    """A real CSV channel, watched: how many sends of the same channel are under way at once, across pumps."""

    def __init__(self, inner: CsvDropChannel, counter: dict[str, int], lock: threading.Lock) -> None:
        self.name, self.inner, self.counter, self.lock = inner.name, inner, counter, lock

    def send(self, batch: Sequence[Outgoing], acknowledged: object) -> None:
        with self.lock:
            self.counter["now"] += 1
            self.counter["most"] = max(self.counter["most"], self.counter["now"])
        try:
            self.inner.send(batch, acknowledged)  # type: ignore[arg-type]
        finally:
            with self.lock:
                self.counter["now"] -= 1

    def close(self) -> None:
        self.inner.close()


def test_two_processes_never_deliver_one_channel_at_once(url: str, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "billing")
    counter, lock = {"now": 0, "most": 0}, threading.Lock()
    engines = [make_engine(url), make_engine(url)]
    made = paid_claims(engines[0], 0, 60)
    last = made[-1].seq
    failures: list[Exception] = []

    def opener(name: str, config: FeedChannelSettings) -> Channel:
        return Watched(CsvDropChannel(name, config), counter, lock)

    def process(engine: Engine, owner: str) -> None:
        pump = FeedPump(settings, engine, owner, opener=opener)
        try:
            while state(engine, "billing").delivered_seq != last:
                result = pump.deliver("billing", limit=7)
                assert result.error is None, result.error
        except Exception as exc:  # noqa: BLE001  (the test reports it, from its own thread)
            failures.append(exc)
        finally:
            pump.close()

    threads = [threading.Thread(target=process, args=(engine, f"host-{n}:1")) for n, engine in enumerate(engines)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    finally:
        for engine in engines:
            engine.dispose()

    assert failures == []
    assert counter["most"] == 1
    # One deliverer at a time, each starting where the other's acknowledgements left the cursor: exactly once.
    assert ids_in(tmp_path / "billing") == [event.event_id for event in made]


def test_a_process_that_lost_the_channel_stops_writing_files(engine: Engine, tmp_path: Path) -> None:
    """A paused process whose lease expired: another took the channel over, so its next acknowledgement is
    refused and the CSV channel writes no further file."""
    settings = settings_with(tmp_path, "billing")
    made = paid_claims(engine, 0, 3)

    def taken_over_while_paused(name: str, config: FeedChannelSettings) -> Channel:
        inner = CsvDropChannel(name, config)

        class Paused:
            def __init__(self) -> None:
                self.name = name

            def send(self, batch: Sequence[Outgoing], acknowledged: object) -> None:
                with session_scope(engine) as session:
                    later = utcnow() + timedelta(seconds=2 * LEASE_SECONDS)
                    assert feed.take_lease(session, name, "host-b:2", later, LEASE_SECONDS) is not None
                inner.send(batch, acknowledged)  # type: ignore[arg-type]

            def close(self) -> None:
                inner.close()

        return Paused()

    pump = FeedPump(settings, engine, "host-a:1", opener=taken_over_while_paused)
    result = pump.deliver("billing", force=True)
    pump.close()

    assert result.sent == 0 and result.error is None
    assert ids_in(tmp_path / "billing") == [made[0].event_id]  # written, then the refusal stopped it
    assert state(engine, "billing").delivered_seq == 0 and state(engine, "billing").lease_owner == "host-b:2"


def test_a_replay_during_a_delivery_is_not_undone_by_its_next_acknowledgement(engine: Engine, tmp_path: Path) -> None:
    """`feed replay` while `run` delivers: the pass in flight must not move the cursor forward again past the
    replay's start, or the replay would silently send nothing."""
    settings = settings_with(tmp_path, "billing")
    made = paid_claims(engine, 0, 3)
    delivered_before = deliver(settings, engine, "billing")
    more = paid_claims(engine, 3, 3)

    def replayed_mid_batch(name: str, config: FeedChannelSettings) -> Channel:
        inner = CsvDropChannel(name, config)

        class ReplayedMeanwhile:
            def __init__(self) -> None:
                self.name = name

            def send(self, batch: Sequence[Outgoing], acknowledged: object) -> None:
                with session_scope(engine) as session:  # what `feed replay --since` does, from another process
                    feed.rewind(session, name, made[0].recorded_at)
                inner.send(batch, acknowledged)  # type: ignore[arg-type]

            def close(self) -> None:
                inner.close()

        return ReplayedMeanwhile()

    pump = FeedPump(settings, engine, "host-a:1", opener=replayed_mid_batch)
    result = pump.deliver("billing", force=True)
    pump.close()

    assert delivered_before == len(made) and result.sent == 0  # its acknowledgement was refused
    assert state(engine, "billing").delivered_seq == (made[0].seq or 0) - 1  # the replay stands
    deliver(settings, engine, "billing")
    assert ids_in(tmp_path / "billing")[-len(made) - len(more) :] == [e.event_id for e in (*made, *more)]
