"""The daily summary on crafted alerts: grouping, counts and dollars, top items, audiences, no names, escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from flows.digest import build_digest, mark_reported, render_html, render_text, subject_line
from store import alerts as store
from store.db import create_schema, make_engine, session_scope
from store.models import Alert, Denial, Digest

DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 7, tzinfo=UTC)
NAME = "ZZTESTPATIENT, SYNTHETIC"

_ids = iter(range(1, 10_000))


def alert(
    subject: str,
    due_in: int | None,
    owner: str = "billing",
    amount: str | None = "100.00",
    severity: str = "medium",
    kind: str = "timely_filing",
    rung: str | None = None,
    claim_id: str | None = "same",
    reported_rung: str | None = None,
    reported: bool = False,
    title: str | None = None,
) -> Alert:
    return Alert(
        id=next(_ids),
        key=f"{kind}|{subject}",
        kind=kind,
        subject=subject,
        title=title or f"Claim {subject} (UHP)",
        action=f"Do something about {subject}",
        owner=owner,
        payer_id="UHP",
        claim_id=subject if claim_id == "same" else claim_id,
        amount=Decimal(amount) if amount else None,
        due=DAY + timedelta(days=due_in) if due_in is not None else None,
        severity=severity,
        rung=rung,
        opened_at=NOW,
        updated_at=NOW,
        reported_rung=reported_rung,
        reported_at=NOW if reported else None,
    )


def new_denial(claim_id: str, amount: str, owner: str = "billing") -> Denial:
    return Denial(
        fingerprint=f"fp-{claim_id}-{amount}",
        claim_id=claim_id,
        reported_claim_id=claim_id,
        source="era",
        source_ref="era-1",
        payer_id="UHP",
        group_code="CO",
        carc="16",
        amount=Decimal(amount),
        category="documentation",
        owner=owner,
        kind="soft",
        first_seen_at=NOW,
        last_seen_at=NOW,
    )


ALERTS = [
    alert("OD1", -2, amount="500.00", rung="overdue"),
    alert("OD2", -1, owner="coding", amount="50.00", rung="overdue"),
    alert("S1", 2, amount="200.00", rung="3d"),
    alert("S2", 3, owner="front_desk", amount="25.50", rung="3d"),
    alert("W1", 6, amount="10.00", rung="7d"),
    alert("C1", 20, amount="1000.00", rung="30d"),
    alert("C2", 25, owner="coding", amount="1.00", rung="30d"),
    alert("H1", None, owner="it", amount=None, severity="high", kind="account_needs_attention", claim_id=None),
    alert("I1", None, owner="credentialing", amount=None, severity="info", kind="caqh_due", claim_id=None),
]


def test_groups_by_urgency_then_owner_with_counts_and_dollars() -> None:
    digest = build_digest(ALERTS, [], [], DAY)
    assert [(g.urgency, g.owner, g.total, g.dollars) for g in digest.groups] == [
        ("Overdue", "billing", 1, Decimal("500.00")),
        ("Overdue", "coding", 1, Decimal("50.00")),
        ("Due within 3 days", "billing", 1, Decimal("200.00")),
        ("Due within 3 days", "front_desk", 1, Decimal("25.50")),
        ("Due within 3 days", "it", 1, Decimal("0")),  # undated and high: act now
        ("This week", "billing", 1, Decimal("10.00")),
        ("Coming up", "billing", 1, Decimal("1000.00")),
        ("Coming up", "coding", 1, Decimal("1.00")),
        ("For information", "credentialing", 1, Decimal("0")),
    ]
    assert digest.open_count == 9 and digest.dollars_at_risk == Decimal("1786.50")
    assert digest.hidden_counts == {}
    text = render_text(digest)
    assert "OVERDUE: 2, $550.00" in text and "DUE WITHIN 3 DAYS: 3, $225.50" in text
    assert "Front desk: 1, $25.50" in text and "\nIT: 1\n" in text and "FOR INFORMATION: 1\n" in text
    assert "> Do something about OD1" in text
    assert (
        text.index("OVERDUE")
        < text.index("DUE WITHIN")
        < text.index("THIS WEEK")
        < text.index("COMING UP")
        < text.index("FOR INFORMATION")
    )
    assert subject_line(digest) == "portal-worker 2026-11-24: 2 overdue, 4 due this week, $1,786.50 at risk"


def test_top_items_then_counts_for_the_rest_with_their_dollars() -> None:
    digest = build_digest(ALERTS, [], [], DAY, top_n=3)
    assert [line.key for group in digest.groups for line in group.lines] == [
        "timely_filing|OD1",
        "timely_filing|OD2",
        "timely_filing|S1",
        "timely_filing|C1",  # "Coming up" lists its own soonest, on one line each
        "timely_filing|C2",
    ]
    assert digest.hidden_counts == {"Due within 3 days": 2, "This week": 1, "For information": 1}
    assert digest.hidden_dollars == {
        "Due within 3 days": Decimal("25.50"),
        "This week": Decimal("10.00"),
        "For information": Decimal("0"),
    }
    assert digest.alert_keys == [f"timely_filing|{s}" for s in ("OD1", "OD2", "S1", "C1", "C2")]
    text = render_text(digest)
    assert "and 2 more due within 3 days, $25.50" in text and "and 1 more this week, $10.00" in text
    assert "and 1 more for information\n" in text  # no amount to count
    assert "MEDIUM, new: Claim C1 (UHP)" in text and "Do something about C1" not in text  # one line
    assert "Do something about OD1" in text
    assert len(text.splitlines()) < 40
    html = render_html(digest)
    assert "and 2 more due within 3 days, $25.50" in html and "Claim C1" in html and "Do something about C1" not in html

    fewer = build_digest(ALERTS, [], [], DAY, top_n=1)
    assert [line.key for group in fewer.groups for line in group.lines] == ["timely_filing|OD1", "timely_filing|C1"]
    assert "and 1 more coming up, $1.00" in render_text(fewer)


def test_an_audience_sees_only_its_departments() -> None:
    denials = [new_denial("D1", "40.00", owner="coding"), new_denial("D2", "60.00")]
    digest = build_digest(ALERTS, [alert("R1", None, owner="billing")], denials, DAY, owners={"coding"})
    assert {g.owner for g in digest.groups} == {"coding"}
    assert digest.open_count == 2 and digest.dollars_at_risk == Decimal("51.00")
    assert (digest.new_denials_count, digest.new_denials_dollars) == (1, Decimal("40.00"))
    assert digest.resolved == []
    assert "OD1" not in render_text(digest)


def test_news_new_escalated_and_already_shown() -> None:
    digest = build_digest(
        [
            alert("N", 5, rung="7d"),
            alert("E", 2, rung="3d", reported=True, reported_rung="7d"),
            alert("S", 2, rung="3d", reported=True, reported_rung="3d"),
        ],
        [],
        [],
        DAY,
    )
    news = {line.key: line.news for g in digest.groups for line in g.lines}
    assert news == {"timely_filing|N": "new", "timely_filing|E": "escalated to 3 days", "timely_filing|S": None}
    text = render_text(digest)
    assert "- MEDIUM, new: Claim N" in text and "- MEDIUM, escalated to 3 days: Claim E" in text
    assert "- MEDIUM: Claim S (UHP)" in text


def test_new_denials_and_dollars() -> None:
    digest = build_digest([], [], [new_denial("D1", "40.00"), new_denial("D2", "60.25")], DAY)
    assert not digest.is_empty
    text = render_text(digest)
    assert "New denials since the last summary: 2, $100.25" in text
    assert subject_line(digest) == "portal-worker 2026-11-24: 0 open, 2 new denials, $0.00 at risk"


def test_a_claim_in_two_alerts_counts_its_dollars_once() -> None:
    digest = build_digest(
        [
            alert("X", 5, kind="timely_filing", amount="300.00"),
            alert("X", None, kind="claim_outside_auth", amount="300.00"),
        ],
        [],
        [],
        DAY,
    )
    assert digest.open_count == 2 and digest.dollars_at_risk == Decimal("300.00")


def test_empty_summary() -> None:
    digest = build_digest([], [], [], DAY, practice="Lakeside PT")
    assert digest.is_empty
    assert subject_line(digest) == "portal-worker Lakeside PT 2026-11-24: nothing needs attention"
    assert "Nothing needs attention today." in render_text(digest)
    assert "Nothing needs attention today." in render_html(digest)


def test_no_patient_name_unless_names_are_passed() -> None:
    names = {"OD1": NAME, "R1": NAME}
    resolved = [alert("R1", None)]
    without = build_digest(ALERTS, resolved, [], DAY)
    for rendered in (render_text(without), render_html(without), subject_line(without)):
        assert NAME not in rendered and "ZZTESTPATIENT" not in rendered
    with_names = build_digest(ALERTS, resolved, [], DAY, patient_names=names)
    assert f"Claim OD1 (UHP) - patient {NAME}" in render_text(with_names)
    assert f"Claim R1 (UHP) - patient {NAME}" in render_text(with_names)
    assert "ZZTESTPATIENT" in render_html(with_names) and "ZZTESTPATIENT" not in subject_line(with_names)


def test_html_is_escaped() -> None:
    hostile = alert("H", 1, title='Claim <script>alert("x")</script> & co', rung="1d")
    html = render_html(build_digest([hostile], [], [], DAY, patient_names={"H": "<b>Name</b>"}))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; co" in html
    assert "<b>Name</b>" not in html and "&lt;b&gt;Name&lt;/b&gt;" in html
    assert html.lstrip().startswith("<!DOCTYPE html>") and "<table" in html


def test_resolved_lines_beyond_top_n_are_counted() -> None:
    resolved = [alert(f"R{n}", None) for n in range(5)]
    digest = build_digest([], resolved, [], DAY, top_n=2)
    text = render_text(digest)
    assert "RESOLVED since the last summary" in text and "and 3 more resolved" in text
    assert digest.resolved_keys == [f"timely_filing|R{n}" for n in range(5)]  # all said, so all marked


# --- with the store ------------------------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'digest.db'}")
    create_schema(engine)
    return engine


def test_mark_reported_records_the_rung_and_says_resolved_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        gone = alert("Z", None, reported=True)  # shown in an earlier summary, then resolved
        gone.status, gone.resolved_at = "resolved", NOW
        never_shown = alert("Y", None)
        never_shown.status, never_shown.resolved_at = "resolved", NOW
        for row in (alert("A", 2, rung="3d"), alert("B", 5, rung="7d"), gone, never_shown):
            row.id = None
            session.add(row)
    with session_scope(engine) as session:
        digest = build_digest(store.open_alerts(session, now=NOW), store.resolved_unreported(session), [], DAY, top_n=1)
        assert digest.alert_keys == ["timely_filing|A"] and digest.resolved_keys == ["timely_filing|Z"]
        mark_reported(session, digest, NOW)
    with session_scope(engine) as session:
        a, b, z = (store.find_by_key(session, f"timely_filing|{s}") for s in "ABZ")
        assert a is not None and (a.reported_rung, a.reported_at) == ("3d", NOW)
        assert b is not None and b.reported_at is None  # counted, not listed: still news tomorrow
        assert z is not None and z.resolution_reported
        assert store.resolved_unreported(session) == []


def test_digest_rows(engine: Engine) -> None:
    def row(day: date, channel: str, state: str = "pending") -> Digest:
        return Digest(
            digest_date=day,
            channel=channel,
            state=state,
            created_at=NOW,
            subject="s",
            body_text="t",
            body_html="<p>h</p>",
            alert_keys=["timely_filing|A"],
            resolved_keys=[],
        )

    with session_scope(engine) as session:
        store.save_digest(session, row(DAY, "email"))
        store.save_digest(session, row(DAY, "slack", "sent"))
        store.save_digest(session, row(DAY - timedelta(days=1), "email", "sent"))
    with session_scope(engine) as session:
        found = store.get_digest(session, DAY, "email")
        assert found is not None and found.alert_keys == ["timely_filing|A"] and found.created_at == NOW
        assert store.get_digest(session, DAY, "teams") is None
        assert [(d.digest_date, d.channel) for d in store.digests_by_state(session, ["pending", "failed"])] == [
            (DAY, "email")
        ]
        last = store.last_sent_digest(session, "email")
        assert last is not None and last.digest_date == DAY - timedelta(days=1)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        store.save_digest(session, row(DAY, "email"))


def test_new_denials_since(engine: Engine) -> None:
    with session_scope(engine) as session:
        for n, seen in enumerate((NOW - timedelta(days=2), NOW - timedelta(hours=1), NOW)):
            denial = new_denial(f"D{n}", "10.00")
            denial.claim_id = None  # not one of our claims (no claim rows here)
            denial.first_seen_at = denial.last_seen_at = seen
            session.add(denial)
    with session_scope(engine) as session:
        assert [d.reported_claim_id for d in store.new_denials_since(session, NOW - timedelta(days=1))] == ["D1", "D2"]
        assert len(store.new_denials_since(session, None)) == 3
