"""The appeals report fed by appeal decisions (overturned with the amount recovered, upheld, pending) and by
write-offs with their amounts, next to appeals marked by hand as before."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.appeal_decisions import record_decision
from flows.denials import record_staff_action
from store.db import session_scope
from store.models import AppealRow
from tests import report_data
from tests.report_data import AT
from tests.test_reports import D, engine, rounded, run, table  # noqa: F401  (the engine fixture)

FILED = AT - timedelta(days=20)


def appeal(
    session: Session, appeal_id: str, denial_id: int, payer: str, amount: str, state: str = "filed"
) -> AppealRow:
    row = AppealRow(
        appeal_id=appeal_id,
        denial_id=denial_id,
        payer_id=payer,
        level=1,
        level_name="reconsideration",
        channel="fax",
        state=state,
        disputed_amount=Decimal(amount),
        filed_at=FILED if state == "filed" else None,
        created_by="bea",
        created_at=FILED,
        updated_at=FILED,
    )
    session.add(row)
    session.flush()
    return row


def decided(session: Session, row: AppealRow, decision: str, recovered: str | None, at: datetime = AT) -> None:
    record_decision(
        session,
        row,
        decision=decision,
        decided_on=at.date() - timedelta(days=2),
        amount_recovered=Decimal(recovered) if recovered else None,
        source="staff",
        actor="bea",
        at=at,
    )


def appealed_claims(engine: Engine) -> None:  # noqa: F811
    """NWM: A overturned with 80 of 100 recovered, B upheld, C pending, D marked appealed by hand then paid.
    UHP: E written off 30 of 50, F written off whole (no amount: its 40), G an appeal only prepared."""
    with session_scope(engine) as session:
        on = date(2026, 11, 2)
        ids = {}
        for claim_id, payer, amount in (
            ("A", "NWM", "100.00"),
            ("B", "NWM", "200.00"),
            ("C", "NWM", "60.00"),
            ("D", "NWM", "70.00"),
            ("E", "UHP", "50.00"),
            ("F", "UHP", "40.00"),
            ("G", "UHP", "10.00"),
        ):
            report_data.claim(session, claim_id, payer, date(2026, 10, 1), amount, "denied")
            made = report_data.denial(session, claim_id, payer, "50", amount, on, "medical_necessity", "providers")
            assert made.id is not None
            ids[claim_id] = made.id
        decided(session, appeal(session, "AP-A", ids["A"], "NWM", "100.00"), "overturned", "80.00")
        decided(session, appeal(session, "AP-B", ids["B"], "NWM", "200.00"), "upheld", None)
        appeal(session, "AP-C", ids["C"], "NWM", "60.00")
        record_staff_action(session, ids["D"], "appealed", "faxed", AT)
        record_staff_action(session, ids["D"], "resolved", "paid after the appeal", AT)
        record_staff_action(session, ids["E"], "written-off", None, AT, amount=Decimal("30.00"), reason="small balance")
        record_staff_action(session, ids["F"], "written-off", "timely filing missed", AT)
        appeal(session, "AP-G", ids["G"], "UHP", "10.00", state="prepared")


def test_decisions_and_write_off_amounts_feed_the_appeals_report(engine: Engine) -> None:  # noqa: F811
    appealed_claims(engine)
    report = run(engine, "appeals")
    # NWM: A overturned (80 recovered), B upheld, C pending, D by hand (70 recovered): 2 of 3 decided overturned
    assert rounded(table(report, "appeals-by-payer")) == [
        ("NWM", 4, 2, 1, 1, 0.6667, D("150.00")),
        ("UHP", 0, 0, 0, 0, None, D("0.00")),
        ("All", 4, 2, 1, 1, 0.6667, D("150.00")),
    ]
    # UHP: E 30 of 50 and F its whole 40 written off, of 100 denied
    assert rounded(table(report, "write-offs")) == [
        ("NWM", 4, D("430.00"), 0, 0, D("0.00"), 0.0),
        ("UHP", 3, D("100.00"), 2, 0, D("70.00"), 0.7),
        ("All", 7, D("530.00"), 2, 0, D("70.00"), 0.1321),
    ]
    assert report.notes == []


def test_a_staff_correction_moves_the_figures(engine: Engine) -> None:  # noqa: F811
    appealed_claims(engine)
    with session_scope(engine) as session:
        row = session.get(AppealRow, "AP-B")
        assert row is not None
        decided(session, row, "overturned", "150.00", AT + timedelta(hours=1))
    assert table(run(engine, "appeals"), "appeals-by-payer")[0] == ("NWM", 4, 3, 0, 1, 1.0, D("300.00"))
