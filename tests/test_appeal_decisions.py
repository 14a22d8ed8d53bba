"""Appeal decisions without a browser: overturns resolve the denial with the money, upholds open the next level,
a payment while an appeal waits is an overturn, and silence is followed up once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.appeal_decisions import record_decision
from flows.claim_states import ClaimState
from flows.denials import record_portal_result
from flows.worklist import load_worklist
from portals.types import Adjustment, ClaimStatusResult
from store.db import create_schema, make_engine, session_scope
from store.denials import history
from store.models import AppealRow, Claim, Denial, Finding

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
DOS = date(2026, 9, 14)
DENIED_ON = date(2026, 10, 1)
FILED_AT = datetime(2026, 10, 20, 15, tzinfo=UTC)
AUTH = Adjustment("CO", "197", Decimal("300.00"), (), "99213")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_schema(engine)
    with session_scope(engine) as session:
        session.add(
            Claim(
                claim_id="PW900001",
                payer_id="NWM",
                member_id="M000000001",
                patient_name="SYNTHETIC, PERSON",
                dos_from=DOS,
                dos_to=DOS,
                billed_amount=Decimal("300.00"),
                submitted_date=DOS + timedelta(days=3),
                rendering_npi="1234567893",
                imported_at=AT,
                updated_at=AT,
                paid_amount=None,
            )
        )
        result = ClaimStatusResult(
            "PW900001",
            "F2",
            "1",
            "Denied",
            DENIED_ON,
            "NWM0001",
            Decimal("300.00"),
            Decimal("0"),
            Decimal("0"),
            adjustments=(AUTH,),
        )
        record_portal_result(
            session, claim_id="PW900001", payer_id="NWM", result=result, state=ClaimState.DENIED, portal="unity", at=AT
        )
    return engine


def filed_appeal(engine: Engine, level: int = 1, name: str = "reconsideration", appeal_id: str = "AP-1") -> str:
    with session_scope(engine) as session:
        denial = session.exec(select(Denial)).one()
        assert denial.id is not None
        session.add(
            AppealRow(
                appeal_id=appeal_id,
                denial_id=denial.id,
                claim_id="PW900001",
                payer_id="NWM",
                level=level,
                level_name=name,
                channel="portal",
                portal="unity",
                state="filed",
                disputed_amount=Decimal("300.00"),
                confirmation_number=f"UNI-{appeal_id}",
                filed_at=FILED_AT,
                filed_by="worker",
                response_due=FILED_AT.date() + timedelta(days=30),
                created_by="staff",
                created_at=FILED_AT,
                updated_at=FILED_AT,
            )
        )
    return appeal_id


def decide(
    engine: Engine,
    appeal_id: str,
    decision: str,
    on: date,
    amount: str | None = None,
    source: str = "staff",
    at: datetime = AT,
) -> None:
    with session_scope(engine) as session:
        appeal = session.get(AppealRow, appeal_id)
        assert appeal is not None
        record_decision(
            session,
            appeal,
            decision=decision,
            decided_on=on,
            amount_recovered=Decimal(amount) if amount else None,
            source=source,
            actor="pat",
            at=at,
        )


def the_denial(engine: Engine) -> tuple[Denial, list[str]]:
    with Session(engine) as session:
        denial = session.exec(select(Denial)).one()
        return denial, [f"{e.status}: {e.note}" for e in history(session, denial.id or 0)]


def open_findings(engine: Engine) -> list[Finding]:
    with Session(engine) as session:
        return list(session.exec(select(Finding).where(Finding.status == "open")))


def test_an_overturn_resolves_the_denial_with_the_amount_recovered_once(engine: Engine) -> None:
    filed_appeal(engine)
    decide(engine, "AP-1", "overturned", date(2026, 11, 18), "240.00")
    denial, events = the_denial(engine)
    assert denial.status == "resolved"
    assert "overturned on 2026-11-18 (staff): $240.00 recovered; confirmation UNI-AP-1" in events[-1]
    decide(engine, "AP-1", "overturned", date(2026, 11, 18), "240.00", at=AT + timedelta(hours=1))
    assert the_denial(engine)[1] == events
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None
        assert (appeal.state, appeal.decision, appeal.decision_source, appeal.amount_recovered) == (
            "decided",
            "overturned",
            "staff",
            Decimal("240.00"),
        )


def test_upheld_at_reconsideration_opens_the_appeal_60_days_from_the_decision(engine: Engine) -> None:
    filed_appeal(engine)
    decide(engine, "AP-1", "upheld", date(2026, 11, 16))
    denial, events = the_denial(engine)
    assert denial.status == "open"
    assert "next, file appeal (level 2) by 2027-01-15" in events[-1]
    [finding] = open_findings(engine)
    assert (finding.kind, finding.subject, finding.due) == ("appeal_upheld", "AP-1", date(2027, 1, 15))
    with Session(engine) as session:
        [item] = load_worklist(session, date(2026, 11, 20))
    assert item.deadline is not None and (item.deadline.level, item.deadline.due) == (2, date(2027, 1, 15))
