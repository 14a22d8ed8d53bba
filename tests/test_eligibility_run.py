"""The eligibility check end to end: real Chromium, the three fake portals, the fake clock, the engine `check` and
`run` share. The day-before job at its time and not twice, each scenario's one finding, the 06:30 re-check
catching coverage that ended overnight, the PDF evidence, a portal that stays down, and what staff read."""

from __future__ import annotations

import os
import stat
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser
from pypdf import PdfReader
from sqlmodel import Session, select

from flows.appointment_import import import_appointments_file
from flows.auth_import import import_auths_file
from flows.eligibility import (
    COVERAGE_INACTIVE,
    ELIGIBILITY_FINDINGS,
    ELIGIBILITY_UNCHECKED,
    OTHER_INSURANCE_PRIMARY,
    OUT_OF_NETWORK,
    PAYER_CHANGED,
    VISIT_AUTH_MISSING,
)
from store.db import create_schema
from store.models import Appointment, EligibilityCheck, Evidence, Finding
from tests.cli_support import portal_worker
from tests.conftest import Workspace
from tests.run_support import PortalClock
from worker.clock import utcnow
from worker.runtime.check import Check, RunReport
from worker.runtime.jobs import JobSpec, job_specs
from worker.runtime.scheduler import Enqueuer

pytestmark = pytest.mark.browser

START = date(2026, 11, 2)  # a Monday: the fake practice's visits with every scenario are on Tuesday
TUESDAY = START + timedelta(days=1)
SCENARIO_FINDING = {
    "active": None,
    "coverage_ended": COVERAGE_INACTIVE,
    "plan_change_member": PAYER_CHANGED,
    "plan_change_payer": PAYER_CHANGED,
    "other_primary": OTHER_INSURANCE_PRIMARY,
    "auth_required_none": VISIT_AUTH_MISSING,
    "auth_required_wrong_code": VISIT_AUTH_MISSING,
    "out_of_network": OUT_OF_NETWORK,
    "dob_mismatch": COVERAGE_INACTIVE,
    "ended_overnight": None,  # still active the afternoon before
}
NO_JITTER = "\n[schedule.eligibility]\njitter_seconds = 0\n"


def import_schedule(ws: Workspace) -> dict[str, dict[str, str]]:
    """The PM system's schedule and authorizations, imported; each appointment's scenario, by id."""
    create_schema(ws.engine)
    for name, importer in (("auths", import_auths_file), ("appointments", import_appointments_file)):
        path = ws.root / f"{name}.csv"
        path.write_bytes(httpx.get(f"{ws.portal.url}/pms/{name}.csv", timeout=10).content)
        importer(ws.engine, path, utcnow())
    return {a["appointment_id"]: a for a in ws.portal.admin("appointments")["appointments"]}


def clock_at(ws: Workspace, day: date, at: time) -> PortalClock:
    """The practice's clock at `at` on `day`; the fake portal's stays at the start (noon Monday) until moved."""
    return PortalClock(ws.portal, datetime.combine(day, at), ws.settings.worker.tzinfo)


def eligibility_job(ws: Workspace) -> JobSpec:
    return next(spec for spec in job_specs(ws.settings) if spec.job == "eligibility")


def check(ws: Workspace, browser: Browser, clock: PortalClock, **kwargs: object) -> RunReport:
    return Check(ws.settings, credentials=ws.credentials, clock=clock, browser=browser).run(
        what=("eligibility",),
        **kwargs,  # type: ignore[arg-type]
    )


def open_findings(ws: Workspace) -> set[tuple[str, str]]:
    with Session(ws.engine) as session:
        query = select(Finding).where(Finding.status == "open")
        return {(f.kind, f.subject) for f in session.exec(query) if f.kind in ELIGIBILITY_FINDINGS}


def checks(ws: Workspace) -> list[EligibilityCheck]:
    with Session(ws.engine) as session:
        return list(session.exec(select(EligibilityCheck)))


def expected_findings(scenarios: dict[str, dict[str, str]], day: str, overnight: bool) -> set[tuple[str, str]]:
    found = set()
    for appointment_id, row in scenarios.items():
        kind = SCENARIO_FINDING[row["scenario"]] if row["appointment_date"] == day else None
        if row["scenario"] == "ended_overnight" and overnight:
            kind = COVERAGE_INACTIVE
        if kind:
            found.add((kind, appointment_id))
    return found


def test_the_day_before_check_runs_at_its_time_once_and_the_morning_recheck_catches_an_overnight_end(
    workspace: Workspace, browser: Browser
) -> None:
    workspace.config_path.write_text(workspace.config_path.read_text() + NO_JITTER)
    scenarios = import_schedule(workspace)
    tuesdays = sorted(a for a, row in scenarios.items() if row["appointment_date"] == TUESDAY.isoformat())
    assert len({scenarios[a]["portal"] for a in tuesdays}) == 3
    spec = eligibility_job(workspace)
    monday_noon = clock_at(workspace, START, time(12, 0))
    fires = [spec.trigger.get_next_fire_time(None, monday_noon())]
    for _ in range(2):
        fires.append(spec.trigger.get_next_fire_time(fires[-1], fires[-1] + timedelta(seconds=1)))
    tz = workspace.settings.worker.tzinfo
    assert [f.astimezone(tz).replace(tzinfo=None) for f in fires] == [
        datetime(2026, 11, 2, 16, 0),
        datetime(2026, 11, 3, 6, 30),
        datetime(2026, 11, 3, 16, 0),
    ]

    # 15:59: nothing is due yet; 16:00: every one of Tuesday's visits, once, however often the job runs
    assert Enqueuer(workspace.settings, workspace.engine, clock_at(workspace, START, time(15, 59))).run_job(spec) == 0
    four = clock_at(workspace, START, time(16, 0))
    assert Enqueuer(workspace.settings, workspace.engine, four).run_job(spec) == len(tuesdays)
    assert Enqueuer(workspace.settings, workspace.engine, four).run_job(spec) == 0

    report = check(workspace, browser, four)

    assert all(r.problem is None for r in report.portals), [r.problem for r in report.portals]
    assert sum(r.eligibility_checked for r in report.portals) == len(tuesdays)
    stored = checks(workspace)
    assert sorted(c.appointment_id for c in stored) == tuesdays
    assert {(c.checked_on, c.service_date) for c in stored} == {(START, TUESDAY)}
    assert open_findings(workspace) == expected_findings(scenarios, TUESDAY.isoformat(), overnight=False)
    assert_findings_name_no_patient(workspace)
    assert_the_confirmations_open(workspace, stored)

    # the job again at 16:30, and `check` again: each appointment was checked today, nothing asks the portal
    requests = workspace.portal.admin("state")["requests"]
    half_past = clock_at(workspace, START, time(16, 30))
    assert Enqueuer(workspace.settings, workspace.engine, half_past).run_job(spec) == 0
    again = check(workspace, browser, half_past)
    assert sum(r.eligibility_checked for r in again.portals) == 0
    assert workspace.portal.admin("state")["requests"] == requests
    assert len(checks(workspace)) == len(tuesdays)

    # 06:30 on Tuesday (the portals' clock moved too): the same-day re-check finds the coverage that ended overnight
    morning = clock_at(workspace, START, time(12, 0))
    morning.advance(hours=18.5)
    assert Enqueuer(workspace.settings, workspace.engine, morning).run_job(spec) == len(tuesdays)
    check(workspace, browser, morning)

    assert Counter(c.checked_on for c in checks(workspace)) == {START: len(tuesdays), TUESDAY: len(tuesdays)}
    assert open_findings(workspace) == expected_findings(scenarios, TUESDAY.isoformat(), overnight=True)

    ran = portal_worker("-c", str(workspace.config_path), "eligibility", "--date", TUESDAY.isoformat())
    assert ran.returncode == 0, ran.stderr
    overnight = next(a for a in tuesdays if scenarios[a]["scenario"] == "ended_overnight")
    assert overnight in ran.stdout and "inactive" in ran.stdout
    problems = len({subject for _, subject in expected_findings(scenarios, TUESDAY.isoformat(), overnight=True)})
    assert f"{len(tuesdays)} appointment(s), {problems} with problems to fix before the visit" in ran.stdout
    assert_no_patient_data(workspace, ran.stdout)


def test_a_portal_down_until_the_visit_leaves_a_finding_that_the_check_could_not_be_done(
    workspace: Workspace, browser: Browser
) -> None:
    scenarios = import_schedule(workspace)
    workspace.portal.admin("faults/commercial", {"maintenance": True})

    report = check(workspace, browser, clock_at(workspace, START, time(16, 0)))

    unity = next(r for r in report.portals if r.portal == "unity")
    assert unity.problem and unity.eligibility_checked == 0
    on_unity = {
        a
        for a, row in scenarios.items()
        if row["portal"] == "commercial" and row["appointment_date"] == TUESDAY.isoformat()
    }
    unchecked = {subject for kind, subject in open_findings(workspace) if kind == ELIGIBILITY_UNCHECKED}
    assert unchecked and unchecked <= on_unity
    with Session(workspace.engine) as session:
        messages = [f.message for f in session.exec(select(Finding).where(Finding.kind == ELIGIBILITY_UNCHECKED))]
    assert all("the eligibility check could not be done" in m and "verify coverage by phone" in m for m in messages)
    # the other portals' visits were checked and carry their own findings
    assert {c.portal for c in checks(workspace)} == {"summit", "lakeshore"}


def assert_findings_name_no_patient(ws: Workspace) -> None:
    with Session(ws.engine) as session:
        messages = " ".join(f.message for f in session.exec(select(Finding)))
    assert_no_patient_data(ws, messages)


def assert_no_patient_data(ws: Workspace, text: str) -> None:
    with Session(ws.engine) as session:
        appointments = list(session.exec(select(Appointment)))
    for appointment in appointments:
        assert appointment.member_id not in text
        assert appointment.patient_name not in text and appointment.patient_name.split(", ")[0] not in text
        assert appointment.date_of_birth.isoformat() not in text


def assert_the_confirmations_open(ws: Workspace, stored: list[EligibilityCheck]) -> None:
    """Each answer is kept as a screenshot and the page printed as PDF, private, and the PDF has a page."""
    with Session(ws.engine) as session:
        evidence = {e.id: e for e in session.exec(select(Evidence))}
    for answer in stored:
        assert answer.pdf_path and answer.evidence_id in evidence
        pdf = Path(answer.pdf_path)
        assert stat.S_IMODE(os.stat(pdf).st_mode) == 0o600
        pages = PdfReader(pdf).pages
        assert len(pages) >= 1 and pages[0].extract_text().strip()  # a printed page, with the answer's text
        shot = evidence[answer.evidence_id].screenshot_path
        assert shot and Path(shot).read_bytes().startswith(b"\x89PNG")
