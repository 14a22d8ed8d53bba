"""A day's visits as the front desk reads them: each appointment with its payer's latest answer, what is wrong
and what to do before the patient arrives. `portal-worker eligibility`, the daily summary and the workspace's
Today page all read this, so they say the same thing.

Minimum necessary: no member id or date of birth, ever; the patient's name only where the caller says names
are shown (`alerts.include_patient_names`), and then in the last column of an export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.eligibility import CheckTimes, VisitProblem, latest_answer, visit_problems
from flows.eligibility_check import ELIGIBILITY_TASKS
from flows.list_tables import PATIENT_NAME
from flows.tables import Cell, Column, Kind, Table
from store.appointments import appointments_between, checks_of, failed_attempts
from store.authorizations import list_authorizations
from store.db import session_scope

NOT_CHECKED = "not checked yet"
VISIT_COLUMNS = (
    Column("appointment", "Appointment"),
    Column("date", "Date", Kind.DATE),
    Column("time", "Time"),
    Column("payer", "Payer"),
    Column("rendering_npi", "Rendering NPI"),
    Column("procedures", "Procedures"),
    Column("coverage", "Coverage"),
    Column("plan", "Plan"),
    Column("copay", "Copay", Kind.MONEY),
    Column("deductible_left", "Deductible left", Kind.MONEY),
    Column("checked", "Checked", Kind.DATETIME),
    Column("portal", "Portal"),
    Column("problems", "Problems"),
    Column("to_do", "What to do"),
)


@dataclass(frozen=True)
class Visit:
    appointment_id: str
    day: date
    at: time
    payer_id: str
    rendering_npi: str
    procedure_codes: tuple[str, ...]
    coverage: str  # active | inactive | not found | not checked yet
    plan_name: str | None
    copay: Decimal | None
    deductible_left: Decimal | None
    checked_at: datetime | None
    portal: str | None
    problems: tuple[VisitProblem, ...]
    pdf_path: str | None
    patient_name: str | None = None  # only when names are shown

    @property
    def problem_words(self) -> str:
        return "; ".join(problem.problem for problem in self.problems)

    @property
    def to_do(self) -> str:
        return "; ".join(dict.fromkeys(problem.to_do for problem in self.problems))

    @property
    def by_when(self) -> str:
        return f"before {self.day} {self.at:%H:%M}"

    @property
    def when(self) -> str:
        return f"{self.day:%a %d %b} {self.at:%H:%M}"

    @property
    def finding_keys(self) -> list[str]:
        """The keys of the findings (and their alerts) that say the same as this visit's problems."""
        return [f"{problem.kind}|{self.appointment_id}" for problem in self.problems]


def visits_between(engine: Engine, first: date, last: date, *, patient_names: bool = False) -> list[Visit]:
    """The scheduled appointments of `first` to `last` by day and time, each with its latest answer and what
    it means."""
    with session_scope(engine) as session:
        return visits_in(session, first, last, patient_names=patient_names)


def visits_in(session: Session, first: date, last: date, *, patient_names: bool = False) -> list[Visit]:
    """visits_between, in the caller's session."""
    appointments = appointments_between(session, first, last)
    ids = [a.appointment_id for a in appointments]
    checks, failed = checks_of(session, ids), failed_attempts(session, ELIGIBILITY_TASKS, ids)
    auths = list_authorizations(session)
    visits = []
    for appointment in appointments:
        answer = latest_answer(appointment, checks[appointment.appointment_id])
        problems = visit_problems(appointment, answer, auths, failed.get(appointment.appointment_id))
        left = None
        if answer is not None and answer.deductible is not None and answer.deductible_met is not None:
            left = max(answer.deductible - answer.deductible_met, Decimal("0.00"))
        visits.append(
            Visit(
                appointment.appointment_id,
                appointment.appointment_date,
                appointment.appointment_time,
                appointment.payer_id,
                appointment.rendering_npi,
                tuple(appointment.procedure_codes),
                answer.coverage.replace("_", " ") if answer else NOT_CHECKED,
                answer.plan_name if answer else None,
                answer.copay if answer else None,
                left,
                answer.checked_at if answer else None,
                answer.portal if answer else None,
                tuple(problems),
                answer.pdf_path if answer else None,
                appointment.patient_name if patient_names else None,
            )
        )
    return visits


def next_visit_days(today: date, times: CheckTimes) -> tuple[date, date]:
    """Tomorrow as the front desk means it: the days after today up to the next business day (a Friday's
    tomorrow runs to Monday, so a Saturday clinic is in it)."""
    return today + timedelta(days=1), times.next_business_day(today)


def visits_ahead(today: date, times: CheckTimes) -> tuple[date, date]:
    """What the summary and the Today page list: today's visits (re-checked that morning) and tomorrow's
    (checked the afternoon before): the 07:00 summary comes after the one check and before the other."""
    return today, times.next_business_day(today)


def with_problems(visits: Sequence[Visit], local_now: datetime | None = None) -> list[Visit]:
    """The visits with something to fix, leaving out those already begun at `local_now` (the practice's time)."""
    return [
        visit
        for visit in visits
        if visit.problems and (local_now is None or datetime.combine(visit.day, visit.at) > local_now)
    ]


def visits_table(visits: Sequence[Visit], name: str, *, patient_names: bool = False) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for v in visits:
        row: tuple[Cell, ...] = (
            v.appointment_id,
            v.day,
            f"{v.at:%H:%M}",
            v.payer_id,
            v.rendering_npi,
            " ".join(v.procedure_codes),
            v.coverage,
            v.plan_name,
            v.copay,
            v.deductible_left,
            v.checked_at,
            v.portal,
            v.problem_words or None,
            v.to_do or None,
        )
        rows.append((*row, v.patient_name) if patient_names else row)
    columns = (*VISIT_COLUMNS, PATIENT_NAME) if patient_names else VISIT_COLUMNS
    return Table(f"eligibility-{name}", f"Eligibility {name}", columns, rows)
