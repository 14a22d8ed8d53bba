"""Alerts on crafted rows: the ladder, one alert per target over days, resolve-and-say-once, ack and snooze."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.alerts import (
    DEADLINE_KINDS,
    DEFAULT_LADDER,
    AlertDraft,
    AlertNotFound,
    AlertRules,
    acknowledge,
    deadline_alerts,
    finding_alerts,
    health_alerts,
    rung_for,
    severity_for,
    sync_alerts,
)
from flows.deadlines import RuleBook, rule_book
from flows.digest import build_digest, mark_reported, render_text
from store import alerts as store
from store.db import create_schema, make_engine, session_scope
from store.models import Alert, Claim, Denial, Finding, JobRun, PortalAccount

TODAY = date(2026, 11, 2)
RULES: RuleBook = rule_book(
    {
        "classes": {
            "commercial": {
                "timely_filing": {"days": 90},
                "receipt_days": 0,
                "appeal_levels": [
                    {"name": "first-level appeal", "days": 60},
                    {"name": "second-level appeal", "days": 60},
                ],
            }
        }
    }
)
ALERT_RULES = AlertRules({})


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def claim(claim_id: str, filing_in_days: int, status: str = "not_on_file", billed: str = "100.00") -> Claim:
    """A claim whose 90-day timely-filing deadline is `filing_in_days` after TODAY."""
    dos = TODAY + timedelta(days=filing_in_days - 90)
    return Claim(
        claim_id=claim_id,
        payer_id="UHP",
        member_id="M000000001",
        patient_name="SYNTHETIC, PERSON",
        dos_from=dos,
        dos_to=dos,
        billed_amount=Decimal(billed),
        submitted_date=dos,
        rendering_npi="1234567893",
        procedure_codes=["99213"],
        imported_at=at(TODAY),
        updated_at=at(TODAY),
        status=status,
        paid_amount=None,
    )


def denial(
    denial_id: int,
    claim_id: str,
    denied_days_ago: int,
    amount: str = "250.00",
    kind: str = "hard",
    owner: str = "scheduling_auth",
    status: str = "open",
) -> Denial:
    denied = TODAY - timedelta(days=denied_days_ago)
    return Denial(
        id=denial_id,
        fingerprint=f"fp-{denial_id}",
        claim_id=claim_id,
        reported_claim_id=claim_id,
        source="portal",
        source_ref="unity",
        payer_id="UHP",
        group_code="CO",
        carc="197",
        rarcs=["N54"],
        amount=Decimal(amount),
        denial_date=denied,
        category="authorization",
        owner=owner,
        kind=kind,
        status=status,
        first_seen_at=at(denied),
        last_seen_at=at(denied),
    )


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    create_schema(engine)
    return engine


def all_alerts(session: Session) -> list[Alert]:
    return list(session.exec(select(Alert).order_by(Alert.key)))


# --- the ladder ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "rung"),
    [
        (31, None),
        (30, "30d"),
        (15, "30d"),
        (14, "14d"),
        (8, "14d"),
        (7, "7d"),
        (3, "3d"),
        (2, "3d"),
        (1, "1d"),
        (0, "1d"),
        (-1, "overdue"),
        (-400, "overdue"),
    ],
)
def test_rung_for_default_ladder(days_left: int, rung: str | None) -> None:
    assert rung_for(days_left, DEFAULT_LADDER) == rung


def test_severity_rises_along_the_ladder() -> None:
    assert [severity_for(rung_for(d, DEFAULT_LADDER)) for d in (40, 30, 14, 7, 3, 1, -1)] == [
        "info",
        "info",
        "low",
        "medium",
        "high",
        "critical",
        "critical",
    ]
    assert severity_for("60d") == "info" and severity_for("10d") == "low" and severity_for("2d") == "high"


def test_custom_ladder_per_kind() -> None:
    rules = AlertRules({"timely_filing": (60, 10)})
    assert rung_for(45, rules.ladder("timely_filing")) == "60d"
    assert rung_for(45, rules.ladder("denial_deadline")) is None  # default ladder starts at 30
    drafts = deadline_alerts([claim("C45", 45), claim("C5", 5)], [], RULES, TODAY, rules)
    assert {(d.subject, d.rung) for d in drafts} == {("C45", "60d"), ("C5", "10d")}


# --- deadlines over several days -----------------------------------------------------------


def test_timely_filing_only_for_claims_the_payer_does_not_have() -> None:
    claims = [
        claim("NOF", 20),
        claim("REJ", 20, "rejected"),
        claim("UNCH", 20, "unchecked"),
        claim("ERR", 20, "error"),
        claim("PAID", 20, "paid"),
        claim("DEN", 20, "denied"),
        claim("PEND", 20, "pending"),
        claim("FAR", 31),
    ]
    drafts = deadline_alerts(claims, [], RULES, TODAY, ALERT_RULES)
    assert sorted(d.subject for d in drafts) == ["ERR", "NOF", "REJ", "UNCH"]
    nof = next(d for d in drafts if d.subject == "NOF")
    assert (nof.kind, nof.owner, nof.rung, nof.severity, nof.due, nof.amount, nof.claim_id) == (
        "timely_filing",
        "billing",
        "30d",
        "info",
        TODAY + timedelta(days=20),
        Decimal("100.00"),
        "NOF",
    )
    assert "NOF" in nof.title and "UHP" in nof.title and "$100.00" in nof.title
    assert "SYNTHETIC" not in nof.title + nof.action


def test_denial_deadline_from_the_worklist() -> None:
    # hard denial 40 days ago: first-level appeal due 60 days after it, so 20 days left
    drafts = deadline_alerts(
        [claim("C1", 200, "denied")], [denial(7, "C1", 40), denial(8, "C1", 10)], RULES, TODAY, ALERT_RULES
    )
    assert [d.subject for d in drafts] == ["7"]  # denial 8 is 50 days out: not on the ladder yet
    draft = drafts[0]
    assert (draft.kind, draft.owner, draft.rung, draft.due, draft.amount, draft.claim_id) == (
        "denial_deadline",
        "scheduling_auth",
        "30d",
        TODAY + timedelta(days=20),
        Decimal("250.00"),
        "C1",
    )
    assert draft.codes is not None and draft.codes.startswith("CO-197") and "N54" in draft.codes
    assert "CO-197/N54" in draft.title and "first-level appeal" in draft.action.lower()
    assert f"by {TODAY + timedelta(days=20)}" in draft.action
    # one appeal already filed: the next level waits for its decision, so no deadline yet
    assert deadline_alerts([], [denial(7, "C1", 40)], RULES, TODAY, ALERT_RULES, appeals={7: 1}) == []


def test_claims_along_the_ladder_escalate_without_duplicates(engine: Engine) -> None:
    claims = [claim("C30", 30), claim("C16", 16), claim("C4", 4), claim("C40", 40), claim("C9", 9, "paid")]
    rungs: dict[str, list[str | None]] = {c.claim_id: [] for c in claims}
    escalations: dict[str, int] = {}
    for offset in range(0, 45):
        day = TODAY + timedelta(days=offset)
        with session_scope(engine) as session:
            changes = sync_alerts(
                session, DEADLINE_KINDS, deadline_alerts(claims, [], RULES, day, ALERT_RULES), at(day)
            )
            for alert in changes.escalated:
                escalations[alert.subject] = escalations.get(alert.subject, 0) + 1
            for alert in all_alerts(session):
                if not rungs[alert.subject] or rungs[alert.subject][-1] != alert.rung:
                    rungs[alert.subject].append(alert.rung)
    with session_scope(engine) as session:
        rows = all_alerts(session)
    assert sorted(a.key for a in rows) == [
        "timely_filing|C16",
        "timely_filing|C30",
        "timely_filing|C4",
        "timely_filing|C40",
    ]
    assert rungs["C30"] == ["30d", "14d", "7d", "3d", "1d", "overdue"]
    assert rungs["C40"] == ["30d", "14d", "7d", "3d", "1d", "overdue"]  # enters at 30 days out, on day 10
    assert rungs["C4"] == ["7d", "3d", "1d", "overdue"]
    assert escalations == {"C30": 5, "C16": 5, "C4": 3, "C40": 5}
    assert rungs["C9"] == []  # paid: on file, never an alert
    assert {a.subject: a.severity for a in rows} == {
        "C30": "critical",
        "C16": "critical",
        "C4": "critical",
        "C40": "critical",
    }
    assert all(a.opened_at < a.updated_at for a in rows)


def test_a_claim_paid_between_two_summaries_resolves_and_is_said_once(engine: Engine) -> None:
    claims = [claim("C10", 10), claim("C20", 20, billed="80.00")]

    def summary(day: date) -> str:
        with session_scope(engine) as session:
            sync_alerts(session, DEADLINE_KINDS, deadline_alerts(claims, [], RULES, day, ALERT_RULES), at(day))
        with session_scope(engine) as session:
            digest = build_digest(store.open_alerts(session, now=at(day)), store.resolved_unreported(session), [], day)
            text = render_text(digest)
            mark_reported(session, digest, at(day, 8))  # "sent"
        return text

    first = summary(TODAY)
    assert "new: Claim C10" in first and "new: Claim C20" in first and "RESOLVED" not in first
    claims[0] = claim("C10", 10, "paid")
    second = summary(TODAY + timedelta(days=1))
    assert "RESOLVED since the last summary" in second
    resolved_part = second.split("RESOLVED", 1)[1]
    assert "Claim C10" in resolved_part and "C20" not in resolved_part
    assert ", new:" not in second  # C20 was shown yesterday at the same rung
    third = summary(TODAY + timedelta(days=2))
    assert "C10" not in third and "RESOLVED" not in third and "Claim C20" in third
    with session_scope(engine) as session:
        paid = store.find_by_key(session, "timely_filing|C10")
        assert paid is not None and paid.status == "resolved" and paid.resolution_reported
        assert store.resolved_unreported(session) == []


def test_a_resolved_alert_never_shown_is_not_reported(engine: Engine) -> None:
    with session_scope(engine) as session:
        sync_alerts(
            session, DEADLINE_KINDS, deadline_alerts([claim("C5", 5)], [], RULES, TODAY, ALERT_RULES), at(TODAY)
        )
    with session_scope(engine) as session:
        assert len(sync_alerts(session, DEADLINE_KINDS, [], at(TODAY, 9)).resolved) == 1
        assert store.resolved_unreported(session) == []


def test_a_condition_that_comes_back_reopens_the_same_row(engine: Engine) -> None:
    drafts = deadline_alerts([claim("C5", 5)], [], RULES, TODAY, ALERT_RULES)
    with session_scope(engine) as session:
        first = sync_alerts(session, DEADLINE_KINDS, drafts, at(TODAY)).opened[0]
        mark_reported(session, build_digest([first], [], [], TODAY), at(TODAY))
    with session_scope(engine) as session:
        sync_alerts(session, DEADLINE_KINDS, [], at(TODAY, 9))
    with session_scope(engine) as session:
        reopened = sync_alerts(session, DEADLINE_KINDS, drafts, at(TODAY, 10)).opened
        assert [a.id for a in reopened] == [first.id]
        assert reopened[0].status == "open" and reopened[0].resolved_at is None
        assert reopened[0].reported_at is None  # news again
        assert len(all_alerts(session)) == 1


def test_sync_rejects_a_draft_of_a_kind_it_does_not_own(engine: Engine) -> None:
    draft = AlertDraft("job_stale", "claims", "Job claims is stale", "Check the log", "it")
    with session_scope(engine) as session, pytest.raises(ValueError, match="job_stale"):
        sync_alerts(session, DEADLINE_KINDS, [draft], at(TODAY))


# --- acknowledge and snooze -----------------------------------------------------------------------


def test_acknowledged_stays_acknowledged_until_it_escalates(engine: Engine) -> None:
    claims = [claim("C10", 10)]
    with session_scope(engine) as session:
        alert = sync_alerts(
            session, DEADLINE_KINDS, deadline_alerts(claims, [], RULES, TODAY, ALERT_RULES), at(TODAY)
        ).opened[0]
        assert alert.rung == "14d"
    with session_scope(engine) as session:
        acked = acknowledge(session, alert.id or 0, at(TODAY, 9), by="lee")
        assert (acked.status, acked.acknowledged_at, acked.acknowledged_by) == ("acknowledged", at(TODAY, 9), "lee")
    for offset, status in ((1, "acknowledged"), (2, "acknowledged"), (3, "open")):  # 7 days left on day 3
        day = TODAY + timedelta(days=offset)
        with session_scope(engine) as session:
            changes = sync_alerts(
                session, DEADLINE_KINDS, deadline_alerts(claims, [], RULES, day, ALERT_RULES), at(day)
            )
            row = store.find_by_key(session, "timely_filing|C10")
            assert row is not None and row.status == status
            assert [a.key for a in changes.escalated] == (["timely_filing|C10"] if offset == 3 else [])
            assert row.acknowledged_by == (None if status == "open" else "lee")  # back to nobody's when it climbs
            assert [a.key for a in store.open_alerts(session, now=at(day))] == (
                ["timely_filing|C10"] if status == "open" else []
            )


def test_snoozed_comes_back_after_the_snooze(engine: Engine) -> None:
    claims = [claim("C20", 20)]
    with session_scope(engine) as session:
        alert = sync_alerts(
            session, DEADLINE_KINDS, deadline_alerts(claims, [], RULES, TODAY, ALERT_RULES), at(TODAY)
        ).opened[0]
    with session_scope(engine) as session:
        snoozed = acknowledge(session, alert.id or 0, at(TODAY), snooze=timedelta(days=3), by="lee")
        assert snoozed.status == "snoozed" and snoozed.snoozed_until == at(TODAY) + timedelta(days=3)
    with session_scope(engine) as session:
        assert store.open_alerts(session, now=at(TODAY + timedelta(days=2))) == []
        assert len(store.open_alerts(session, include_snoozed=True)) == 1
        assert len(store.open_alerts(session, now=at(TODAY + timedelta(days=3)))) == 1  # due, before any sync
    day = TODAY + timedelta(days=3)
    with session_scope(engine) as session:
        sync_alerts(session, DEADLINE_KINDS, deadline_alerts(claims, [], RULES, day, ALERT_RULES), at(day))
        row = store.find_by_key(session, "timely_filing|C20")
        assert row is not None and row.status == "open" and row.snoozed_until is None


def test_acknowledge_unknown_alert(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(AlertNotFound, match="42"):
        acknowledge(session, 42, at(TODAY), by="lee")


def test_list_alerts_by_status(engine: Engine) -> None:
    with session_scope(engine) as session:
        opened = sync_alerts(
            session,
            DEADLINE_KINDS,
            deadline_alerts([claim("A", 5), claim("B", 6)], [], RULES, TODAY, ALERT_RULES),
            at(TODAY),
        ).opened
    with session_scope(engine) as session:
        acknowledge(session, opened[0].id or 0, at(TODAY), by="lee")
    with session_scope(engine) as session:
        assert [a.subject for a in store.list_alerts(session, ["acknowledged"])] == ["A"]
        assert [a.subject for a in store.list_alerts(session, ["open"])] == ["B"]
        assert len(store.list_alerts(session)) == 2


# --- findings and worker health ---------------------------------------------------------------


def finding(
    kind: str,
    subject: str,
    due: date | None = None,
    status: str = "open",
    claims: tuple[str, ...] = (),
    amount: str | None = None,
) -> Finding:
    return Finding(
        key=f"{kind}|{subject}",
        kind=kind,
        subject=subject,
        payer_id="UHP",
        message="detail",
        due=due,
        amount_at_risk=Decimal(amount) if amount else None,
        claims_at_risk=list(claims),
        status=status,
        first_seen_at=at(TODAY),
        last_seen_at=at(TODAY),
    )


def test_findings_become_alerts() -> None:
    drafts = {
        d.kind: d
        for d in finding_alerts(
            [
                finding("auth_expiring", "UA1", TODAY + timedelta(days=10)),
                finding("auth_denied", "UA2", TODAY + timedelta(days=20)),
                finding("claim_outside_auth", "C7", claims=("C7",), amount="150.00"),
                finding("enrollment_inactive", "1234567893/UHP", amount="900.00", claims=("C1", "C2")),
                finding("revalidation_due", "1234567893/UHP", TODAY + timedelta(days=80)),
                finding("layout_changed", "unity:claim_status"),
                finding("caqh_due", "1234567893", TODAY + timedelta(days=5), status="resolved"),
            ],
            TODAY,
            ALERT_RULES,
        )
    }
    assert set(drafts) == {
        "auth_expiring",
        "auth_denied",
        "claim_outside_auth",
        "enrollment_inactive",
        "revalidation_due",
        "layout_changed",
    }
    assert (drafts["auth_expiring"].owner, drafts["auth_expiring"].rung, drafts["auth_expiring"].severity) == (
        "front_desk",
        "14d",
        "low",
    )
    assert drafts["auth_denied"].severity == "high"  # 30d rung alone would be info
    assert (drafts["claim_outside_auth"].severity, drafts["claim_outside_auth"].claim_id) == ("medium", "C7")
    assert (drafts["enrollment_inactive"].owner, drafts["enrollment_inactive"].severity) == ("credentialing", "high")
    assert drafts["enrollment_inactive"].claim_id is None and drafts["enrollment_inactive"].amount == Decimal("900")
    assert (drafts["revalidation_due"].rung, drafts["revalidation_due"].severity) == (None, "info")
    assert drafts["layout_changed"].owner == "it" and "resume unity" in drafts["layout_changed"].action


NOW = at(TODAY, 12)


def account(portal: str, **values: Any) -> PortalAccount:
    return PortalAccount(portal=portal, adapter="unity_health", **values)


def test_health_alerts() -> None:
    accounts = [
        account("locked", state="needs_attention", attention_reason="LoginRejected: password expired"),
        account(
            "down",
            unavailable_until=NOW + timedelta(minutes=30),
            consecutive_failures=7,
            last_error="PortalUnavailable: 503",
            last_success_at=(NOW - timedelta(hours=6)).replace(tzinfo=None),
        ),
        account(
            "between",
            unavailable_until=NOW - timedelta(minutes=1),
            consecutive_failures=8,
            last_success_at=NOW - timedelta(hours=9),
        ),
        account(
            "blip",
            unavailable_until=NOW + timedelta(minutes=15),
            consecutive_failures=3,
            last_success_at=NOW - timedelta(hours=1),
        ),
        account("fine", last_success_at=NOW - timedelta(hours=30)),
    ]
    runs = {
        "claims": JobRun(job="claims", last_success_at=NOW - timedelta(hours=3), last_error="boom"),
        "auths": JobRun(job="auths", last_success_at=NOW - timedelta(minutes=90)),
        "never": JobRun(job="never", last_started_at=NOW - timedelta(hours=5)),
    }
    intervals = {
        "claims": timedelta(hours=1),
        "auths": timedelta(hours=1),
        "never": timedelta(hours=1),
        "unrun": timedelta(hours=1),
    }
    drafts = health_alerts(accounts, runs, intervals, NOW, ALERT_RULES)
    assert sorted(d.key for d in drafts) == [
        "account_needs_attention|locked",
        "job_stale|claims",
        "job_stale|never",
        "portal_paused|between",
        "portal_paused|down",
    ]
    assert all(d.owner == "it" for d in drafts)
    locked = next(d for d in drafts if d.subject == "locked")
    assert locked.severity == "high" and "credentials set locked" in locked.action
    down = next(d for d in drafts if d.subject == "down")
    assert "7 failure(s)" in down.title and "503" in down.title
    assert next(d for d in drafts if d.key == "job_stale|claims").severity == "high"
    # a job that never ran is stale once the worker has been up long enough
    late = health_alerts([], {}, {"unrun": timedelta(hours=1)}, NOW, ALERT_RULES, up_since=NOW - timedelta(hours=3))
    assert [d.key for d in late] == ["job_stale|unrun"]
    assert (
        health_alerts([], {}, {"unrun": timedelta(hours=1)}, NOW, ALERT_RULES, up_since=NOW - timedelta(hours=1)) == []
    )
