"""Tomorrow's visits with problems as staff read them: the workspace's Today page and the daily summary (looked at
in Chromium at 1280 and 390 px, test-results/screenshots/today-visits-*.png and digest-visits-*.png). Appointment
ids, payers, problems and what to do; never a member id or date of birth, and a name only where turned on."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from flows.eligibility_check import sync_eligibility_findings
from store.db import session_scope
from store.models import Appointment, EligibilityCheck
from tests.cli_support import portal_worker
from tests.web_support import RunningWorkspace
from worker.delivery.notify import preview
from worker.settings import Settings

SHOTS = Path("test-results/screenshots")
NAME, MEMBER, BORN = "SPECIMEN, HAYDEN", "U555000111", date(1972, 3, 9)


def add_visits(engine: Engine, settings: Settings, now: datetime) -> date:
    """Three visits on the next business day: coverage ended, an authorization missing, and a clean one."""
    times = settings.schedule.eligibility.times
    today = now.astimezone(settings.worker.tzinfo).date()
    day = times.next_business_day(today)
    answers: dict[str, dict[str, Any]] = {
        "AP901": {
            "coverage": "inactive",
            "coverage_end": today - timedelta(days=3),
            "portal_words": "Coverage terminated",
        },
        "AP902": {"coverage": "active", "auth_required_codes": ["97110"], "portal_words": "Active; auth required"},
        "AP903": {"coverage": "active", "portal_words": "Active coverage"},
    }
    with session_scope(engine) as session:
        for n, (appointment_id, answer) in enumerate(answers.items()):
            session.add(
                Appointment(
                    appointment_id=appointment_id,
                    appointment_date=day,
                    appointment_time=time(9 + n, 30),
                    patient_name=NAME,
                    date_of_birth=BORN,
                    member_id=MEMBER,
                    payer_id="UHP",
                    rendering_npi="1234567893",
                    procedure_codes=["99213", "97110"],
                    imported_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            session.add(
                EligibilityCheck(
                    appointment_id=appointment_id,
                    checked_on=today,
                    service_date=day,
                    checked_at=now,
                    portal="unity",
                    run_id="r1",
                    payer_id="UHP",
                    member_id=MEMBER,
                    plan_name="Unity Advantage PPO",
                    **answer,
                )
            )
    sync_eligibility_findings(engine, today, now)
    return day


def test_the_today_page_lists_tomorrows_visits_with_problems(empty_web: RunningWorkspace, page: Page) -> None:
    day = add_visits(empty_web.engine, empty_web.settings, empty_web.clock())

    empty_web.login(page, "front_desk")
    page.goto(empty_web.url + "/")

    visits = page.get_by_role("region", name="Tomorrow's visits with problems")
    rows = visits.locator("tbody tr")
    expect(rows).to_have_count(2)  # AP903's answer was clean
    expect(rows.nth(0)).to_contain_text("AP901")
    expect(rows.nth(0)).to_contain_text("coverage inactive")
    expect(rows.nth(0)).to_contain_text("confirm the patient's insurance")
    expect(rows.nth(0)).to_contain_text(f"before {day} 09:30")
    expect(rows.nth(1)).to_contain_text("prior authorization required for 97110 and none is on file")
    shown = page.content()
    for secret in (NAME, "SPECIMEN", MEMBER, BORN.isoformat()):
        assert secret not in shown
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"today-visits-{width}.png"), full_page=True)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def test_the_daily_summary_lists_them_once_for_the_front_desk(empty_web: RunningWorkspace, page: Page) -> None:
    now = datetime.now(UTC)
    day = add_visits(empty_web.engine, empty_web.settings, now)

    [summary] = preview(empty_web.settings, empty_web.engine, now)

    text, html = summary.text, summary.html
    section = text[text.index("TOMORROW'S VISITS WITH PROBLEMS: 2") :]
    assert "appointment AP901 (UHP): coverage inactive" in section
    assert f"before {day} 10:30)" in section  # AP902's time
    assert "AP903" not in text
    assert "Appointment AP901" not in text  # its alert is the visit's line, not listed a second time
    for secret in (NAME, "SPECIMEN", MEMBER, BORN.isoformat()):
        assert secret not in text and secret not in html
    page.set_content(html)
    expect(page.get_by_text("Tomorrow's visits with problems: 2")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.set_content(html)
        page.screenshot(path=str(SHOTS / f"digest-visits-{width}.png"), full_page=True)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def test_the_eligibility_command_lists_and_exports_the_days_visits(empty_web: RunningWorkspace, tmp_path: Path) -> None:
    day = add_visits(empty_web.engine, empty_web.settings, datetime.now(UTC))
    config = str(empty_web.config_path)

    shown = portal_worker("-c", config, "eligibility", "--date", day.isoformat())
    assert shown.returncode == 0, shown.stderr
    assert "3 appointment(s), 2 with problems to fix before the visit" in shown.stdout
    assert "AP901" in shown.stdout and "AP903" in shown.stdout

    exported = portal_worker("-c", config, "eligibility", "--date", day.isoformat(), "--csv", str(tmp_path / "v.csv"))
    assert exported.returncode == 0, exported.stderr
    with (tmp_path / "v.csv").open(newline="", encoding="utf-8") as file:
        table = list(csv.DictReader(file))
    assert [row["appointment"] for row in table] == ["AP901", "AP902", "AP903"]
    assert "patient_name" not in table[0] and "member_id" not in table[0]
    assert table[0]["coverage"] == "inactive" and "confirm the patient's insurance" in table[0]["to_do"]
    assert table[2]["problems"] == "" and table[2]["copay"] == ""
    for secret in (NAME, MEMBER, BORN.isoformat()):
        assert secret not in shown.stdout + (tmp_path / "v.csv").read_text()
