"""Appeal decisions without a browser: overturns resolve the denial with the money, upholds open the next level,
a payment while an appeal waits is an overturn, and silence is followed up once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from flows.appeal_decisions import DecisionRefused, record_decision
from flows.claim_states import ClaimState
from flows.denials import record_portal_result
from flows.remittances import import_era
from flows.worklist import load_worklist
from portals.types import Adjustment, ClaimStatusResult
from store.db import create_schema, make_engine, session_scope
from store.denials import history
from store.models import Alert, AppealRow, Claim, Denial, Finding
from tests.conftest import write_config
from worker.delivery.notify import refresh_alerts
from worker.settings import Settings

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
DOS = date(2026, 9, 14)
DENIED_ON = date(2026, 10, 1)
FILED_AT = datetime(2026, 10, 20, 15, tzinfo=UTC)
AUTH = Adjustment("CO", "197", Decimal("300.00"), (), "99213")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config_path = tmp_path / "portal-worker.toml"
    write_config(config_path, "https://portal.invalid", tmp_path / "data")
    return Settings.load(config_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url())
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
    yield engine
    engine.dispose()


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


def alerts(engine: Engine, *kinds: str) -> list[Alert]:
    with Session(engine) as session:
        return [a for a in session.exec(select(Alert).order_by(col(Alert.id))) if a.kind in kinds]


def test_the_upheld_alert_names_the_next_level_and_its_deadline(engine: Engine, settings: Settings) -> None:
    filed_appeal(engine)
    decide(engine, "AP-1", "upheld", date(2026, 11, 16))
    refresh_alerts(settings, engine, AT)
    [alert] = alerts(engine, "appeal_upheld")
    assert alert.title == "Appeal AP-1 (NWM, $300.00) upheld: the next level is due 2027-01-15"
    assert alert.action.startswith("Upheld on 2026-11-16 at reconsideration (level 1): File appeal (level 2)")
    assert alert.owner == "billing" and alert.claim_id == "PW900001" and alert.due == date(2027, 1, 15)
    # two weeks before it, the denial's own deadline alert says so too, counted from the decision date
    january = datetime(2027, 1, 2, 17, tzinfo=UTC)
    refresh_alerts(settings, engine, january)
    [deadline] = alerts(engine, "denial_deadline")
    assert (deadline.due, deadline.rung, deadline.action) == (date(2027, 1, 15), "14d", "File appeal (by 2027-01-15)")

    # level 2 filed: the upheld alert ends; level 2 upheld too: the payer has no level 3
    filed_appeal(engine, level=2, name="appeal", appeal_id="AP-2")
    refresh_alerts(settings, engine, january + timedelta(days=1))
    assert [a.status for a in alerts(engine, "appeal_upheld")] == ["resolved"]
    decide(engine, "AP-2", "upheld", date(2027, 1, 3), at=january + timedelta(days=2))
    denial, events = the_denial(engine)
    assert denial.status == "open" and "no further appeal level with NWM: write it off" in events[-1]
    refresh_alerts(settings, engine, january + timedelta(days=2))
    [final] = [a for a in alerts(engine, "appeal_upheld_final") if a.status == "open"]
    assert final.title == "Appeal AP-2 (NWM, $300.00) upheld at the payer's last level"
    assert "--status written-off" in final.action and final.due is None
    assert [a.status for a in alerts(engine, "denial_deadline")] == ["resolved"]
    with Session(engine) as session:
        [item] = load_worklist(session, date(2027, 1, 5))
    assert item.deadline is None


def test_silence_past_the_response_date_raises_one_follow_up(engine: Engine, settings: Settings) -> None:
    filed_appeal(engine)  # filed 2026-10-20, a decision due 2026-11-19
    refresh_alerts(settings, engine, datetime(2026, 11, 19, 17, tzinfo=UTC))
    assert alerts(engine, "appeal_no_answer") == []
    for day in (20, 21, 25):
        refresh_alerts(settings, engine, datetime(2026, 11, day, 17, tzinfo=UTC))
    [alert] = alerts(engine, "appeal_no_answer")
    assert alert.status == "open" and alert.owner == "billing" and alert.claim_id == "PW900001"
    assert alert.title == "Appeal AP-1 (NWM, $300.00): no answer from the payer"
    assert alert.action.startswith("No answer in 36 days (filed 2026-10-20 by portal, confirmation UNI-AP-1")
    assert "check the portal (unity) or call the payer" in alert.action
    with Session(engine) as session:
        assert len(session.exec(select(Finding).where(Finding.kind == "appeal_no_answer")).all()) == 1

    decide(engine, "AP-1", "overturned", date(2026, 11, 24), "300.00", at=datetime(2026, 11, 25, 18, tzinfo=UTC))
    refresh_alerts(settings, engine, datetime(2026, 11, 26, 17, tzinfo=UTC))
    assert [a.status for a in alerts(engine, "appeal_no_answer")] == ["resolved"]


def test_a_different_decision_from_staff_corrects_it_with_history_but_a_machine_cannot(engine: Engine) -> None:
    filed_appeal(engine)
    decide(engine, "AP-1", "upheld", date(2026, 11, 16), source="portal")
    decide(engine, "AP-1", "overturned", date(2026, 11, 17), "10.00", source="era")  # ignored: a person corrects
    assert the_denial(engine)[0].status == "open"
    decide(engine, "AP-1", "overturned", date(2026, 11, 17), "120.00")
    denial, events = the_denial(engine)
    assert denial.status == "resolved"
    assert "decision corrected by staff (was upheld on 2026-11-16; now overturned on 2026-11-17, $120.00)" in events[-2]
    assert open_findings(engine) == []  # the upheld finding ended with the correction


@pytest.mark.parametrize(
    ("state", "decision", "on", "amount", "message"),
    [
        ("prepared", "upheld", date(2026, 11, 16), None, "is prepared, not filed.*appeal sent"),
        ("filed", "won", date(2026, 11, 16), None, "overturned or upheld, not 'won'"),
        ("filed", "upheld", date(2026, 11, 16), "50.00", "an upheld appeal recovers nothing"),
        ("filed", "overturned", date(2026, 11, 16), "-5.00", "zero or more, not -5.00"),
        ("filed", "overturned", date(2026, 12, 25), "5.00", "2026-12-25 is in the future"),
        ("filed", "overturned", date(2026, 10, 1), "5.00", r"before the appeal was filed \(2026-10-20\)"),
    ],
)
def test_a_bad_decision_is_refused_and_nothing_is_written(
    engine: Engine, state: str, decision: str, on: date, amount: str | None, message: str
) -> None:
    filed_appeal(engine)
    with session_scope(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None
        appeal.state = state
    before = the_denial(engine)
    with pytest.raises(DecisionRefused, match=message):
        decide(engine, "AP-1", decision, on, amount)
    assert the_denial(engine) == before
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None and appeal.decision is None and appeal.state == state


def era_file(*claim: str, trace: str, paid: str) -> bytes:
    from tests.test_denials import era

    return era(*claim, trace=trace, total=paid)


def test_an_era_paying_the_appealed_line_overturns_the_appeal(engine: Engine) -> None:
    filed_appeal(engine)
    repaid = [
        "CLP*PW900001*1*300*240*0*12*NWM0001~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*300*240**1~",
        "CAS*CO*45*60~",
    ]
    import_era(engine, era_file(*repaid, trace="EFT0000000007", paid="240.00"), source="file", file_id="p.835", at=AT)
    denial, events = the_denial(engine)
    assert denial.status == "resolved"
    assert "overturned on 2026-10-10 (era): $240.00 recovered" in events[-1]
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None
        assert (appeal.decision, appeal.decision_source, appeal.decided_on, appeal.amount_recovered) == (
            "overturned",
            "era",
            date(2026, 10, 10),
            Decimal("240.00"),
        )


def test_a_reversal_and_a_payment_under_a_new_number_overturn_it_too(engine: Engine) -> None:
    filed_appeal(engine)
    reversal = [
        "CLP*PW900001*22*-300*0**12*NWM0001~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*-300*0**1~",
        "CAS*CO*197*-300~",
    ]
    import_era(engine, era_file(*reversal, trace="EFT0000000008", paid="0.00"), source="file", file_id="r.835", at=AT)
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None and appeal.decision is None  # a reversal alone pays nothing
    repaid = [
        "CLP*PW900001*1*300*260*0*12*NWM0001B~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*300*260**1~",
        "CAS*CO*45*40~",
    ]
    import_era(engine, era_file(*repaid, trace="EFT0000000009", paid="260.00"), source="file", file_id="n.835", at=AT)
    denial, events = the_denial(engine)
    assert denial.status == "resolved" and "$260.00 recovered" in events[-1]


def test_a_portal_showing_the_claim_paid_overturns_the_appeal(engine: Engine) -> None:
    filed_appeal(engine)
    paid = ClaimStatusResult(
        "PW900001",
        "F1",
        "65",
        "Paid",
        date(2026, 11, 12),
        "NWM0001",
        Decimal("300.00"),
        Decimal("250.00"),
        Decimal("250.00"),
        payment_date=date(2026, 11, 13),
        adjustments=(Adjustment("CO", "45", Decimal("50")),),
    )
    with session_scope(engine) as session:
        changes = record_portal_result(
            session, claim_id="PW900001", payer_id="NWM", result=paid, state=ClaimState.PAID, portal="unity", at=AT
        )
    assert len(changes.resolved) == 1
    denial, events = the_denial(engine)
    assert denial.status == "resolved" and "overturned on 2026-11-13 (portal): $250.00 recovered" in events[-1]


def test_a_payment_without_an_appeal_resolves_the_denial_as_before(engine: Engine) -> None:
    repaid = [
        "CLP*PW900001*1*300*240*0*12*NWM0001~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*300*240**1~",
        "CAS*CO*45*60~",
    ]
    import_era(engine, era_file(*repaid, trace="EFT0000000007", paid="240.00"), source="file", file_id="p.835", at=AT)
    denial, events = the_denial(engine)
    assert denial.status == "resolved" and events[-1] == "resolved: payer: paid on ERA EFT0000000007"


def test_a_medicare_level_counts_receipt_days_and_rolls_off_the_weekend(engine: Engine) -> None:
    """Medicare: redetermination upheld on Wednesday 2026-11-18; reconsideration is due 5 receipt days + 180 days
    later, Saturday 2027-05-22, rolled to Monday 2027-05-24."""
    with session_scope(engine) as session:
        denial = session.exec(select(Denial)).one()
        denial.payer_id = "MCR"
        session.add(denial)
    filed_appeal(engine, name="redetermination")
    decide(engine, "AP-1", "upheld", date(2026, 11, 18))
    _, events = the_denial(engine)
    assert events[-1].endswith("next, file reconsideration (level 2) by 2027-05-24")
    [finding] = open_findings(engine)
    assert finding.due == date(2027, 5, 24)


def test_an_overturn_the_portal_gave_no_amount_for_takes_it_from_the_payment(engine: Engine) -> None:
    filed_appeal(engine)
    decide(engine, "AP-1", "overturned", date(2026, 10, 8), source="portal")
    assert "amount recovered not yet known" in the_denial(engine)[1][-1]
    repaid = [
        "CLP*PW900001*1*300*240*0*12*NWM0001~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*300*240**1~",
        "CAS*CO*45*60~",
    ]
    import_era(engine, era_file(*repaid, trace="EFT0000000007", paid="240.00"), source="file", file_id="p.835", at=AT)
    denial, events = the_denial(engine)
    assert (
        denial.status == "resolved"
        and events[-1] == "resolved: appeal AP-1: $240.00 recovered, paid on 2026-10-10 (era)"
    )
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None and (appeal.decision_source, appeal.amount_recovered) == ("portal", Decimal("240.00"))
