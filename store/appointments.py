"""The practice's appointments (from its PM system's schedule export) and what portals answered about their
coverage: import, look-ups by day, and each day's eligibility check of an appointment."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from store.claims import upsert_pm_records
from store.models import Appointment, EligibilityCheck, Evidence, Task
from store.pages import in_chunks

PM_FIELDS = (
    "appointment_date",
    "appointment_time",
    "patient_name",
    "date_of_birth",
    "member_id",
    "payer_id",
    "rendering_npi",
    "procedure_codes",
    "auth_number",
)
SCHEDULED, CANCELLED = "scheduled", "cancelled"


@dataclass(frozen=True)
class AppointmentImport:
    inserted: int
    updated: int
    unchanged: int
    cancelled: int  # stored for a day the file covers, and no longer in it
    restored: int  # cancelled by an earlier file, listed again
    first_day: date
    last_day: date


def import_appointments(
    session: Session, records: Sequence[Any], now: datetime, keep: Collection[str] = ()
) -> AppointmentImport:
    """Upsert the file's appointments and cancel the ones of its days it no longer lists (module docstring of
    flows.appointment_import), in the caller's transaction. `records` are flows.appointment_import records."""
    stamp = now.astimezone(UTC)
    listed = {record.appointment_id for record in records}
    first = min(record.appointment_date for record in records)
    last = max(record.appointment_date for record in records)
    counts = upsert_pm_records(session, Appointment, "appointment_id", PM_FIELDS, records, now, keep)
    restored = cancelled = 0
    for chunk in in_chunks(sorted(listed)):
        query = select(Appointment).where(col(Appointment.appointment_id).in_(chunk), Appointment.status != SCHEDULED)
        for appointment in session.exec(query):
            appointment.status, appointment.updated_at = SCHEDULED, stamp
            session.add(appointment)
            restored += 1
    covered = select(Appointment).where(
        col(Appointment.appointment_date).between(first, last), Appointment.status == SCHEDULED
    )
    for appointment in session.exec(covered):
        if appointment.appointment_id not in listed:
            appointment.status, appointment.updated_at = CANCELLED, stamp
            session.add(appointment)
            cancelled += 1
    session.flush()
    return AppointmentImport(counts.inserted, counts.updated, counts.unchanged, cancelled, restored, first, last)


def get_appointment(session: Session, appointment_id: str) -> Appointment | None:
    return session.get(Appointment, appointment_id)


def appointments_between(session: Session, first: date, last: date, *, cancelled: bool = False) -> list[Appointment]:
    """The appointments from `first` to `last` (inclusive), by day and time; cancelled ones only when asked."""
    query = select(Appointment).where(col(Appointment.appointment_date).between(first, last))
    if not cancelled:
        query = query.where(Appointment.status == SCHEDULED)
    ordered = query.order_by(
        col(Appointment.appointment_date), col(Appointment.appointment_time), col(Appointment.appointment_id)
    )
    return list(session.exec(ordered))


def checks_of(session: Session, appointment_ids: Collection[str]) -> dict[str, list[EligibilityCheck]]:
    """Every eligibility check of these appointments, oldest first, by appointment id."""
    found: dict[str, list[EligibilityCheck]] = {appointment_id: [] for appointment_id in appointment_ids}
    for chunk in in_chunks(sorted(appointment_ids)):
        query = (
            select(EligibilityCheck)
            .where(col(EligibilityCheck.appointment_id).in_(chunk))
            .order_by(col(EligibilityCheck.checked_at), col(EligibilityCheck.id))
        )
        for check in session.exec(query):
            found[check.appointment_id].append(check)
    return found


def check_on(session: Session, appointment_id: str, checked_on: date) -> EligibilityCheck | None:
    """The appointment's check of that practice day, if it was checked then."""
    query = select(EligibilityCheck).where(
        EligibilityCheck.appointment_id == appointment_id, EligibilityCheck.checked_on == checked_on
    )
    return session.exec(query).first()


def record_check(session: Session, check: EligibilityCheck, evidence: Evidence | None) -> EligibilityCheck:
    """Store the day's check of an appointment with its evidence, replacing a check of the same day (a forced
    re-check): one row per appointment per day, whatever the retries."""
    if evidence is not None:
        session.add(evidence)
        session.flush()
        check.evidence_id = evidence.id
    earlier = check_on(session, check.appointment_id, check.checked_on)
    if earlier is not None:
        check.id = earlier.id
        check = session.merge(check)
    session.add(check)
    session.flush()
    return check


def failed_attempts(session: Session, kind: str, targets: Collection[str]) -> dict[str, str]:
    """target -> the last error of its open or parked task of `kind` that failed (waiting to retry, or given up)."""
    found: dict[str, str] = {}
    for chunk in in_chunks(sorted(targets)):
        query = (
            select(Task)
            .where(
                Task.kind == kind,
                col(Task.target).in_(chunk),
                col(Task.last_error).is_not(None),
                col(Task.state).in_(("queued", "failed")),
            )
            .order_by(col(Task.id))
        )
        for task in session.exec(query):
            found[task.target] = task.last_error or ""
    return found


def checked_on(session: Session, appointment_ids: Collection[str], day: date) -> set[str]:
    """Which of these appointments were checked on the practice day `day`."""
    found: set[str] = set()
    for chunk in in_chunks(sorted(appointment_ids)):
        query = select(EligibilityCheck.appointment_id).where(
            col(EligibilityCheck.appointment_id).in_(chunk), EligibilityCheck.checked_on == day
        )
        found.update(session.exec(query))
    return found
