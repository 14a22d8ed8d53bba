"""`portal-worker feed status|preview|replay|send` on a store holding one event of every type (made through the
store, no browser), as an operator runs them; each bad input refused with a clear error and nothing changed."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store import feed
from store.db import create_schema, make_engine, session_scope
from store.models import FeedChannelState
from tests.cli_support import Ran, portal_worker
from tests.conftest import write_config
from tests.feed_support import events, every_event
from worker.feed.pump import outgoing
from worker.security.credentials import KEY_FILE_ENV, open_store
from worker.settings import Settings

EVENTS = 23  # what every_event records
NOBODY_LISTENS = "http://127.0.0.1:9/hooks/claims"  # the discard port: connections are refused


@dataclass
class Install:
    config: Path
    drop: Path
    engine: Engine

    def run(self, *args: str) -> Ran:
        return portal_worker("-c", str(self.config), "feed", *args)

    def cursor(self, name: str = "pm") -> tuple[int, int]:
        with Session(self.engine) as session:
            state = session.get(FeedChannelState, name)
            return (state.delivered_seq, state.delivered_count) if state else (0, 0)

    def waiting(self, name: str = "pm") -> int:
        with session_scope(self.engine) as session:
            return feed.backlog(session, [name])[0].waiting


def install_with(tmp_path: Path, channels: str) -> Install:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "https://portal.invalid", tmp_path / "data", extra="\n" + channels)
    engine = make_engine(Settings.load(config).database_url())
    create_schema(engine)
    return Install(config, tmp_path / "drop", engine)


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    (tmp_path / "drop").mkdir()
    ready = install_with(tmp_path, f'[feed.channels.pm]\nkind = "csv"\nfolder = "{tmp_path / "drop"}"\n')
    every_event(ready.engine)
    yield ready
    ready.engine.dispose()


def delivered_everything(install: Install, name: str = "pm") -> None:
    """What a receiver's acknowledgements leave behind: the channel's cursor past every event."""
    now = datetime.now(UTC)
    with session_scope(install.engine) as session:
        last = feed.last_seq(session)
        assert feed.take_lease(session, name, "test", now, 60) is not None
        assert feed.acknowledge(session, name, "test", last, EVENTS, now, now)
        feed.release_lease(session, name, "test")


# --- status ---------------------------------------------------------------------------------------------


def test_status_without_channels_says_how_to_configure_one(tmp_path: Path) -> None:
    bare = install_with(tmp_path, "")
    done = bare.run("status")
    assert done.returncode == 0, done.stderr
    assert "No feed channels are configured" in done.stdout and "docs/feed.md" in done.stdout


def test_status_shows_what_waits_where_it_goes_and_changes_nothing(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    both = install_with(
        tmp_path, f'[feed.channels.pm]\nkind = "csv"\nfolder = "{drop}"\n\n'
        f'[feed.channels.hook]\nkind = "webhook"\nurl = "{NOBODY_LISTENS}?token=abc"\n',
    )  # fmt: skip
    every_event(both.engine)
    done = both.run("status")
    assert done.returncode == 0, done.stderr
    assert "Feed to the PM system" in done.stdout
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 5}
    assert f"│ {EVENTS} " in rows["pm"] and "csv" in rows["pm"] and "ok" in rows["pm"]
    assert "http://127.0.0.1:9" in rows["hook"] and "hooks/claims" not in done.stdout and "token" not in done.stdout
    assert both.cursor("pm") == both.cursor("hook") == (0, 0)
    with Session(both.engine) as session:
        assert session.get(FeedChannelState, "pm") is None  # only read: no row made


def test_status_of_the_worker_has_a_feed_section(install: Install) -> None:
    done = portal_worker("-c", str(install.config), "status")
    assert done.returncode == 0, done.stderr
    section = done.stdout[done.stdout.index("Feed to the PM system") :]
    assert "pm" in section and f" {EVENTS} " in section


# --- preview --------------------------------------------------------------------------------------------


def test_preview_json_is_exactly_what_a_webhook_would_get_and_moves_nothing(install: Install) -> None:
    done = install.run("preview", "--limit", "3", "--json")
    assert done.returncode == 0, done.stderr
    with session_scope(install.engine) as session:
        sent = outgoing(session, Settings.load(install.config), events(install.engine)[:3], datetime.now(UTC))
    expected = [item.body.decode() for item in sent]
    assert done.stdout.splitlines() == expected
    assert [json.loads(line)["sequence"] for line in done.stdout.splitlines()] == [1, 2, 3]
    assert install.cursor() == (0, 0) and install.waiting() == EVENTS


def test_preview_shows_the_next_ten_by_default_and_only_a_channels_types(tmp_path: Path) -> None:
    only = install_with(tmp_path, '[feed.channels.pm]\nkind = "csv"\nfolder = "drop"\ntypes = ["denial.opened"]\n')
    every_event(only.engine)
    lines = only.run("preview", "--json").stdout.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["denial.opened", "denial.opened"]
    shown = only.run("preview").stdout
    assert "pm: the next 2 event(s)" in shown and '"type": "denial.opened"' in shown
    assert "patient_name" not in shown  # names only where the installation turns them on


def test_preview_with_names_turned_on_adds_them(tmp_path: Path) -> None:
    named = install_with(
        tmp_path, '[feed]\ninclude_patient_names = true\n\n[feed.channels.pm]\nkind = "csv"\nfolder = "drop"\n'
    )
    every_event(named.engine)
    first = json.loads(named.run("preview", "--limit", "1", "--json").stdout)
    assert first["data"]["patient_name"] == "SYNTHETIC, PERSON"


# --- replay ---------------------------------------------------------------------------------------------


def test_replay_sends_again_what_was_recorded_since_the_day(install: Install) -> None:
    delivered_everything(install)
    assert install.waiting() == 0
    today = datetime.now(UTC).astimezone(Settings.load(install.config).worker.tzinfo).date()
    done = install.run("replay", "--since", (today + timedelta(days=1)).isoformat())
    assert done.returncode == 0 and "pm: 0 event(s)" in done.stdout
    done = install.run("replay", "--since", today.isoformat(), "--channel", "pm")
    assert done.returncode == 0, done.stderr
    assert f"pm: {EVENTS} event(s) from {today} 00:00 on will be sent again" in done.stdout
    assert install.waiting() == EVENTS and install.cursor()[0] == 0


def test_replay_says_when_the_day_is_before_the_oldest_kept_event(install: Install) -> None:
    delivered_everything(install)
    done = install.run("replay", "--since", "2020-01-01")
    assert done.returncode == 0, done.stderr
    assert "Events before" in done.stdout and "no longer kept" in done.stdout and "feed.keep_days = 90" in done.stdout
    assert install.waiting() == EVENTS


def test_replay_takes_an_iso_time_with_its_offset(install: Install) -> None:
    delivered_everything(install)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    done = install.run("replay", "--since", later)
    assert done.returncode == 0 and "pm: 0 event(s)" in done.stdout
    assert install.waiting() == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("replay", "--since", "yesterday"), "'yesterday' is not a date: write YYYY-MM-DD"),
        (("replay", "--since", "2026-13-01"), "is not a date"),
        (("replay", "--since", "2026-11-01", "--channel", "pms"), "no feed channel named 'pms' (configured: pm)"),
        (("preview", "--channel", "pms"), "no feed channel named 'pms'"),
        (("preview", "--limit", "0"), "--limit"),
        (("send", "--channel", "pms"), "no feed channel named 'pms'"),
    ],
)
def test_a_bad_input_is_refused_clearly_and_changes_nothing(
    install: Install, args: tuple[str, ...], words: str
) -> None:
    delivered_everything(install)
    before = install.cursor()
    done = install.run(*args)
    assert done.returncode == 2
    assert words in " ".join(done.stderr.replace("│", " ").split())
    assert install.cursor() == before and install.waiting() == 0


def test_commands_that_need_a_channel_say_none_is_configured(tmp_path: Path) -> None:
    bare = install_with(tmp_path, "")
    for args in (("preview",), ("replay", "--since", "2026-11-01"), ("send",)):
        done = bare.run(*args)
        assert done.returncode == 2 and "docs/feed.md" in done.stderr.replace("│", " ")


# --- send -----------------------------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("worker.feed.csv_drop") is None, reason="the CSV channel is helper B's")
def test_send_delivers_what_waits_to_the_csv_folder(install: Install) -> None:
    done = install.run("send")
    assert done.returncode == 0, done.stderr
    assert f"pm: {EVENTS} event(s) sent" in done.stdout
    assert install.waiting() == 0 and install.cursor() == (events(install.engine)[-1].seq, EVENTS)
    written = [p for p in install.drop.iterdir() if not p.name.startswith(".")]
    assert written and sum(len(p.read_text().splitlines()) - 1 for p in written) == EVENTS
    again = install.run("send")
    assert again.returncode == 0 and "pm: 0 event(s) sent" in again.stdout


@pytest.mark.skipif(importlib.util.find_spec("worker.feed.webhook") is None, reason="the webhook channel is helper A's")
def test_send_to_a_receiver_that_is_down_reports_it_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    down = install_with(tmp_path, f'[feed.channels.hook]\nkind = "webhook"\nurl = "{NOBODY_LISTENS}"\n')
    open_store(Settings.load(down.config).worker.data_dir).save_feed_secret("hook", "pwsec_" + "t" * 43)
    every_event(down.engine)
    done = down.run("send")
    assert done.returncode == 1
    assert "hook: 0 event(s) sent; failed:" in done.stdout and "127.0.0.1" in done.stdout
    assert down.waiting("hook") == EVENTS and down.cursor("hook") == (0, 0)
    assert "failing since" in down.run("status").stdout
    down.engine.dispose()
