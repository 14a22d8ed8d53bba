"""A feed channel whose receiver fails for longer than feed.alert_after_minutes raises an urgent alert for IT, with
the channel, how long, the receiver's words and what to do; it resolves when the channel delivers again."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store.db import create_schema, make_engine
from store.models import Alert
from tests.conftest import write_config
from tests.feed_support import AT, findings
from worker.delivery.notify import refresh_alerts, refresh_urgent_alerts
from worker.feed.channel import DeliveryFailed, Outgoing
from worker.feed.pump import FeedPump
from worker.settings import Settings

FEED = (
    '\n[feed]\nalert_after_minutes = 30\n\n[feed.channels.pm]\nkind = "webhook"\nurl = "https://pm.example.org/hook"\n'
)


class Receiver:
    """Stands in for the PM system's end: down (answers 503) until it is told to come back."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[str] = []
        self.name = "pm"

    def send(self, batch: Sequence[Outgoing], acknowledged: Callable[[Outgoing], bool]) -> None:
        for item in batch:
            if not self.up:
                raise DeliveryFailed("HTTP 503 from pm.example.org: down for maintenance")
            self.received.append(item.event.event_id)
            if not acknowledged(item):
                return

    def close(self) -> None:
        pass


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "https://portal.invalid", tmp_path / "data", extra=FEED)
    return Settings.load(config)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url())
    create_schema(engine)
    findings(engine)  # two events waiting
    yield engine
    engine.dispose()


def feed_alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.exec(select(Alert).where(Alert.kind == "feed_failing")))


def pump_at(settings: Settings, engine: Engine, receiver: Receiver, moment: datetime) -> FeedPump:
    return FeedPump(settings, engine, "test", opener=lambda name, config: receiver, now=lambda: moment)


def test_a_channel_failing_past_the_limit_alerts_it_and_the_alert_resolves_when_it_delivers(
    settings: Settings, engine: Engine
) -> None:
    receiver = Receiver()
    result = pump_at(settings, engine, receiver, AT).deliver("pm")
    assert result.error is not None and result.sent == 0
    assert not refresh_urgent_alerts(settings, engine, AT + timedelta(minutes=29)).opened  # not yet: 29 < 30 min
    pump_at(settings, engine, receiver, AT + timedelta(minutes=40)).deliver("pm", force=True)

    opened = refresh_urgent_alerts(settings, engine, AT + timedelta(minutes=45)).opened
    assert [(a.kind, a.subject, a.owner, a.severity) for a in opened] == [("feed_failing", "pm", "it", "high")]
    alert = opened[0]
    assert "Feed channel pm has failed for 45 min (2 tries in a row)" in alert.title
    assert "HTTP 503 from pm.example.org: down for maintenance" in alert.title
    assert "portal-worker feed send --channel pm" in alert.action and "Nothing is lost" in alert.action
    # the daily refresh keeps the one alert (one row per channel, never repeated)
    refresh_alerts(settings, engine, AT + timedelta(minutes=50))
    assert [a.status for a in feed_alerts(engine)] == ["open"]

    receiver.up = True
    delivered = pump_at(settings, engine, receiver, AT + timedelta(minutes=60)).deliver("pm", force=True)
    assert delivered.sent == 2 and delivered.error is None
    resolved = refresh_urgent_alerts(settings, engine, AT + timedelta(minutes=61)).resolved
    assert [(a.kind, a.subject) for a in resolved] == [("feed_failing", "pm")]
    assert [a.status for a in feed_alerts(engine)] == ["resolved"]


def test_a_channel_taken_out_of_the_config_raises_nothing(settings: Settings, engine: Engine) -> None:
    pump_at(settings, engine, Receiver(), AT).deliver("pm")
    settings.feed.channels.clear()
    assert not refresh_urgent_alerts(settings, engine, AT + timedelta(days=1)).opened
