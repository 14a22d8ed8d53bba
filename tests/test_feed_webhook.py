"""The signed webhook to the PM system, seen from a receiver on 127.0.0.1 (tests/feed_receiver.py): every
event arrives once, in order, signed as docs/feed.md says; a receiver that fails loses nothing; a worker
killed mid-delivery resends only what was not acknowledged; forged and replayed requests fail the check;
the secret stays in the keyring."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from bench.feed import record_changes
from store import feed
from store.db import create_schema, make_engine, session_scope
from store.models import FeedChannelState
from tests.conftest import Workspace, write_config
from tests.feed_receiver import Receiver
from tests.run_support import cli, configure, import_claims, start_worker, wait_until
from worker.feed.pump import FeedPump, PassResult, outgoing
from worker.feed.signing import SECRET_PREFIX, SignatureRejected, sign, verify
from worker.security.credentials import KEY_FILE_ENV, open_store
from worker.settings import ConfigError, Settings

# No scheduled job runs in these workers: the feed is the only thing they do.
QUIET = "".join(
    f"\n[schedule.{job}]\nenabled = false\n"
    for job in (
        "claims",
        "remittances",
        "auths",
        "enrollments",
        "auth_requests",
        "appeals",
        "appeal_status",
        "purge",
        "digest",
        "eligibility",
    )
)


def feed_config(url: str, timeout: float = 1) -> str:
    return f"""
[feed]
poll_seconds = 0.2
retry_initial_seconds = 0.2
retry_max_seconds = 0.5

[feed.channels.pm]
kind = "webhook"
url = "{url}"
timeout_seconds = {timeout}
"""


@dataclass
class Install:
    """A worker install with a webhook channel to `receiver`, its secret stored with `feed secret`."""

    config_path: Path
    receiver: Receiver
    engine: Engine

    @property
    def settings(self) -> Settings:
        return Settings.load(self.config_path)

    @property
    def data_dir(self) -> Path:
        return self.settings.worker.data_dir

    def state(self) -> FeedChannelState:
        with session_scope(self.engine) as session:
            return feed.channel(session, "pm")

    def expected(self) -> list[bytes]:
        """What the receiver must get: every stored event in seq order, as the pump sends it (a denial's
        deadline worked out now), encoded."""
        with session_scope(self.engine) as session:
            rows, _ = feed.events_after(session, 0, 1_000_000)
            return [item.body for item in outgoing(session, self.settings, rows, datetime.now(UTC))]

    def deliver(self, pump: FeedPump, **options: int) -> PassResult:
        return pump.deliver("pm", force=True, **options)


def store_secret(config: Path) -> str:
    made = cli(config, "feed", "secret", "pm")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.splitlines()[0]
    assert secret.startswith(SECRET_PREFIX)
    return secret


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(secret="").start()
    yield started
    started.stop()


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Iterator[Install]:
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", extra=feed_config(receiver.url) + QUIET)
    receiver.secret = store_secret(config)
    engine = make_engine(Settings.load(config).database_url())
    create_schema(engine)
    yield Install(config, receiver, engine)
    engine.dispose()


def claim_order(messages: list[dict[str, Any]]) -> dict[str, list[int]]:
    by_claim: dict[str, list[int]] = {}
    for message in messages:
        by_claim.setdefault(message["claim_id"], []).append(message["sequence"])
    return by_claim


# --- a check's events, as the receiver gets them -----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow  # a check of every claim on the fake portal
def test_every_event_of_a_check_reaches_the_receiver_once_in_order_and_signed(
    workspace: Workspace, receiver: Receiver
) -> None:
    configure(workspace, feed_config(receiver.url))
    receiver.secret = store_secret(workspace.config_path)
    import_claims(workspace)
    checked = cli(workspace.config_path, "check")
    assert checked.returncode == 0, checked.stderr
    expected = Install(workspace.config_path, receiver, workspace.engine).expected()
    assert len(expected) > 10, "the check recorded changes"

    pump = FeedPump(workspace.settings, workspace.engine, "test")
    try:
        result = pump.deliver("pm")
    finally:
        pump.close()

    assert (result.sent, result.error) == (len(expected), None)
    assert [item.body for item in receiver.accepted] == expected
    sequences = [message["sequence"] for message in receiver.messages()]
    assert sequences == sorted(sequences)
    assert not receiver.duplicates and not receiver.rejections and not receiver.disagreements
    assert {item.event_type for item in receiver.accepted} >= {"claim.status_changed"}


# --- a receiver that fails for a while -------------------------------------------------------------------

FAILURES = {
    "503": "HTTP 503 from {host}: Service Unavailable: import running",
    "refuse": "cannot connect to {host}",
    "hang": "no answer from {host} within 1 s",
    "close": "{host} closed the connection without an answer",
}


@pytest.mark.parametrize("how", list(FAILURES))
def test_a_receiver_that_fails_for_a_while_loses_nothing_and_reorders_nothing(how: str, install: Install) -> None:
    record_changes(install.engine, claims=5, changes_per_claim=4)
    expected = install.expected()
    host = install.receiver.url.split("/")[2]
    pump = FeedPump(install.settings, install.engine, "test")
    try:
        assert install.deliver(pump, limit=7).sent == 7

        install.receiver.fail(how)  # type: ignore[arg-type]
        for attempt in (1, 2):
            failed = install.deliver(pump)
            assert failed.sent == 0 and failed.error is not None
            assert failed.error.startswith(FAILURES[how].format(host=host)), failed.error
            state = install.state()
            assert (state.consecutive_failures, state.last_error) == (attempt, failed.error)
            assert state.failing_since is not None and state.delivered_seq == 7

        install.receiver.recover()
        assert install.deliver(pump).sent == len(expected) - 7
    finally:
        pump.close()

    state = install.state()
    assert (state.consecutive_failures, state.failing_since, state.next_attempt_at) == (0, None, None)
    assert state.delivered_count == len(expected)
    assert [item.body for item in install.receiver.accepted] == expected  # each once, in the stored order
    assert not install.receiver.duplicates and not install.receiver.disagreements
    for sequences in claim_order(install.receiver.messages()).values():
        assert sequences == sorted(sequences) and len(sequences) == 4


def test_a_failure_in_the_middle_of_a_batch_resumes_at_the_event_that_failed(install: Install) -> None:
    record_changes(install.engine, claims=3, changes_per_claim=5)
    expected = install.expected()
    pump = FeedPump(install.settings, install.engine, "test")
    try:
        install.receiver.fail("503", times=2)
        assert install.deliver(pump).error is not None
        assert install.deliver(pump).error is not None
        assert install.deliver(pump).sent == len(expected)
    finally:
        pump.close()
    assert [item.body for item in install.receiver.accepted] == expected


# --- kill -9 mid-delivery ------------------------------------------------------------------------------


@pytest.mark.slow  # two `portal-worker run` processes, and the killed one's lease (a minute) runs out
def test_a_worker_killed_mid_delivery_resends_only_what_was_not_acknowledged(install: Install, tmp_path: Path) -> None:
    record_changes(install.engine, claims=8, changes_per_claim=5)
    expected = install.expected()
    install.receiver.delay(0.4)  # every answer is slow: the kill lands while one is in flight
    log = tmp_path / "worker.log"
    first = start_worker(install.config_path, log)
    try:
        wait_until(lambda: len(install.receiver.accepted) >= 6, "the worker is delivering", 120)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    acknowledged = install.state().delivered_seq
    received_before = len(install.receiver.accepted)
    assert 0 < acknowledged < len(expected), "the kill came mid-delivery"

    install.receiver.delay(0)
    second = start_worker(install.config_path, log)
    try:
        wait_until(
            lambda: len(install.receiver.accepted) == len(expected),
            "the restarted worker delivered the rest",
            explain=lambda: f"{len(install.receiver.accepted)} of {len(expected)}; {log.read_text()[-2000:]}",
        )
        wait_until(lambda: install.state().delivered_seq == len(expected), "the last acknowledgement is stored")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()

    receiver = install.receiver
    assert [item.body for item in receiver.accepted] == expected  # every event, in order
    assert received_before - acknowledged <= 1, "at most the event in flight was unacknowledged at the kill"
    sequence_of = {item.event_id: item.message["sequence"] for item in receiver.accepted}
    repeated = [sequence_of[item.event_id] for item in receiver.duplicates]
    assert len(repeated) <= 1 and all(seq > acknowledged for seq in repeated), (acknowledged, repeated)
    for item in receiver.duplicates:  # a repeat is the same event: same id, same body
        assert item.body == next(
            first_copy.body for first_copy in receiver.accepted if first_copy.event_id == item.event_id
        )
    assert not receiver.rejections and not receiver.disagreements


# --- the receiver's check ------------------------------------------------------------------------------


def post(receiver: Receiver, body: bytes, signature: str, event_id: str = "evt_" + "a" * 32) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "Portal-Worker-Event-Id": event_id,
        "Portal-Worker-Event-Type": "claim.status_changed",
        "Portal-Worker-Signature": signature,
    }
    return httpx.post(receiver.url, content=body, headers=headers, timeout=10)


def test_forged_and_replayed_requests_fail_the_receivers_check(receiver: Receiver) -> None:
    receiver.secret = "pwsec_" + "k" * 43
    body = b'{"id":"evt_' + b"a" * 32 + b'","type":"claim.status_changed","data":{}}'
    now = int(time.time())

    assert post(receiver, body, sign(receiver.secret, body, now)).status_code == 200
    assert post(receiver, body, sign("pwsec_" + "w" * 43, body, now)).status_code == 401  # wrong secret
    changed = body.replace(b"{}", b'{"paid_amount":"9999.00"}')
    assert post(receiver, changed, sign(receiver.secret, body, now)).status_code == 401  # changed after signing
    old = now - 400
    assert post(receiver, body, sign(receiver.secret, body, old)).status_code == 401  # an old request replayed
    assert post(receiver, body, f"v1={sign(receiver.secret, body, now)[-64:]}").status_code == 401  # no time

    assert [re.sub(r"\d+ s old", "N s old", reason) for reason in receiver.rejections] == [
        "no v1 signature matches the body: wrong secret or the body was changed",
        "no v1 signature matches the body: wrong secret or the body was changed",
        "timestamp N s old (more than 300 s): a replay or a wrong clock",
        "signature header has no single t=<unix seconds>",
    ]
    # A replay inside the window passes the signature check, and the event id makes it a duplicate.
    assert post(receiver, body, sign(receiver.secret, body, now)).status_code == 200
    assert len(receiver.accepted) == 1 and len(receiver.duplicates) == 1
    assert not receiver.disagreements
    assert all(receiver.secret not in reason for reason in receiver.rejections)


def test_during_a_rotation_a_request_signed_with_either_secret_is_accepted() -> None:
    body, now = b'{"id":"evt_1"}', int(time.time())
    new, old = "pwsec_" + "n" * 43, "pwsec_" + "o" * 43
    header = f"t={now},v1={sign(new, body, now)[-64:]},v1={sign(old, body, now)[-64:]}"
    verify(new, header, body, now)
    verify(old, header, body, now)
    with pytest.raises(SignatureRejected, match="no v1 signature matches"):
        verify("pwsec_" + "x" * 43, header, body, now)
    with pytest.raises(SignatureRejected, match="in the future"):
        verify(new, sign(new, body, now + 400), body, now)
    for malformed in ("", "garbage", f"t={now}", "t=soon,v1=00"):
        with pytest.raises(SignatureRejected):
            verify(new, malformed, body, now)


# --- the secret ---------------------------------------------------------------------------------------


def test_without_a_secret_the_channel_says_to_run_feed_secret_and_uses_one_stored_later(install: Install) -> None:
    open_store(install.data_dir).delete_feed_secret("pm")
    record_changes(install.engine, claims=2, changes_per_claim=2)
    pump = FeedPump(install.settings, install.engine, "test")
    try:
        failed = install.deliver(pump)
        words = "no signing secret stored for feed channel pm: run `portal-worker feed secret pm`"
        assert (failed.error, install.state().last_error) == (words, words)
        assert not install.receiver.accepted

        install.receiver.secret = store_secret(install.config_path)  # while the pump keeps its channel open
        assert install.deliver(pump).sent == 4
    finally:
        pump.close()
    assert not install.receiver.rejections


def test_feed_secret_prints_a_new_secret_once_and_keeps_it_only_in_the_keyring(install: Install) -> None:
    config = install.config_path
    stored = open_store(install.data_dir).load_feed_secret("pm")
    assert stored == install.receiver.secret and len(stored) == len(SECRET_PREFIX) + 43
    assert stored not in config.read_text()

    again = cli(config, "feed", "secret", "pm")
    assert again.returncode == 2 and "already has a signing secret" in again.stderr
    assert stored not in again.stdout + again.stderr
    shown = cli(config, "feed", "secret", "pm", "--show-existing")
    assert (shown.returncode, shown.stdout.strip()) == (0, stored)

    rotated = cli(config, "feed", "secret", "pm", "--rotate")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.splitlines()[0]
    assert new != stored and open_store(install.data_dir).load_feed_secret("pm") == new
    assert "receiver" in rotated.stdout

    # A running pump signs with the new secret from its next batch.
    install.receiver.secret = new
    record_changes(install.engine, claims=1, changes_per_claim=2)
    pump = FeedPump(install.settings, install.engine, "test")
    try:
        assert install.deliver(pump).sent == 2
    finally:
        pump.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("nope",), "no feed channel named 'nope' (configured: pm, drop)"),
        (("drop",), "feed channel 'drop' is a csv channel: only a webhook's requests are signed"),
        (("pm", "--rotate", "--show-existing"), "--rotate and --show-existing exclude each other"),
    ],
)
def test_feed_secret_refuses_what_has_no_secret(
    install: Install, tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    install.config_path.write_text(
        install.config_path.read_text() + f'\n[feed.channels.drop]\nkind = "csv"\nfolder = "{drop}"\n'
    )
    refused = cli(install.config_path, "feed", "secret", *args)
    assert refused.returncode == 2
    assert words in " ".join(refused.stderr.split())


@pytest.mark.slow  # `portal-worker run` as a real process
def test_the_secret_never_reaches_the_log_the_store_or_the_config(install: Install, tmp_path: Path) -> None:
    """Even a receiver that echoes the secret in its refusal: the error the worker keeps and logs hides it."""
    secret = install.receiver.secret
    record_changes(install.engine, claims=3, changes_per_claim=2)
    install.receiver.fail("503", answer=f"bad signature; configured secret is {secret}")
    log = tmp_path / "worker.log"
    worker = start_worker(install.config_path, log)
    try:
        wait_until(lambda: install.state().consecutive_failures >= 2, "the worker met the refusals", 120)
        install.receiver.recover()
        wait_until(lambda: install.state().delivered_seq == 6, "the worker delivered after the recovery", 120)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()

    assert install.state().last_error == "HTTP 503 from {}: bad signature; configured secret is [redacted]".format(
        install.receiver.url.split("/")[2]
    )
    assert len(install.receiver.accepted) == 6
    install.engine.dispose()
    written = [log, install.config_path, *(path for path in install.data_dir.rglob("*") if path.is_file())]
    assert any(path.suffix == ".jsonl" for path in written)
    for path in written:
        assert secret.encode() not in path.read_bytes(), f"the secret is in {path.name}"
    assert b"feed_delivery_failed" in b"".join(path.read_bytes() for path in written if path.suffix == ".jsonl")


# --- bad config ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        ('kind = "webhook"\nurl = "http://pm.example.org/hooks"', "must be https"),
        ('kind = "webhook"', 'a webhook channel needs url = "https://..." and no folder'),
        ('kind = "webhook"\nurl = "https://user:pw@pm.example.org/hooks"', "must not hold a login name or password"),
        ('kind = "webhook"\nurl = "pm.example.org/hooks"', "is not a web address"),
        ('kind = "ftp"\nurl = "https://pm.example.org/hooks"', "feed.channels.pm.kind"),
        ('kind = "webhook"\nurl = "https://pm.example.org/hooks"\ntimeout_seconds = 0', "timeout_seconds"),
    ],
)
def test_a_bad_webhook_channel_is_named_in_the_config_error(tmp_path: Path, channel: str, words: str) -> None:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", extra=f"\n[feed.channels.pm]\n{channel}\n")
    with pytest.raises(ConfigError) as error:
        Settings.load(config)
    assert words in str(error.value)
    refused = cli(config, "feed", "secret", "pm")
    assert refused.returncode == 2 and words in " ".join(refused.stderr.split())


def test_http_to_this_machine_is_allowed(tmp_path: Path) -> None:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", extra=feed_config("http://localhost:8080/hooks"))
    assert Settings.load(config).feed.channels["pm"].url == "http://localhost:8080/hooks"


# --- the bench ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_feed_bench_prints_events_per_second(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "bench.feed", "--events", "200", "--db", "sqlite", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "sqlite: 200 events waiting" in ran.stdout
    assert " events/s  (200 in " in ran.stdout and ", 0 rejected)" in ran.stdout
    assert "  csv  " in ran.stdout and ran.stdout.count("(200 in ") == 2
