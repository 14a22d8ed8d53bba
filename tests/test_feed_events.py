"""The outbox: a change and its feed event are one transaction, a non-change is no event, and on PostgreSQL a
reader never moves past an event whose transaction is still open (a later seq can commit first there)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from flows.feed_format import EVENT_TYPES
from store import feed
from store.db import create_schema, make_engine, session_scope
from store.denials import add_denial, set_status
from store.models import Claim, ClaimStatusObservation, Denial, FeedEvent
from store.observations import record_observation
from tests.feed_support import uhp_claim
from tests.pg_support import PG_URL, fresh_schema, postgres_unreachable, require_postgres
from tests.run_support import wait_until

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
STORE = Path(__file__).resolve().parent.parent / "store"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'portal-worker.db'}"
        else:
            require_postgres(postgres_unreachable())
            url = cleanup.enter_context(fresh_schema("pw_feed"))
        made = make_engine(url)
        cleanup.callback(made.dispose)
        create_schema(made)
        yield made


def add_claim(engine: Engine, claim_id: str) -> None:
    with session_scope(engine) as session:
        session.add(uhp_claim(claim_id, NOW))


def observe(session: Session, claim_id: str, status: str, paid: str | None = None, changes: str = "") -> None:
    record_observation(
        session,
        ClaimStatusObservation(
            claim_id=claim_id,
            observed_at=NOW,
            portal="unity",
            run_id="run-1",
            status=status,
            paid_amount=Decimal(paid) if paid else None,
            check_number="CHK100" if paid else None,
            payment_date=date(2026, 11, 30) if paid else None,
            changes=changes or f"first seen: {status}",
        ),
    )


def events(engine: Engine) -> list[FeedEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(FeedEvent).order_by(col(FeedEvent.seq))))


def test_a_claim_paid_is_a_status_change_and_a_payment_with_no_patient_name(engine: Engine) -> None:
    add_claim(engine, "PCN-1")
    assert events(engine) == []  # a claim imported from the PM system is not news to it

    with session_scope(engine) as session:
        observe(session, "PCN-1", "paid", "182.25")

    found = events(engine)
    assert [e.type for e in found] == ["claim.status_changed", "claim.payment_seen"]
    status, payment = (e.body for e in found)
    assert payment["paid_amount"] == "182.25" and payment["check_number"] == "CHK100"
    assert payment["payment_date"] == "2026-11-30"
    assert status["status"] == "paid" and status["previous_status"] is None
    assert all(e.claim_id == "PCN-1" and re.fullmatch(r"evt_[0-9a-f]{32}", e.event_id) for e in found)
    assert all("Synthetic Patient" not in str(e.body) for e in found)
    assert {e.type for e in found} <= set(EVENT_TYPES)


def test_a_rolled_back_change_leaves_no_event(engine: Engine) -> None:
    add_claim(engine, "PCN-2")

    def fail_after_writing() -> None:
        with session_scope(engine) as session:
            observe(session, "PCN-2", "denied")
            session.flush()  # the events are written by now, inside the transaction
            raise RuntimeError("the check failed after reading the page")

    with pytest.raises(RuntimeError):
        fail_after_writing()
    assert events(engine) == []
    with session_scope(engine) as session:
        claim = session.get(Claim, "PCN-2")
        assert claim is not None and claim.status == "unchecked"


def test_setting_a_status_to_what_it_already_is_is_no_event(engine: Engine) -> None:
    add_claim(engine, "PCN-3")
    with session_scope(engine) as session:
        observe(session, "PCN-3", "pending")
    before = len(events(engine))
    with session_scope(engine) as session:
        # A fresh session: the row's status was not read before it was set, so only the listener's
        # active history can tell that nothing changed.
        claim = session.get(Claim, "PCN-3")
        assert claim is not None
        session.expire(claim)
        claim.status = "pending"
        session.add(claim)
    assert len(events(engine)) == before


def test_a_denial_opened_written_off_and_reopened_is_three_events_in_order(engine: Engine) -> None:
    add_claim(engine, "PCN-4")
    with session_scope(engine) as session:
        add_denial(
            session,
            Denial(
                fingerprint="PCN-4|CO|50",
                claim_id="PCN-4",
                reported_claim_id="PCN-4",
                source="portal",
                source_ref="unity",
                payer_id="UHP",
                group_code="CO",
                carc="50",
                rarcs=["N115"],
                amount=Decimal("60.00"),
                category="medical_necessity",
                owner="billing",
                kind="hard",
                first_seen_at=NOW,
                last_seen_at=NOW,
            ),
            "seen on the portal",
        )
    with session_scope(engine) as session:
        denial = session.exec(select(Denial)).one()
        denial.write_off_amount, denial.write_off_reason = Decimal("60.00"), "small balance"
        set_status(session, denial, "written_off", NOW, "staff", "small balance")
    with session_scope(engine) as session:
        set_status(session, session.exec(select(Denial)).one(), "open", NOW, "billing.lead", "payer asked again")

    found = [e for e in events(engine) if e.type.startswith("denial.")]
    assert [e.type for e in found] == ["denial.opened", "denial.written_off", "denial.reopened"]
    opened, written_off, reopened = (e.body for e in found)
    assert (opened["carc"], opened["rarcs"], opened["category"], opened["owner"]) == (
        "50",
        ["N115"],
        "medical_necessity",
        "billing",
    )
    assert written_off["write_off_amount"] == "60.00" and written_off["write_off_reason"] == "small balance"
    assert reopened["previous_status"] == "written_off" and reopened["actor"] == "billing.lead"


def test_no_store_module_writes_a_watched_table_behind_the_listener() -> None:
    """A bulk UPDATE or INSERT skips after_flush: the tables the outbox reads must be written through the ORM."""
    watched = (
        "Claim",
        "ClaimStatusObservation",
        "Denial",
        "AppealRow",
        "Finding",
        "EraClaim",
        "AuthorizationObservation",
        "EnrollmentObservation",
        "EligibilityCheck",
    )
    bulk = re.compile(rf"\b(?:update|insert)\(\s*({'|'.join(watched)})\b")
    offenders = [
        f"{path.name}: {match.group(0)}" for path in STORE.rglob("*.py") for match in bulk.finditer(path.read_text())
    ]
    assert offenders == []


# --- PostgreSQL: a seq taken before a commit ----------------------------------------------------------


def test_a_reader_never_passes_an_event_whose_transaction_is_still_open(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers take turns: a seq is always committed in order there")
    add_claim(engine, "PCN-A")
    add_claim(engine, "PCN-B")
    slow = Session(engine)
    try:
        observe(slow, "PCN-A", "pending")
        slow.flush()  # PCN-A's event takes its seq now, and its transaction stays open
        with session_scope(engine) as fast:
            observe(fast, "PCN-B", "pending")  # a later seq, committed first

        def readable() -> list[str | None]:
            with session_scope(engine) as reader:
                return [event.claim_id for event in feed.events_after(reader, 0, 100)[0]]

        assert readable() == []  # PCN-B's event waits behind PCN-A's open transaction
        slow.commit()
        # A transaction that ends between the reader's snapshot and its look at pg_stat_activity holds it back
        # for a moment.
        wait_until(lambda: readable() == ["PCN-A", "PCN-B"], "both events are readable, in seq order", 120)
    finally:
        slow.close()


def test_a_long_transaction_in_another_database_does_not_hold_the_feed_back(engine: Engine) -> None:
    """Transaction ids are server-wide: a report left open in another database must not stop the PM feed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one database per file")
    add_claim(engine, "PCN-C")
    elsewhere = create_engine(PG_URL)  # the server's own test database, not this worker's
    try:
        with elsewhere.connect() as other:
            other.execute(text("SELECT pg_current_xact_id()"))  # holds a transaction id, and stays open
            with session_scope(engine) as session:
                observe(session, "PCN-C", "pending")
            with session_scope(engine) as reader:
                assert [e.claim_id for e in feed.events_after(reader, 0, 100)[0]] == ["PCN-C"]
    finally:
        elsewhere.dispose()


def test_the_seq_keeps_climbing_after_the_purge_empties_the_table(engine: Engine) -> None:
    """A channel's cursor stays past what it sent: a seq reused after a purge would be skipped."""
    add_claim(engine, "PCN-5")
    with session_scope(engine) as session:
        observe(session, "PCN-5", "pending")
    highest = max(e.seq or 0 for e in events(engine))
    with session_scope(engine) as session:
        assert feed.purge_delivered(session, [], datetime(2030, 1, 1, tzinfo=UTC)) == highest
    with session_scope(engine) as session:
        observe(session, "PCN-5", "paid", "10.00", changes="status: pending -> paid; paid_amount: None -> 10.00")
    assert min(e.seq or 0 for e in events(engine)) > highest


def test_an_open_denial_goes_out_with_the_deadline_the_worklist_shows(engine: Engine, tmp_path: Path) -> None:
    from flows.worklist import load_worklist
    from worker.feed.pump import outgoing
    from worker.settings import Settings

    add_claim(engine, "PCN-6")
    with session_scope(engine) as session:
        add_denial(
            session,
            Denial(
                fingerprint="PCN-6|CO|197",
                claim_id="PCN-6",
                reported_claim_id="PCN-6",
                source="portal",
                source_ref="unity",
                payer_id="UHP",
                group_code="CO",
                carc="197",
                amount=Decimal("240.00"),
                denial_date=date(2026, 11, 20),
                category="authorization",
                owner="front_desk",
                kind="hard",
                first_seen_at=NOW,
                last_seen_at=NOW,
            ),
            "seen on the portal",
        )
    settings = Settings.model_validate(
        {
            "worker": {"data_dir": str(tmp_path)},
            "portals": {"unity": {"adapter": "unity_health", "base_url": "https://u.example", "payers": ["UHP"]}},
        }
    )
    with session_scope(engine) as session:
        rows = [e for e in session.exec(select(FeedEvent)) if e.type == "denial.opened"]
        sent = outgoing(session, settings, rows, NOW)
        worklist = {item.denial.id: item for item in load_worklist(session, NOW.date())}
    data = sent[0].message["data"]
    item = worklist[data["denial_id"]]
    assert item.deadline is not None
    assert (data["next_action"], data["deadline"]) == (item.action, item.deadline.due.isoformat())


def test_a_status_copied_from_an_observation_flushed_earlier_still_names_its_portal(engine: Engine) -> None:
    """The claim row may be written in a later flush than its observation (a query in between flushes it)."""
    add_claim(engine, "PCN-7")
    with session_scope(engine) as session:
        session.add(
            ClaimStatusObservation(
                claim_id="PCN-7", observed_at=NOW, portal="summit", run_id="run-1", status="pending",
                changes="first seen: pending",
            )
        )  # fmt: skip
        session.flush()
        claim = session.get(Claim, "PCN-7")
        assert claim is not None
        claim.status, claim.status_changed_at = "pending", NOW
        session.add(claim)
    (changed,) = [e.body for e in events(engine) if e.type == "claim.status_changed"]
    assert (changed["source"], changed["portal"]) == ("portal", "summit")
