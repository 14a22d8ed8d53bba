"""The CSV drop folder as a PM import job sees it: whole files in name order, the documented columns, every
event at least once through a failing folder and a killed `portal-worker run`, and no patient names unless
the practice turns them on."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from flows.feed_format import envelope
from store import feed
from store.appeal_decisions import save_appeal
from store.appeals import add_appeal, mark_filed
from store.db import create_schema, make_engine, session_scope
from store.denials import add_denial, set_status
from store.findings import save_finding
from store.models import AppealRow, ClaimStatusObservation, Denial, FeedChannelState, FeedEvent, Finding
from store.observations import record_observation
from tests.feed_support import uhp_claim
from tests.run_support import start_worker, wait_until
from worker.feed.csv_drop import COLUMNS
from worker.feed.pump import FeedPump, stored
from worker.security.credentials import KEY_FILE_ENV
from worker.settings import ConfigError, Settings

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
DOC = Path(__file__).resolve().parent.parent / "docs" / "feed-csv.md"
NAME = re.compile(r"portal-worker-(?P<channel>[a-z0-9_-]+?)-(?P<first>\d{12})-(?P<last>\d{12})\.csv")
PATIENT = "Synthetic Patient"


# --- an installation: its config, its store, its drop folder -------------------------------------------


@dataclass
class Install:
    root: Path
    config: Path
    drop: Path

    @property
    def settings(self) -> Settings:
        return Settings.load(self.config)

    @property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url())


def config_text(root: Path, feed_toml: str) -> str:
    """One portal nobody reaches (no job is scheduled), and the feed under test."""
    jobs = ("claims", "remittances", "auths", "enrollments", "auth_requests", "appeals", "appeal_status", "purge")
    disabled = "".join(f"[schedule.{job}]\nenabled = false\n" for job in (*jobs, "digest", "eligibility"))
    return (
        f'[worker]\ndata_dir = "{root / "data"}"\n\n'
        '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://127.0.0.1:9/unity"\npayers = ["UHP"]\n\n'
        "[run]\nrunners = 1\npoll_seconds = 0.2\nheartbeat_seconds = 0.5\n\n"
        f"{disabled}\n{feed_toml}"
    )


def csv_channel(drop: Path, name: str = "pm", extra: str = "") -> str:
    return f'[feed.channels.{name}]\nkind = "csv"\nfolder = "{drop}"\n{extra}'


@pytest.fixture
def install(tmp_path: Path) -> Install:
    (tmp_path / "data").mkdir()
    drop = tmp_path / "drop"
    drop.mkdir()
    config = tmp_path / "portal-worker.toml"
    config.write_text(config_text(tmp_path, "[feed]\npoll_seconds = 0.2\n" + csv_channel(drop, extra="max_rows = 3\n")))
    made = Install(tmp_path, config, drop)
    engine = made.engine
    create_schema(engine)
    engine.dispose()
    return made


def reconfigure(install: Install, feed_toml: str) -> None:
    install.config.write_text(config_text(install.root, feed_toml))


# --- changes made through the store, as a check or a person makes them ---------------------------------


def add_claims(engine: Engine, *claim_ids: str) -> None:
    with session_scope(engine) as session:
        for claim_id in claim_ids:
            session.add(uhp_claim(claim_id, NOW, PATIENT))


def observe(session: Session, claim_id: str, status: str, paid: str | None = None) -> None:
    record_observation(
        session,
        ClaimStatusObservation(
            claim_id=claim_id,
            observed_at=NOW,
            portal="unity",
            run_id="run-1",
            status=status,
            payer_claim_number=f"UHP-{claim_id}",
            paid_amount=Decimal(paid) if paid else None,
            check_number="CHK100" if paid else None,
            payment_date=date(2026, 11, 30) if paid else None,
            changes=f"first seen: {status}",
        ),
    )


def paid_claims(engine: Engine, count: int, prefix: str = "PCN") -> None:
    """`count` claims seen paid: two events each (the payment, then the status)."""
    ids = [f"{prefix}-{n:05d}" for n in range(count)]
    add_claims(engine, *ids)
    with session_scope(engine) as session:
        for claim_id in ids:
            observe(session, claim_id, "paid", "182.25")


def the_denial(session: Session, denial_id: int | None) -> Denial:
    found = session.get(Denial, denial_id)
    assert found is not None
    return found


def a_denial_worked_to_a_decided_appeal(engine: Engine) -> None:
    """One claim's story: denied, the denial opened, written off, reopened, appealed, the appeal decided,
    resolved; and a finding about it."""
    add_claims(engine, "PCN-D1")
    with session_scope(engine) as session:
        observe(session, "PCN-D1", "denied")
        opened = add_denial(
            session,
            Denial(
                fingerprint="PCN-D1|CO|50",
                claim_id="PCN-D1",
                reported_claim_id="PCN-D1",
                source="portal",
                source_ref="unity",
                payer_id="UHP",
                payer_claim_number="UHP-PCN-D1",
                group_code="CO",
                carc="50",
                rarcs=["N130", "M15"],
                amount=Decimal("240.00"),
                category="medical_necessity",
                owner="clinical",
                kind="soft",
                first_seen_at=NOW,
                last_seen_at=NOW,
            ),
            "seen on the portal",
        )
        denial_id = opened.id
    with session_scope(engine) as session:
        denial = the_denial(session, denial_id)
        denial.write_off_amount, denial.write_off_reason = Decimal("240.00"), "small balance"
        set_status(session, denial, "written_off", NOW, "staff", "small balance")
    with session_scope(engine) as session:
        denial = the_denial(session, denial_id)
        set_status(session, denial, "open", NOW, "staff", "wrote off by mistake")
        add_appeal(
            session,
            AppealRow(
                appeal_id="APL-1",
                denial_id=the_denial(session, denial_id).id or 0,
                claim_id="PCN-D1",
                payer_id="UHP",
                level=1,
                level_name="Reconsideration",
                channel="portal",
                disputed_amount=Decimal("240.00"),
                created_by="staff",
                created_at=NOW,
                updated_at=NOW,
            ),
        )
    with session_scope(engine) as session:
        mark_filed(
            session,
            "APL-1",
            confirmation="CONF-77",
            filed_at=NOW,
            filed_by="worker",
            response_due=date(2027, 1, 30),
            portal_status="received",
            adopted=False,
            now=NOW,
        )
    with session_scope(engine) as session:
        appeal = session.get(AppealRow, "APL-1")
        assert appeal is not None
        appeal.state, appeal.decision, appeal.decided_on = "decided", "overturned", date(2027, 1, 10)
        appeal.decision_source, appeal.amount_recovered = "portal", Decimal("200.00")
        save_appeal(session, appeal)
        set_status(session, the_denial(session, denial_id), "resolved", NOW, "worker", "appeal overturned")
        save_finding(
            session,
            Finding(
                key="timely_filing|PCN-D1",
                kind="timely_filing",
                subject="PCN-D1",
                payer_id="UHP",
                message="file a corrected claim before the deadline",
                due=date(2027, 2, 1),
                amount_at_risk=Decimal("40.00"),
                claims_at_risk=["PCN-D1"],
                first_seen_at=NOW,
                last_seen_at=NOW,
            ),
        )


def stored_events(engine: Engine) -> list[FeedEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(FeedEvent).order_by(col(FeedEvent.seq))))


def channel_state(engine: Engine, name: str = "pm") -> FeedChannelState:
    with session_scope(engine) as session:
        state = feed.channel(session, name)
        session.expunge(state)
        return state


# --- the folder as the PM import reads it ---------------------------------------------------------------


@dataclass
class DropFile:
    name: str
    first: int
    last: int
    rows: list[dict[str, str]]


def read_file(path: Path) -> DropFile:
    """One file read whole, as an import job would: the header, then every row complete."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), f"{path.name}: not CRLF line ends"
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == list(COLUMNS), f"{path.name}: header"
    assert all(len(record) == len(COLUMNS) for record in records[1:]), f"{path.name}: a short row"
    match = NAME.fullmatch(path.name)
    assert match is not None, path.name
    rows = [dict(zip(COLUMNS, record, strict=True)) for record in records[1:]]
    return DropFile(path.name, int(match["first"]), int(match["last"]), rows)


def drop_files(folder: Path) -> list[DropFile]:
    return [read_file(path) for path in sorted(folder.glob("*.csv"))]


def delivered_rows(folder: Path) -> list[dict[str, str]]:
    return [row for found in drop_files(folder) for row in found.rows]


def documented_columns() -> list[str]:
    """The column names of docs/feed-csv.md's column table, in its order."""
    text = DOC.read_text()
    section = text.split("## Columns", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| \d+ \| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def deliver(install: Install, owner: str = "test") -> FeedChannelState:
    engine = install.engine
    pump = FeedPump(install.settings, engine, owner)
    try:
        result = pump.deliver("pm", force=True)
        assert not result.more
    finally:
        pump.close()
    return channel_state(engine)


# --- what lands -----------------------------------------------------------------------------------------


def test_the_header_is_the_documented_column_list() -> None:
    assert documented_columns() == list(COLUMNS)


def test_every_event_lands_once_in_order_in_whole_files_with_the_documented_columns(install: Install) -> None:
    engine = install.engine
    paid_claims(engine, 4)
    a_denial_worked_to_a_decided_appeal(engine)
    events = stored_events(engine)
    assert len(events) > 3 * 3  # several files of max_rows = 3 from one pump batch

    state = deliver(install)

    files = drop_files(install.drop)
    assert state.delivered_seq == events[-1].seq and state.delivered_count == len(events)
    assert all(1 <= len(found.rows) <= 3 for found in files)
    assert [found.first for found in files] == sorted(found.first for found in files)
    for found in files:
        assert (int(found.rows[0]["sequence"]), int(found.rows[-1]["sequence"])) == (found.first, found.last)
        mode = stat.S_IMODE((install.drop / found.name).stat().st_mode)
        assert mode == 0o640, f"{found.name}: {oct(mode)}"
    rows = [row for found in files for row in found.rows]
    assert [row["event_id"] for row in rows] == [event.event_id for event in events]
    for row, event in zip(rows, events, strict=True):
        message = envelope(stored(event))
        data = json.loads(row["data_json"])
        # A denial's next step and deadline are worked out when sent (flows/feed_deadlines.py), not stored.
        sent_only = {"next_action", "deadline"} if event.type.startswith("denial.") else set()
        assert {k: v for k, v in data.items() if k not in sent_only} == event.body
        assert set(data) == set(message["data"]) and sent_only <= set(data)
        assert row["event_type"] == event.type and row["sequence"] == str(event.seq)
        assert row["event_version"] == "1" and row["occurred_at"] == message["occurred_at"]
        assert row["claim_id"] == (event.claim_id or "") and row["subject"] == event.subject
        assert row["patient_name"] == ""
    assert not [path for path in install.drop.iterdir() if not NAME.fullmatch(path.name)]

    by_type = {row["event_type"]: row for row in rows if row["claim_id"] == "PCN-D1"}
    payment = next(row for row in rows if row["event_type"] == "claim.payment_seen")
    assert (payment["amount"], payment["check_number"], payment["payment_date"]) == ("182.25", "CHK100", "2026-11-30")
    assert payment["payer_claim_number"] == "UHP-PCN-00000" and payment["carc"] == ""
    status = by_type["claim.status_changed"]
    assert (status["status"], status["previous_status"], status["payer_id"]) == ("denied", "", "UHP")
    opened = by_type["denial.opened"]
    assert (opened["carc"], opened["rarcs"], opened["group_code"]) == ("50", "N130 M15", "CO")
    assert (opened["category"], opened["owner"], opened["amount"]) == ("medical_necessity", "clinical", "240.00")
    assert opened["denial_id"] == opened["subject"] and opened["status"] == "open"
    written_off = by_type["denial.written_off"]
    assert (written_off["amount"], written_off["previous_status"]) == ("240.00", "open")
    reopened = by_type["denial.reopened"]
    assert (reopened["status"], reopened["previous_status"]) == ("open", "written_off")
    filed = by_type["appeal.filed"]
    assert (filed["appeal_id"], filed["level"], filed["confirmation_number"]) == ("APL-1", "1", "CONF-77")
    assert (filed["due_date"], filed["amount"], filed["denial_id"]) == ("2027-01-30", "", opened["denial_id"])
    decided = by_type["appeal.decided"]
    assert (decided["decision"], decided["amount"]) == ("overturned", "200.00")
    assert by_type["denial.resolved"]["status"] == "resolved"
    finding = by_type["finding.opened"]
    assert (finding["due_date"], finding["status"], finding["amount"]) == ("2027-02-01", "open", "")


def test_a_value_that_looks_like_a_formula_is_written_as_it_is(install: Install) -> None:
    engine = install.engine
    add_claims(engine, "PCN-F1")
    with session_scope(engine) as session:
        record_observation(
            session,
            ClaimStatusObservation(
                claim_id="PCN-F1",
                observed_at=NOW,
                portal="unity",
                run_id="run-1",
                status="denied",
                payer_claim_number="=HYPERLINK(1)",
                changes="first seen: denied",
            ),
        )

    deliver(install)

    assert [row["payer_claim_number"] for row in delivered_rows(install.drop)] == ["=HYPERLINK(1)"]


# --- whole files only, whatever happens ----------------------------------------------------------------


@pytest.mark.slow  # thousands of files, each fsynced
def test_a_reader_polling_the_folder_never_sees_a_partial_file(install: Install) -> None:
    reconfigure(install, csv_channel(install.drop, extra="max_rows = 4\n"))
    engine = install.engine
    paid_claims(engine, 800)
    total = len(stored_events(engine))
    listings: list[list[str]] = []
    read: dict[str, int] = {}
    problems: list[str] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            names = sorted(path.name for path in install.drop.glob("*.csv"))
            listings.append(names)
            for name in names:
                if name in read:
                    continue
                try:
                    found = read_file(install.drop / name)
                except AssertionError as exc:
                    problems.append(str(exc))
                    continue
                read[name] = len(found.rows)
                if len(found.rows) != found.last - found.first + 1:
                    problems.append(f"{name}: {len(found.rows)} rows")

    reader = threading.Thread(target=poll, name="pm-import")
    reader.start()
    try:
        deliver(install)
    finally:
        done.set()
        reader.join(60)

    final = sorted(path.name for path in install.drop.glob("*.csv"))
    assert problems == []
    assert sum(len(found.rows) for found in drop_files(install.drop)) == total
    assert all(names == final[: len(names)] for names in listings), "a file appeared before an earlier one"
    assert len({len(names) for names in listings}) > 2, "the reader never looked during the delivery"
    assert set(read) <= set(final)


def files_and_temps(folder: Path) -> tuple[list[str], list[str]]:
    names = sorted(path.name for path in folder.iterdir())
    return [n for n in names if n.endswith(".csv")], [n for n in names if not n.endswith(".csv")]


@pytest.mark.slow  # `portal-worker run` as a real process, killed and started again
def test_kill_9_of_run_mid_delivery_then_restart_delivers_every_event_once_per_seq_range(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = install.root / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    reconfigure(install, "[feed]\npoll_seconds = 0.2\n" + csv_channel(install.drop, extra="max_rows = 3\n"))
    engine = install.engine
    paid_claims(engine, 600)
    events = stored_events(engine)
    last = events[-1].seq
    log = install.root / "worker.log"

    first = start_worker(install.config, log)
    try:
        wait_until(lambda: len(list(install.drop.glob("*.csv"))) >= 30, "the first worker wrote some files")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert channel_state(engine).delivered_seq < (last or 0), "the delivery ended before the kill"
    for name in files_and_temps(install.drop)[0]:
        read_file(install.drop / name)  # every visible file is whole, even right after a kill -9

    second = start_worker(install.config, log)
    try:
        wait_until(
            lambda: channel_state(engine).delivered_seq == last,
            "the restarted worker delivered the rest",
            explain=lambda: log.read_text()[-2000:],
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()

    hidden = files_and_temps(install.drop)[1]
    assert hidden == [], "a temporary file outlived the restart"
    rows = delivered_rows(install.drop)
    # At least once, and here exactly once: a range resent after the kill replaced its own file.
    assert [row["event_id"] for row in rows] == [event.event_id for event in events]
    assert "Traceback" not in log.read_text()


# --- a folder that is not there, or not a folder --------------------------------------------------------


@pytest.mark.parametrize("breakage", ["missing", "a file", "read-only"])
def test_a_folder_that_cannot_be_written_keeps_every_event_until_it_can(install: Install, breakage: str) -> None:
    if breakage == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    engine = install.engine
    paid_claims(engine, 4)
    events = stored_events(engine)
    install.drop.rmdir()
    if breakage == "a file":
        install.drop.write_text("not a folder")
    elif breakage == "read-only":
        install.drop.mkdir(mode=0o555)

    pump = FeedPump(install.settings, engine, "test")
    result = pump.deliver("pm")
    state = channel_state(engine)

    assert result.sent == 0 and result.error is not None
    assert state.delivered_seq == 0 and state.last_error == result.error
    assert str(install.drop) in state.last_error
    assert {"missing": "No such file", "a file": "Not a directory", "read-only": "Permission denied"}[
        breakage
    ] in state.last_error
    assert "PCN" not in state.last_error and "182.25" not in state.last_error
    assert len(stored_events(engine)) == len(events)

    if breakage == "a file":
        install.drop.unlink()
    if breakage == "read-only":
        install.drop.chmod(0o750)
    else:
        install.drop.mkdir()
    assert pump.deliver("pm", force=True).error is None
    pump.close()

    assert [row["event_id"] for row in delivered_rows(install.drop)] == [event.event_id for event in events]
    assert channel_state(engine).consecutive_failures == 0


# --- the types filter ----------------------------------------------------------------------------------


def test_a_payments_channel_gets_only_payments_and_its_cursor_passes_the_rest(install: Install) -> None:
    payments = install.root / "payments"
    payments.mkdir()
    reconfigure(
        install,
        csv_channel(install.drop, extra="max_rows = 3\n")
        + csv_channel(payments, "payments", 'types = ["claim.payment_seen"]\n'),
    )
    engine = install.engine
    paid_claims(engine, 3)
    a_denial_worked_to_a_decided_appeal(engine)  # ends with events that are not payments
    events = stored_events(engine)

    pump = FeedPump(install.settings, engine, "test")
    results = pump.deliver_all()
    pump.close()

    assert [result.error for result in results] == [None, None]
    got = delivered_rows(payments)
    assert [row["event_id"] for row in got] == [e.event_id for e in events if e.type == "claim.payment_seen"]
    assert all(NAME.fullmatch(path.name)["channel"] == "payments" for path in payments.glob("*.csv"))  # type: ignore[index]
    assert channel_state(engine, "payments").delivered_seq == events[-1].seq
    assert channel_state(engine, "payments").delivered_count == len(got) == 3
    assert len(delivered_rows(install.drop)) == len(events)


# --- patient names -------------------------------------------------------------------------------------


@pytest.mark.parametrize("include", [False, True])
def test_patient_names_only_where_the_installation_turns_them_on(install: Install, include: bool) -> None:
    reconfigure(install, f"[feed]\ninclude_patient_names = {str(include).lower()}\n" + csv_channel(install.drop))
    engine = install.engine
    paid_claims(engine, 2)

    deliver(install)

    rows = delivered_rows(install.drop)
    assert len(rows) == 4
    if include:
        assert all(row["patient_name"] == PATIENT for row in rows)
        assert all(json.loads(row["data_json"])["patient_name"] == PATIENT for row in rows)
    else:
        assert all(row["patient_name"] == "" for row in rows)
        everything = b"".join(path.read_bytes() for path in install.drop.glob("*.csv"))
        assert PATIENT.encode() not in everything


# --- bad config ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ('kind = "csv"\n', 'feed.channels.pm: a csv channel needs folder = "/path/to/drop" and no url'),
        (
            'kind = "csv"\nfolder = "drop"\nurl = "https://pm.example.org/hooks"\n',
            'feed.channels.pm: a csv channel needs folder = "/path/to/drop" and no url',
        ),
        ('kind = "csv"\nfolder = "drop"\nmax_rows = 0\n', "feed.channels.pm.max_rows: must be at least 1, got 0"),
        ('kind = "csv"\nfolder = "drop"\nmax_rows = "10"\n', "feed.channels.pm.max_rows: expected a whole number"),
        (
            'kind = "csv"\nfolder = "drop"\ntypes = ["claim.paid"]\n',
            'feed.channels.pm.types: unknown event type "claim.paid"',
        ),
        ('kind = "ftp"\nfolder = "drop"\n', "feed.channels.pm.kind: "),
    ],
)
def test_a_bad_csv_channel_is_named_by_its_key(tmp_path: Path, channel: str, expected: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, "[feed.channels.pm]\n" + channel))

    with pytest.raises(ConfigError) as error:
        Settings.load(config)

    assert f"config.toml: {expected}" in str(error.value)
    assert "pydantic" not in str(error.value) and "Input should" not in str(error.value)


def test_a_relative_folder_is_read_from_the_configs_folder(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, '[feed.channels.pm]\nkind = "csv"\nfolder = "drop"\n'))

    assert Settings.load(config).feed.channels["pm"].folder == tmp_path / "drop"
