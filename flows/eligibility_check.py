"""One appointment's eligibility check on its payer's portal: ask, keep the page as evidence (screenshot and
PDF), record the answer once per practice day; and the eligibility findings, refreshed from what is stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy.engine import Engine

from flows.cadence import today_in
from flows.eligibility import ELIGIBILITY_FINDINGS, latest_answer, visit_findings
from flows.findings import FindingChanges, FindingDraft, sync_findings
from flows.input_bounds import latest_date
from flows.kept_evidence import KeepsEvidence
from portals.capabilities import EligibilityPortal
from portals.types import EligibilityQuery, EligibilityResult
from store.appointments import (
    SCHEDULED,
    appointments_between,
    check_on,
    checks_of,
    failed_attempts,
    get_appointment,
    record_check,
)
from store.authorizations import list_authorizations
from store.db import session_scope
from store.models import EligibilityCheck

ELIGIBILITY_TASKS = "eligibility"  # the task kind (flows.task_work.TaskKind.ELIGIBILITY)
CONFIRMATION = "eligibility confirmation"


@dataclass(frozen=True)
class Checked:
    words: str
    asked: bool  # False: nothing to ask (checked already today, cancelled, the visit passed)


def check_appointment(
    portal: EligibilityPortal,
    appointment_id: str,
    engine: Engine,
    *,
    run_id: str,
    now: Callable[[], datetime],
    tz: tzinfo | None,
    keep_evidence: KeepsEvidence,
) -> Checked:
    """Ask the portal about one appointment's coverage, at most once per practice day. Portal errors are raised."""
    checked_on = today_in(now(), tz)
    with session_scope(engine) as session:
        appointment = get_appointment(session, appointment_id)
        if appointment is None or appointment.status != SCHEDULED:
            return Checked("no longer on the schedule", asked=False)
        if appointment.appointment_date < checked_on:
            return Checked("the visit has passed", asked=False)
        earlier = check_on(session, appointment_id, checked_on)
        if earlier is not None and earlier.service_date == appointment.appointment_date:
            return Checked(f"{earlier.coverage}, checked already today", asked=False)
        query = EligibilityQuery(
            payer_id=appointment.payer_id,
            member_id=appointment.member_id,
            date_of_birth=appointment.date_of_birth,
            provider_npi=appointment.rendering_npi,
            service_date=appointment.appointment_date,
            procedure_codes=tuple(appointment.procedure_codes),
        )
    result = portal.eligibility(query)
    kept = keep_evidence(portal.snapshot(pdf=True), portal=portal.portal, subject=appointment_id, reason=CONFIRMATION)
    at = now()
    with session_scope(engine) as session:
        answer = _stored(
            result, appointment_id, query, checked_on=checked_on, at=at, portal=portal.portal, run_id=run_id
        )
        answer.pdf_path = kept.pdf_path
        record_check(session, answer, kept.evidence)
    return Checked(result.coverage, asked=True)


def _stored(
    result: EligibilityResult,
    appointment_id: str,
    query: EligibilityQuery,
    *,
    checked_on: date,
    at: datetime,
    portal: str,
    run_id: str,
) -> EligibilityCheck:
    return EligibilityCheck(
        appointment_id=appointment_id,
        checked_on=checked_on,
        service_date=query.service_date,
        checked_at=at,
        portal=portal,
        run_id=run_id,
        payer_id=result.payer_id,
        coverage=result.coverage,
        portal_words=result.portal_words,
        member_id=result.member_id,
        plan_name=result.plan_name,
        coverage_start=result.coverage_start,
        coverage_end=result.coverage_end,
        new_payer_id=result.new_payer_id,
        new_member_id=result.new_member_id,
        other_insurance_primary=result.other_insurance_primary,
        auth_required_codes=list(result.auth_required_codes),
        in_network=result.in_network,
        deductible=result.deductible,
        deductible_met=result.deductible_met,
        coinsurance_percent=result.coinsurance_percent,
        copay=result.copay,
    )


def eligibility_drafts(engine: Engine, today: date) -> list[FindingDraft]:
    """The eligibility findings that hold on the practice's `today`: for every scheduled appointment from then on."""
    with session_scope(engine) as session:
        upcoming = appointments_between(session, today, latest_date(today))
        ids = [a.appointment_id for a in upcoming]
        checks = checks_of(session, ids)
        failed = failed_attempts(session, ELIGIBILITY_TASKS, ids)
        auths = list_authorizations(session)
    drafts: list[FindingDraft] = []
    for appointment in upcoming:
        answer = latest_answer(appointment, checks[appointment.appointment_id])
        drafts += visit_findings(appointment, answer, auths, failed.get(appointment.appointment_id))
    return drafts


def sync_eligibility_findings(engine: Engine, today: date, at: datetime) -> FindingChanges:
    """Open, refresh and resolve the eligibility findings from what is stored (a past visit's resolve)."""
    drafts = eligibility_drafts(engine, today)
    with session_scope(engine) as session:
        return sync_findings(session, ELIGIBILITY_FINDINGS, drafts, at)
