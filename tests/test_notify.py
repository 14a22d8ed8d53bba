"""The daily summary delivered for real: a local SMTP server and a local JSON webhook receive it; never twice.

Alerts come from the real flows: a crafted claims export is imported and claim statuses are recorded
as a portal check records them. Nothing of ours is mocked; the only stand-ins are the servers.
"""

from __future__ import annotations

import email
import json
import re
import socket
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.alerts import acknowledge
from flows.claim_import import import_claims_file
from flows.claim_status import record_status
from portals.types import Adjustment, ClaimStatusResult
from store.accounts import clear_attention, get_account, mark_needs_attention
from store.alerts import get_digest, list_alerts
from store.claims import get_claim
from store.db import create_schema, make_engine, session_scope
from store.models import Alert, Digest
from tests.cli_support import Ran
from tests.conftest import ADAPTER_OF, write_config
from tests.test_cli import cli
from tests.test_import_claims import rows, write_csv
from worker.delivery.notify import Sent, apprise_send, refresh_urgent_alerts, retry_failed_deliveries, send_digests
from worker.delivery.urgent import send_urgent
from worker.runtime.jobs import job_specs
from worker.runtime.scheduler import Enqueuer
from worker.security.credentials import KEY_FILE_ENV
from worker.settings import ConfigError, Settings

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)  # 07:00 in New York, when the digest job fires
TODAY = NOW.astimezone(NEW_YORK).date()
PATIENT = "QUILLFEATHER, ZEPHYRINE"  # synthetic; must never reach a summary unless names are turned on
SECRET = "s3cret-hook-pass"


# --- the outside world: an SMTP server and a webhook receiver on localhost ----------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


class Webhook:
    """A JSON webhook receiver in a thread; start() again on the same port after a stop() ("receiver down")."""

    def __init__(self, port: int) -> None:
        self.port, self.received = port, []  # type: ignore[var-annotated]
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Webhook:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    receiver = Webhook(free_port())
    try:
        yield receiver
    finally:
        receiver.stop()


# --- a worker install with crafted claims ---------------------------------------------------------------


def install(tmp_path: Path, alerts: str) -> tuple[Settings, Engine]:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", "\n" + alerts)
    settings = Settings.load(config)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    return settings, engine


def import_claims(tmp_path: Path, engine: Engine, today: date, at: datetime) -> None:
    """UHP files within 90 days of service: one claim past it, one due tomorrow, one this week, one far off;
    and a BBH claim denied (CO-97, coding's) whose 180-day appeal window ends in 4 days."""
    template = {
        **rows()[0],
        "payer_id": "UHP",
        "prior_auth_number": "",
        "patient_name": PATIENT,
        "billed_amount": "240.00",
    }
    claims = []
    for claim_id, days_ago, payer in (
        ("PW-OVER", 96, "UHP"),
        ("PW-SOON", 89, "UHP"),
        ("PW-WEEK", 85, "UHP"),
        ("PW-FAR", 10, "UHP"),
        ("PW-DENY", 200, "BBH"),
    ):
        dos = (today - timedelta(days=days_ago)).isoformat()
        claims.append(
            {**template, "claim_id": claim_id, "payer_id": payer, "dos_from": dos, "dos_to": dos, "submitted_date": dos}
        )
    import_claims_file(engine, write_csv(tmp_path / "claims.csv", claims), at)
    portal_says(
        engine,
        "PW-DENY",
        ClaimStatusResult(
            "PW-DENY",
            "F2",
            "1",
            "Denied",
            today - timedelta(days=176),
            "BBH0001",
            Decimal("240.00"),
            Decimal("0"),
            Decimal("0"),
            adjustments=(Adjustment("CO", "97", Decimal("240.00"), ("N20",), "99213"),),
        ),
        at,
    )


def portal_says(engine: Engine, claim_id: str, result: ClaimStatusResult, at: datetime) -> None:
    with Session(engine) as session:
        claim = get_claim(session, claim_id)
    assert claim is not None
    record_status(engine, claim, result, portal="unity", run_id="test", at=at)


def paid(claim_id: str, on: date) -> ClaimStatusResult:
    return ClaimStatusResult(
        claim_id,
        "F1",
        "65",
        "Paid",
        on,
        "UHP0001",
        Decimal("240.00"),
        Decimal("200.00"),
        Decimal("200.00"),
        adjustments=(Adjustment("CO", "45", Decimal("40.00")),),
    )


def digest_row(engine: Engine, channel: str, day: date = TODAY) -> Digest | None:
    with Session(engine) as session:
        return get_digest(session, day, channel)


def mailto(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?mode=insecure&from=digest@practice.example&to=billing@practice.example"


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


# --- real delivery -----------------------------------------------------------------------------------------


def test_the_email_summary_has_html_and_text_parts_and_no_patient_name(
    tmp_path: Path, smtp_server: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp_server
    settings, engine = install(
        tmp_path, f'[alerts.channels.billing]\nurls = ["{mailto(port)}"]\nowners = ["billing"]\n'
    )
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(days=1))

    [outcome] = send_digests(settings, engine, NOW)

    assert (outcome.key, outcome.state) == ("billing", "sent")
    [message] = mailbox.messages
    assert message["To"] == "billing@practice.example" and "2026-11-24" in message["Subject"]
    assert "1 overdue" in message["Subject"] and "$720.00 at risk" in message["Subject"]
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    for text in body.values():
        assert "PW-OVER" in text and "PW-SOON" in text and "PW-WEEK" in text and "$240.00" in text
        assert "PW-FAR" not in text  # not on the ladder yet
        assert "PW-DENY" not in text  # a coding denial: not this audience's
        assert PATIENT not in text and PATIENT.split(",")[0] not in text
    assert "Overdue" in body["text/html"] and "<table" in body["text/html"]
    assert "Confirm the payer has the claim, or submit it, by 2026-11-29" in body["text/plain"]

    saved = settings.worker.data_dir / "digests" / "2026-11-24-billing.html"
    assert "PW-OVER" in saved.read_text() and PATIENT not in saved.read_text()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    row = digest_row(engine, "billing")
    assert row is not None and (row.state, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at == NOW and row.subject == message["Subject"]


def test_each_audience_gets_its_departments_through_a_json_webhook(tmp_path: Path, webhook: Webhook) -> None:
    webhook.start()
    hook = f"json://127.0.0.1:{webhook.port}"
    settings, engine = install(
        tmp_path,
        f'[alerts.channels.coding]\nurls = ["{hook}/coding"]\nowners = ["coding"]\n'
        f'[alerts.channels.it]\nurls = ["{hook}/it"]\nowners = ["it"]\n',
    )
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(hours=1))
    [digest_job] = [spec for spec in job_specs(settings) if spec.job == "digest"]

    sent = Enqueuer(settings, engine, lambda: NOW).run_job(digest_job)

    assert sent == 1  # the IT channel had nothing to report: nothing sent, nothing recorded
    [(path, payload)] = webhook.received
    assert path == "/coding"
    assert payload["title"].startswith("portal-worker 2026-11-24")
    message = payload["message"]
    assert "PW-DENY" in message and "CO-97/N20" in message and "File appeal (by 2026-11-28)" in message
    assert "New denials since the last summary: 1, $240.00" in message
    assert "PW-OVER" not in message and PATIENT not in message
    assert digest_row(engine, "it") is None


def test_patient_names_appear_only_when_the_config_turns_them_on(tmp_path: Path, webhook: Webhook) -> None:
    webhook.start()
    settings, engine = install(
        tmp_path,
        f"[alerts]\ninclude_patient_names = true\n"
        f'[alerts.channels.billing]\nurls = ["json://127.0.0.1:{webhook.port}/b"]\n',
    )
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(hours=1))

    send_digests(settings, engine, NOW)

    [(_, payload)] = webhook.received
    assert PATIENT in payload["message"]


def test_a_summary_is_never_sent_twice_even_when_the_worker_dies_mid_send(tmp_path: Path, webhook: Webhook) -> None:
    webhook.start()
    settings, engine = install(tmp_path, f'[alerts.channels.billing]\nurls = ["json://127.0.0.1:{webhook.port}/b"]\n')
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(hours=1))

    class WorkerKilled(BaseException):
        """The process ends right after the webhook accepted the summary, before the row says so."""

    def send_then_die(url: str, subject: str, text: str, html: str) -> Sent:
        apprise_send(url, subject, text, html)
        raise WorkerKilled

    with pytest.raises(WorkerKilled):
        send_digests(settings, engine, NOW, send=send_then_die)
    row = digest_row(engine, "billing")
    assert len(webhook.received) == 1 and row is not None and row.state == "sending"

    # The restarted worker's digest job, then another run the same day: nothing goes out again.
    after_restart = send_digests(settings, engine, NOW + timedelta(minutes=5))
    again = send_digests(settings, engine, NOW + timedelta(hours=3))

    assert len(webhook.received) == 1
    assert [(o.key, o.state) for o in after_restart] == [("billing", "unconfirmed")]
    assert [(o.key, o.state) for o in again] == [("billing", "unconfirmed earlier")]
    row = digest_row(engine, "billing")
    assert row is not None and row.state == "unconfirmed" and "not sent again" in (row.last_error or "")

    shown = status(settings, tmp_path)
    assert "Deliveries" in shown and "unconfirmed" in shown and "billing" in shown

    # The next day is a new summary.
    send_digests(settings, engine, NOW + timedelta(days=1))
    assert len(webhook.received) == 2


def test_a_failed_delivery_is_recorded_without_secrets_retried_and_then_sent_once(
    tmp_path: Path, webhook: Webhook
) -> None:
    url = f"json://hook-user:{SECRET}@127.0.0.1:{webhook.port}/digest"  # nothing listens there yet
    settings, engine = install(tmp_path, f'[alerts.channels.billing]\nurls = ["{url}"]\n')
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(hours=1))

    [first] = send_digests(settings, engine, NOW)

    assert first.state == "failed" and SECRET not in first.detail
    row = digest_row(engine, "billing")
    assert row is not None and (row.state, row.attempts) == ("failed", 1)
    assert "JSON" in (row.last_error or "") and "127.0.0.1" in (row.last_error or "")
    assert SECRET not in (row.last_error or "")
    shown = status(settings, tmp_path)
    assert "failed, will retry" in shown and SECRET not in shown

    webhook.start()
    [retried] = retry_failed_deliveries(settings, engine, NOW + timedelta(minutes=15))  # the retry job
    [later] = send_digests(settings, engine, NOW + timedelta(hours=2))

    assert (retried.state, later.state) == ("sent", "already sent")
    [(_, payload)] = webhook.received
    assert payload["title"] == row.subject and "PW-OVER" in payload["message"]  # the summary was not lost
    row = digest_row(engine, "billing")
    assert row is not None and (row.state, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_paid_claim_is_said_resolved_once(tmp_path: Path, webhook: Webhook) -> None:
    webhook.start()
    settings, engine = install(tmp_path, f'[alerts.channels.billing]\nurls = ["json://127.0.0.1:{webhook.port}/b"]\n')
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(hours=1))

    send_digests(settings, engine, NOW)
    portal_says(engine, "PW-WEEK", paid("PW-WEEK", TODAY), NOW + timedelta(hours=6))
    send_digests(settings, engine, NOW + timedelta(days=1))
    send_digests(settings, engine, NOW + timedelta(days=2))

    first, second, third = (payload["message"] for _, payload in webhook.received)
    assert "new: Claim PW-WEEK" in first
    resolved = second.split("RESOLVED since the last summary", 1)
    assert len(resolved) == 2 and "PW-WEEK" in resolved[1] and "PW-WEEK" not in resolved[0]
    assert ", new:" not in second  # nothing new; PW-SOON went overdue, which is a rung up
    assert "PW-WEEK" not in third and "RESOLVED" not in third
    with Session(engine) as session:
        alert = session.exec(select(Alert).where(Alert.key == "timely_filing|PW-WEEK")).one()
    assert alert.status == "resolved" and alert.resolution_reported


# --- urgent alerts between summaries ---------------------------------------------------------------------


def password_rejected(engine: Engine, portal: str, at: datetime) -> None:
    """What a runner records when the portal refuses the stored password."""
    with session_scope(engine) as session:
        get_account(session, portal, ADAPTER_OF[portal])
        mark_needs_attention(session, portal, "the portal rejected the stored password", at)


def password_fixed(engine: Engine, portal: str) -> None:
    with session_scope(engine) as session:
        clear_attention(session, portal)


def test_an_account_needing_a_password_is_told_to_it_at_once_once_and_again_only_if_it_comes_back(
    tmp_path: Path, webhook: Webhook
) -> None:
    webhook.start()
    hook = f"json://127.0.0.1:{webhook.port}"
    settings, engine = install(
        tmp_path,
        f'[alerts.channels.billing]\nurls = ["{hook}/billing"]\nowners = ["billing"]\n'
        f'[alerts.channels.it]\nurls = ["{hook}/it"]\nowners = ["it"]\n',
    )
    import_claims(tmp_path, engine, TODAY, NOW - timedelta(hours=1))
    password_rejected(engine, "unity", NOW)

    def every_15_minutes(at: datetime) -> None:  # the job `run` keeps between the daily summaries
        Enqueuer(settings, engine, lambda: at).between_summaries()

    every_15_minutes(NOW + timedelta(minutes=10))
    every_15_minutes(NOW + timedelta(minutes=25))
    every_15_minutes(NOW + timedelta(hours=5))

    [(path, payload)] = webhook.received
    assert path == "/it"  # billing's channel does not get IT's alerts; none of the claims' deadlines go out
    assert payload["title"].startswith("portal-worker URGENT: Portal account unity needs attention")
    assert "credentials set unity" in payload["message"] and "alerts ack" in payload["message"]
    assert "PW-OVER" not in payload["message"] and PATIENT not in payload["message"]

    # The next morning's summary still lists it (as known, not new) until someone acknowledges it.
    send_digests(settings, engine, NOW + timedelta(days=1))
    it_summary = [message["message"] for path, message in webhook.received if path == "/it"][-1]
    assert "unity needs attention" in it_summary and "new: Portal account unity" not in it_summary

    # Fixed: resolved, nothing sent. Rejected again: a new episode, told again.
    password_fixed(engine, "unity")
    every_15_minutes(NOW + timedelta(days=1, hours=1))
    password_rejected(engine, "unity", NOW + timedelta(days=1, hours=2))
    every_15_minutes(NOW + timedelta(days=1, hours=2, minutes=10))
    every_15_minutes(NOW + timedelta(days=1, hours=2, minutes=25))

    notices = [payload for path, payload in webhook.received if path == "/it" and "URGENT" in payload["title"]]
    assert len(notices) == 2


def test_an_acknowledged_alert_is_not_sent_and_the_setting_turns_notices_off(tmp_path: Path, webhook: Webhook) -> None:
    webhook.start()
    settings, engine = install(tmp_path, f'[alerts.channels.it]\nurls = ["json://127.0.0.1:{webhook.port}/it"]\n')
    password_rejected(engine, "summit", NOW)
    refresh_urgent_alerts(settings, engine, NOW)
    with session_scope(engine) as session:
        [alert] = list_alerts(session)
        acknowledge(session, alert.id or 0, NOW, by="lee")

    assert send_urgent(settings, engine, NOW + timedelta(minutes=15)) == []

    (tmp_path / "off").mkdir()
    off, off_engine = install(
        tmp_path / "off",
        f'[alerts]\nurgent_at_once = false\n[alerts.channels.it]\nurls = ["json://127.0.0.1:{webhook.port}/it"]\n',
    )
    password_rejected(off_engine, "summit", NOW)
    assert send_urgent(off, off_engine, NOW) == []
    assert webhook.received == []


def test_a_notice_that_failed_is_retried_and_one_cut_off_by_a_restart_is_not_sent_again(
    tmp_path: Path, webhook: Webhook
) -> None:
    url = f"json://hook-user:{SECRET}@127.0.0.1:{webhook.port}/it"  # nothing listens there yet
    settings, engine = install(tmp_path, f'[alerts.channels.it]\nurls = ["{url}"]\n')
    password_rejected(engine, "summit", NOW)

    [failed] = send_urgent(settings, engine, NOW)

    assert failed.state == "failed" and failed.key.startswith("it!account_needs_attention|summit@")
    shown = status(settings, tmp_path)
    assert "failed, will retry" in shown and SECRET not in shown
    webhook.start()
    Enqueuer(settings, engine, lambda: NOW + timedelta(minutes=15)).between_summaries()
    Enqueuer(settings, engine, lambda: NOW + timedelta(minutes=30)).between_summaries()
    assert len(webhook.received) == 1

    class WorkerKilled(BaseException):
        """The process ends right after the webhook accepted the notice, before the row says so."""

    def send_then_die(url: str, subject: str, text: str, html: str) -> Sent:
        apprise_send(url, subject, text, html)
        raise WorkerKilled

    password_rejected(engine, "lakeshore", NOW + timedelta(hours=1))
    with pytest.raises(WorkerKilled):
        send_urgent(settings, engine, NOW + timedelta(hours=1), send=send_then_die)
    send_digests(settings, engine, NOW + timedelta(hours=2))  # a restarted worker settles what was cut off
    send_urgent(settings, engine, NOW + timedelta(hours=2))

    lakeshore = [p for _, p in webhook.received if "URGENT" in p["title"] and "lakeshore" in p["title"]]
    assert len(lakeshore) == 1


# --- config --------------------------------------------------------------------------------------------------


def test_a_misconfigured_apprise_url_is_named_by_its_key_without_the_secret(tmp_path: Path) -> None:
    alerts = (
        f'[alerts.channels.billing]\nurls = ["mailtos://user:{SECRET}@smtp.example.org?to=b@example.org", '
        f'"xyz://user:{SECRET}@host/x", "slack://", "{SECRET}"]\n'
        f'[alerts.channels.coding]\nurls = "json://u:{SECRET}@host/p"\nowners = ["codign"]\n'
    )
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", "\n" + alerts)

    with pytest.raises(ConfigError) as error:
        Settings.load(config)

    message = str(error.value)
    assert 'alerts.channels.billing.urls[1]: not a notification URL Apprise understands (scheme "xyz")' in message
    assert "alerts.channels.billing.urls[2]: Apprise cannot use this slack:// URL" in message
    assert "alerts.channels.billing.urls[3]: not a notification URL Apprise understands (no scheme" in message
    assert "alerts.channels.billing.urls[0]" not in message  # a good one
    assert "alerts.channels.coding.urls: expected a list" in message
    assert 'alerts.channels.coding.owners: "codign" is not a department' in message
    assert SECRET not in message

    result = cli(None, "alerts", config=config)
    assert result.returncode == 2 and "alerts.channels.billing.urls[1]" in result.stderr
    assert SECRET not in result.stdout + result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        ("[alerts]\ntop_items = 0\n", "alerts.top_items: must be at least 1, got 0"),
        ("[alerts]\njob_grace = 0.5\n", "alerts.job_grace: must be at least 1, got 0.5"),
        ("[alerts]\nportal_paused_hours = 0\n", "alerts.portal_paused_hours: must be greater than 0, got 0"),
        ('[alerts]\ninclude_patient_names = "yes"\n', 'alerts.include_patient_names: expected true/false, got "yes"'),
        ("[alerts.ladders]\ntimely_filing = [30, 0]\n", "alerts.ladders.timely_filing[1]: must be greater than 0"),
        ("[alerts.ladders]\nportal_paused = [3]\n", '"portal_paused" is not an alert kind with a deadline'),
        ("[alerts.ladders]\ntimely_filing = []\n", "timely_filing: give at least one number of days"),
        ("[alerts.channels.billing]\nowners = []\n", "alerts.channels.billing.urls: required key is missing"),
        (
            '[alerts.channels."Front Desk"]\nurls = ["json://localhost/x"]\n',
            "alerts.channels.Front Desk: a channel name may only use a-z, 0-9, _ and -",
        ),
        ("[alerts]\ncolour = 1\n", "alerts.colour: unknown key"),
        ('[schedule.digest.portals.unity]\ncron = "0 6 * * *"\n', "schedule.digest: the daily summary runs once for"),
    ],
)
def test_bad_alert_settings_are_named_by_their_key(tmp_path: Path, alerts: str, expected: str) -> None:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", "\n" + alerts)
    with pytest.raises(ConfigError) as error:
        Settings.load(config)
    assert expected in str(error.value)


def test_the_example_config_documents_channels_apprise_understands(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "portal-worker.example.toml"
    text = example.read_text()
    for key in (
        "[schedule.digest]",
        "[alerts]",
        "include_patient_names",
        "top_items",
        "portal_paused_hours",
        "job_grace",
        "delivery_attempts",
        "[alerts.ladders]",
        "owners",
    ):
        assert key in text, key
    # The commented-out channels, uncommented, must load: the examples are URLs Apprise accepts.
    channels = [
        line.removeprefix("# ").split("  #")[0]
        for line in text.splitlines()
        if re.match(r"# (\[alerts\.channels\.[a-z_-]+\]$|urls = |owners = )", line)
    ]
    config = tmp_path / "example.toml"
    config.write_text(text + "\n" + "\n".join(channels) + "\n")

    settings = Settings.load(config)

    assert sorted(settings.alerts.channels) == ["billing", "coding", "it"]
    assert settings.alerts.channels["coding"].owners == ["coding"]


def test_alert_settings_defaults_and_the_digest_job(tmp_path: Path) -> None:
    settings, _ = install(tmp_path, "[alerts.ladders]\ntimely_filing = [7, 60, 21]\n")

    alerts = settings.alerts
    assert (
        alerts.include_patient_names,
        alerts.top_items,
        alerts.portal_paused_hours,
        alerts.job_grace,
        alerts.delivery_attempts,
        alerts.urgent_at_once,
        alerts.channels,
    ) == (False, 10, 4, 2.0, 3, True, {})
    assert alerts.ladders == {"timely_filing": [60, 21, 7]}
    assert settings.schedule.digest.cron == "0 7 * * *"
    [digest] = [spec for spec in job_specs(settings) if spec.job == "digest"]
    assert (digest.job_id, digest.schedule) == ("digest", "cron 0 7 * * *")


# --- the command line --------------------------------------------------------------------------------------------


def status(settings: Settings, tmp_path: Path) -> str:
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    shown = cli(None, "status", config=settings.config_path, env={KEY_FILE_ENV: str(key_file)})
    assert shown.returncode == 0, shown.stderr
    return " ".join(shown.stdout.split())


def test_alerts_ack_snooze_and_the_digest_preview_from_the_command_line(tmp_path: Path) -> None:
    settings, engine = install(tmp_path, "")
    today = datetime.now(NEW_YORK).date()  # the CLI runs on the real clock
    import_claims(tmp_path, engine, today, datetime.now(UTC) - timedelta(hours=1))

    def run(*args: str) -> Ran:
        return cli(None, *args, config=settings.config_path)

    preview = run("digest", "--preview")
    assert preview.returncode == 0, preview.stderr
    assert "every department" in preview.stdout and "OVERDUE" in preview.stdout
    assert "PW-OVER" in preview.stdout and "PW-DENY" in preview.stdout and PATIENT not in preview.stdout
    with Session(engine) as session:
        ids = {a.subject: a.id for a in list_alerts(session, ["open"])}
        assert all(a.reported_at is None for a in list_alerts(session))  # a preview reports nothing

    listed = run("alerts")
    assert listed.returncode == 0 and "4 alert(s)" in listed.stdout
    assert "PW-SOON" in listed.stdout and "critical" in listed.stdout and PATIENT not in listed.stdout

    acked = run("alerts", "ack", str(ids["PW-SOON"]))
    snoozed = run("alerts", "ack", str(ids["PW-WEEK"]), "--snooze", "3d", "--by", "maria")
    assert acked.returncode == 0 and "acknowledged by staff" in acked.stdout
    assert snoozed.returncode == 0 and "snoozed by maria until" in snoozed.stdout
    with session_scope(engine) as session:
        week = session.get(Alert, ids["PW-WEEK"])
        assert week is not None and week.snoozed_until is not None and week.acknowledged_by == "maria"
        assert timedelta(days=3) - timedelta(minutes=5) < week.snoozed_until - datetime.now(UTC) <= timedelta(days=3)
    after = run("alerts")
    assert "2 alert(s)" in after.stdout and "PW-SOON" not in after.stdout and "PW-WEEK" not in after.stdout
    assert "2 acknowledged or snoozed alert(s) not shown" in after.stdout
    everything = " ".join(run("alerts", "--all").stdout.split())
    assert "acknowledged" in everything and "snoozed" in everything

    bad = run("alerts", "ack", str(ids["PW-OVER"]), "--snooze", "3x")
    assert bad.returncode == 2 and "not a snooze like 3d, 12h or 1w" in bad.stderr
    missing = run("alerts", "ack", "9999")
    assert missing.returncode == 2 and "no alert with id 9999" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr

    nowhere = run("digest", "--send")
    assert nowhere.returncode == 2 and "no alert channels" in nowhere.stderr


def test_digest_send_exits_1_when_a_channel_failed(tmp_path: Path, webhook: Webhook) -> None:
    settings, engine = install(tmp_path, f'[alerts.channels.billing]\nurls = ["json://127.0.0.1:{webhook.port}/b"]\n')
    import_claims(tmp_path, engine, datetime.now(NEW_YORK).date(), datetime.now(UTC) - timedelta(hours=1))

    failed = cli(None, "digest", "--send", config=settings.config_path)
    webhook.start()
    sent = cli(None, "digest", "--send", config=settings.config_path)

    assert failed.returncode == 1 and "billing: failed" in failed.stderr
    assert sent.returncode == 0 and "billing: sent" in sent.stdout and len(webhook.received) == 1
