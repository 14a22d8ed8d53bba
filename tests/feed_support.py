"""A store with one event of every feed type, made the way the worker makes them: through the flows and store
functions a portal check, an ERA import, staff and the eligibility run call (no browser). Synthetic data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from flows.appeal_decisions import record_decision
from flows.claim_status import record_status
from flows.denials import record_staff_action
from flows.findings import FindingDraft, sync_findings
from flows.remittances import import_era
from portals.types import Adjustment, ClaimStatusResult
from store.appeals import add_appeal
from store.appointments import record_check
from store.db import session_scope
from store.models import (
    AppealRow,
    Appointment,
    Authorization,
    AuthorizationObservation,
    Claim,
    Denial,
    EligibilityCheck,
    EnrollmentObservation,
    FeedEvent,
)
from store.observations import record_auth_observation, record_enrollment_observation
from tests.test_denials import era

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
DOS = date(2026, 9, 14)
CLAIM, PAID_CLAIM, OPEN_CLAIM, NPI = "PW900001", "PW900002", "PW900003", "1234567893"


def claim(claim_id: str) -> Claim:
    return Claim(
        claim_id=claim_id,
        payer_id="NWM",
        member_id="M000000001",
        patient_name="SYNTHETIC, PERSON",
        dos_from=DOS,
        dos_to=DOS,
        billed_amount=Decimal("300.00"),
        submitted_date=DOS + timedelta(days=3),
        rendering_npi=NPI,
        imported_at=AT,
        updated_at=AT,
    )


def uhp_claim(claim_id: str, at: datetime, patient_name: str = "Synthetic Patient") -> Claim:
    """A plain commercial claim imported at `at`, before any portal answered about it."""
    return Claim(
        claim_id=claim_id,
        payer_id="UHP",
        member_id="M0001",
        patient_name=patient_name,
        dos_from=date(2026, 11, 2),
        dos_to=date(2026, 11, 2),
        billed_amount=Decimal("240.00"),
        submitted_date=date(2026, 11, 3),
        rendering_npi="1234567893",
        imported_at=at,
        updated_at=at,
    )


def portal_answer(engine: Engine, claim_id: str, result: ClaimStatusResult, at: datetime) -> None:
    with session_scope(engine) as session:
        stored = session.get(Claim, claim_id)
        assert stored is not None
        session.expunge(stored)
    record_status(engine, stored, result, portal="unity", run_id="run-1", at=at)


def denial_id(engine: Engine) -> int:
    with Session(engine) as session:
        found = session.exec(select(Denial.id).where(Denial.claim_id == CLAIM)).first()
    assert found is not None
    return found


def claims_denials_and_appeals(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(claim(CLAIM))
        session.add(claim(PAID_CLAIM))
    denied = ClaimStatusResult(
        CLAIM, "F2", "1", "Denied", date(2026, 10, 1), "NWM0001", Decimal("300.00"), Decimal("0"), Decimal("0"),
        adjustments=(Adjustment("CO", "197", Decimal("300.00"), ("N54",), "99213"),),
    )  # fmt: skip
    portal_answer(engine, CLAIM, denied, AT)  # claim.status_changed, denial.opened
    denial = denial_id(engine)
    with session_scope(engine) as session:
        record_staff_action(session, denial, "appealed", "reconsideration sent", AT)  # denial.status_changed
        add_appeal(
            session,
            AppealRow(
                appeal_id="AP-1",
                denial_id=denial,
                claim_id=CLAIM,
                payer_id="NWM",
                level=1,
                level_name="reconsideration",
                channel="portal",
                portal="unity",
                state="filed",
                disputed_amount=Decimal("300.00"),
                confirmation_number="UNI-AP-1",
                filed_at=AT,
                filed_by="worker",
                response_due=AT.date() + timedelta(days=30),
                created_by="staff",
                created_at=AT,
                updated_at=AT,
            ),
        )  # appeal.filed
    with session_scope(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None
        record_decision(
            session, appeal, decision="upheld", decided_on=date(2026, 11, 20), amount_recovered=None,
            source="staff", actor="pat", at=AT + timedelta(hours=1),
        )  # fmt: skip  # appeal.decided
    later = AT + timedelta(hours=2)
    with session_scope(engine) as session:
        record_staff_action(session, denial, "written-off", None, later, reason="upheld at the last level")
    with session_scope(engine) as session:
        record_staff_action(session, denial, "open", "the payer reopened it", later)  # denial.reopened
    with session_scope(engine) as session:
        record_staff_action(session, denial, "resolved", "paid on resubmission", later)  # denial.resolved


def a_denial_left_open(engine: Engine) -> None:
    """A denial nobody has worked yet: its events go out with the next step and deadline staff see."""
    with session_scope(engine) as session:
        session.add(claim(OPEN_CLAIM))
    denied = ClaimStatusResult(
        OPEN_CLAIM, "F2", "1", "Denied", date(2026, 11, 2), "NWM0003", Decimal("300.00"), Decimal("0"), Decimal("0"),
        adjustments=(Adjustment("CO", "50", Decimal("300.00"), ("N115",), "99213"),),
    )  # fmt: skip
    portal_answer(engine, OPEN_CLAIM, denied, AT)  # claim.status_changed, denial.opened
    with Session(engine) as session:
        found = session.exec(select(Denial.id).where(Denial.claim_id == OPEN_CLAIM)).one()
    assert found is not None
    for status, note in (("written-off", None), ("open", "written off by mistake"), ("resubmitted", "corrected")):
        with session_scope(engine) as session:  # denial.written_off, denial.reopened, denial.status_changed
            record_staff_action(session, found, status, note, AT, reason="small balance" if note is None else None)


def payments(engine: Engine) -> None:
    paid = ClaimStatusResult(
        PAID_CLAIM, "F1", "65", "Paid", date(2026, 10, 9), "NWM0002", Decimal("300.00"), Decimal("120.00"),
        Decimal("100.00"), check_number="EFT0000000001", payment_date=date(2026, 10, 9),
    )  # fmt: skip
    portal_answer(engine, PAID_CLAIM, paid, AT + timedelta(hours=3))  # claim.payment_seen from the portal
    paid_line = [
        f"CLP*{PAID_CLAIM}*1*300*100*20*12*NWM0002~",
        "NM1*QC*1*SYNTHETIC*OTHER****MI*M000000002~",
        "SVC*HC:99214*300*100**1~",
        "DTM*472*20260914~",
        "CAS*CO*45*180~",
        "CAS*PR*3*20~",
    ]
    remittance = era(*paid_line, trace="EFT0000000002", total="100.00")
    import_era(engine, remittance, source="file", file_id="w.835", at=AT)  # claim.payment_seen from the ERA


def authorizations_enrollments_and_visits(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(
            Authorization(
                auth_number="AUTH-0001", payer_id="UHP", member_id="M000000003", patient_name="SYNTHETIC, THIRD",
                servicing_npi=NPI, procedure_codes=["97110"], units_approved=12, start_date=date(2026, 10, 1),
                end_date=date(2026, 12, 31), imported_at=AT, updated_at=AT,
            )
        )  # fmt: skip
        session.add(
            Appointment(
                appointment_id="APPT-0001", appointment_date=date(2026, 11, 23), appointment_time=time(9, 30),
                patient_name="SYNTHETIC, FOURTH", date_of_birth=date(1970, 1, 1), member_id="M000000004",
                payer_id="UHP", rendering_npi=NPI, procedure_codes=["99213"], imported_at=AT, updated_at=AT,
            )
        )  # fmt: skip
    with session_scope(engine) as session:
        record_auth_observation(
            session,
            AuthorizationObservation(
                auth_number="AUTH-0001", observed_at=AT, portal="unity", run_id="run-1", status="approved",
                units_approved=12, units_used=4, start=date(2026, 10, 1), end=date(2026, 12, 31),
                procedure_codes=["97110"], changes="first seen",
            ),
        )  # fmt: skip  # authorization.changed
        record_enrollment_observation(
            session,
            EnrollmentObservation(
                npi=NPI, payer_id="NWM", observed_at=AT, portal="summit", run_id="run-1", status="active",
                effective=date(2020, 1, 1), revalidation_due=date(2027, 3, 1), payer_provider_id="NW-778",
                era_enrolled=True, eft_enrolled=False, changes="first seen",
            ),
        )  # fmt: skip  # enrollment.changed
        record_check(
            session,
            EligibilityCheck(
                appointment_id="APPT-0001", checked_on=AT.date(), service_date=date(2026, 11, 23), checked_at=AT,
                portal="unity", run_id="run-1", payer_id="UHP", coverage="active", portal_words="Active coverage",
                member_id="M000000004", plan_name="UHP Choice PPO", coverage_start=date(2026, 1, 1),
                auth_required_codes=["97110"], in_network=True, deductible=Decimal("1500.00"),
                deductible_met=Decimal("350.00"), coinsurance_percent=Decimal("20"), copay=Decimal("25.00"),
            ),
            None,
        )  # fmt: skip  # eligibility.checked


def findings(engine: Engine) -> None:
    draft = FindingDraft(
        "auth_expiring", "AUTH-0001", "UHP", "Authorization AUTH-0001 ends 2026-12-31 with 8 units left: renew it",
        due=date(2026, 12, 31), amount_at_risk=Decimal("300.00"), claims_at_risk=(CLAIM,),
    )  # fmt: skip
    with session_scope(engine) as session:
        sync_findings(session, ["auth_expiring"], [draft], AT)  # finding.opened
    with session_scope(engine) as session:
        sync_findings(session, ["auth_expiring"], [], AT + timedelta(days=1))  # finding.resolved


def every_event(engine: Engine) -> None:
    claims_denials_and_appeals(engine)
    a_denial_left_open(engine)
    payments(engine)
    authorizations_enrollments_and_visits(engine)
    findings(engine)


def events(engine: Engine) -> list[FeedEvent]:
    with Session(engine) as session:
        found = list(session.exec(select(FeedEvent).order_by(col(FeedEvent.seq))))
        session.expunge_all()
    return found
