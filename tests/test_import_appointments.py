"""The schedule export (appointments) import: all or nothing, every problem by row and column, no PHI echoed,
and a newer export's days replacing an older one's (rescheduled, cancelled, back on the schedule)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from fake_portal.data import npi_with_check_digit
from flows.appointment_import import AppointmentRecord, import_appointments_file
from flows.csv_rows import ImportRejected
from flows.eligibility_check import sync_eligibility_findings
from store.appointments import appointments_between, get_appointment
from store.db import create_schema, make_engine, session_scope
from store.models import EligibilityCheck, Finding
from tests.csv_support import make_install
from tests.test_import_programs import write_csv
from worker.settings import Settings

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
MONDAY = date(2026, 11, 2)
NPI = npi_with_check_digit("123456789")
COLUMNS = [
    "appointment_id",
    "appointment_date",
    "appointment_time",
    "patient_name",
    "date_of_birth",
    "member_id",
    "payer_id",
    "rendering_npi",
    "procedure_codes",
    "auth_number",
]
SECRET_NAME, SECRET_MEMBER, SECRET_BIRTH = "Zebulon Quarterfield", "QX77123456", "1961-04-17"


def rows(count: int = 4, day: date = MONDAY + timedelta(days=1)) -> list[dict[str, str]]:
    return [
        {
            "appointment_id": f"AP{i:04d}",
            "appointment_date": day.isoformat(),
            "appointment_time": f"{8 + i:02d}:30",
            "patient_name": f"Synthetic Patient {i}",
            "date_of_birth": f"19{50 + i}-0{1 + i % 9}-1{i % 9}",
            "member_id": f"M{i:08d}",
            "payer_id": "UHP",
            "rendering_npi": NPI,
            "procedure_codes": "99213;97110" if i % 2 else "99214",
            "auth_number": f"PA{i:05d}" if i == 3 else "",
        }
        for i in range(1, count + 1)
    ]


def write(path: Path, data: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    return write_csv(path, data, columns or COLUMNS)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'worker.db'}")
    create_schema(engine)
    return engine


def stored(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        return [
            a.model_dump() for a in appointments_between(session, date(2000, 1, 1), date(2100, 1, 1), cancelled=True)
        ]


def test_a_schedule_export_imports_every_field(engine: Engine, tmp_path: Path) -> None:
    counts = import_appointments_file(engine, write(tmp_path / "appointments.csv", rows()), NOW)

    assert (counts.inserted, counts.updated, counts.unchanged, counts.cancelled) == (4, 0, 0, 0)
    with session_scope(engine) as session:
        third = get_appointment(session, "AP0003")
        assert third is not None
        assert (third.appointment_date, third.appointment_time) == (date(2026, 11, 3), time(11, 30))
        assert (third.patient_name, third.date_of_birth, third.member_id) == (
            "Synthetic Patient 3",
            date(1953, 4, 13),  # born before 2000: a date of birth has its own bounds
            "M00000003",
        )
        assert (third.payer_id, third.rendering_npi, third.procedure_codes) == ("UHP", NPI, ["99213", "97110"])
        assert (third.auth_number, third.status) == ("PA00003", "scheduled")
        second = get_appointment(session, "AP0002")
        assert second is not None and second.auth_number is None


def test_a_newer_export_reschedules_cancels_and_restores_within_the_days_it_covers(
    engine: Engine, tmp_path: Path
) -> None:
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    first = [*rows(4, tuesday), {**rows(1, wednesday)[0], "appointment_id": "AP0100"}]
    import_appointments_file(engine, write(tmp_path / "first.csv", first), NOW)

    # Tuesday only: AP0002 moved to 15:45, AP0004 gone; Wednesday's AP0100 is outside this file's days
    second = [row for row in rows(4, tuesday) if row["appointment_id"] != "AP0004"]
    second[1]["appointment_time"] = "15:45"
    counts = import_appointments_file(engine, write(tmp_path / "second.csv", second), NOW + timedelta(hours=2))

    assert (counts.inserted, counts.updated, counts.unchanged, counts.cancelled) == (0, 1, 2, 1)
    assert (counts.first_day, counts.last_day) == (tuesday, tuesday)
    by_id = {a["appointment_id"]: a for a in stored(engine)}
    assert by_id["AP0002"]["appointment_time"] == time(15, 45)
    assert by_id["AP0004"]["status"] == "cancelled"
    assert by_id["AP0100"]["status"] == "scheduled"

    counts = import_appointments_file(engine, write(tmp_path / "third.csv", rows(4, tuesday)), NOW + timedelta(hours=3))
    assert (counts.restored, counts.cancelled) == (1, 0)
    assert {a["appointment_id"]: a["status"] for a in stored(engine)}["AP0004"] == "scheduled"


def test_reimporting_the_same_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "appointments.csv", rows())
    import_appointments_file(engine, path, NOW)
    before = stored(engine)

    counts = import_appointments_file(engine, path, NOW + timedelta(hours=1))

    assert (counts.inserted, counts.updated, counts.unchanged, counts.cancelled, counts.restored) == (0, 0, 4, 0, 0)
    assert stored(engine) == before


def test_a_bad_file_is_rejected_whole_with_every_problem_named_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    import_appointments_file(engine, write(tmp_path / "good.csv", rows()), NOW)
    before = stored(engine)
    bad = rows(6)
    bad[0]["appointment_time"] = "25:00"
    bad[1]["date_of_birth"] = "2031-01-01"  # in the future
    bad[2]["rendering_npi"] = "1234567890"
    bad[3]["procedure_codes"] = ""
    bad[4]["appointment_date"] = "next tuesday"
    bad[5]["appointment_id"] = "AP0001"  # twice
    bad[1]["member_id"] = ""

    with pytest.raises(ImportRejected) as rejected:
        import_appointments_file(engine, write(tmp_path / "bad.csv", bad), NOW + timedelta(hours=1))

    where = {(p.row, p.column) for p in rejected.value.problems}
    assert where == {
        (2, "appointment_time"),
        (3, "date_of_birth"),
        (3, "member_id"),
        (4, "rendering_npi"),
        (5, "procedure_codes"),
        (6, "appointment_date"),
        (7, "appointment_id"),
    }
    text = str(rejected.value)
    assert "bad.csv, row 2, column appointment_time: 25:00 is not a time of day" in text
    assert "bad.csv, row 3, column date_of_birth: is in the future" in text
    assert "AP0001 appears more than once (rows 2 and 7)" in text
    assert stored(engine) == before


def test_a_file_without_a_required_column_is_rejected(engine: Engine, tmp_path: Path) -> None:
    columns = [c for c in COLUMNS if c != "date_of_birth"]
    with pytest.raises(ImportRejected, match="row 1, column date_of_birth: required column is missing"):
        import_appointments_file(engine, write(tmp_path / "a.csv", rows(), columns), NOW)
    assert stored(engine) == []


def test_problems_never_show_names_member_ids_or_dates_of_birth(engine: Engine, tmp_path: Path) -> None:
    bad = rows(1)
    bad[0].update(patient_name=f"{SECRET_NAME}\x07", member_id=f"{SECRET_MEMBER}\x00", date_of_birth="17/04/1961")
    with pytest.raises(ImportRejected) as rejected:
        import_appointments_file(engine, write(tmp_path / "phi.csv", bad), NOW)
    text = str(rejected.value)
    assert {p.column for p in rejected.value.problems} == {"patient_name", "member_id", "date_of_birth"}
    for secret in (SECRET_NAME, SECRET_MEMBER, "1961", "17/04"):
        assert secret not in text


def test_records_keep_phi_out_of_their_repr() -> None:
    record = AppointmentRecord(
        "AP1", MONDAY, time(9), SECRET_NAME, date(1961, 4, 17), SECRET_MEMBER, "UHP", NPI, ("99213",)
    )
    assert SECRET_NAME not in repr(record) and SECRET_MEMBER not in repr(record) and "1961" not in repr(record)


def test_the_import_command_says_what_it_did_and_refuses_a_bad_file(tmp_path: Path) -> None:
    install = make_install(tmp_path)
    tomorrow = date.today() + timedelta(days=1)
    good = install.csv("appointments.csv", tuple(COLUMNS), rows(3, tomorrow))

    ran = install.run("import", "appointments", str(good))

    assert ran.returncode == 0, ran.stderr
    assert f"Imported appointments.csv ({tomorrow} to {tomorrow}): 3 new, 0 updated" in ran.stdout
    bad_rows = rows(3, tomorrow)
    bad_rows[1]["payer_id"] = ""
    bad = install.csv("bad.csv", tuple(COLUMNS), bad_rows)
    ran = install.run("import", "appointments", str(bad))
    assert ran.returncode != 0
    assert "bad.csv, row 3, column payer_id: is empty" in ran.stderr


def test_check_by_hand_takes_a_date_only_for_eligibility_and_only_a_real_one(tmp_path: Path) -> None:
    install = make_install(tmp_path)

    alone = install.run("check", "--date", "2026-11-03")
    assert alone.returncode != 0 and "--date goes with --what eligibility" in alone.stderr
    garbled = install.run("check", "--what", "eligibility", "--date", "03/11/2026")
    assert garbled.returncode != 0 and "is not a date: write it as YYYY-MM-DD" in garbled.stderr
    unknown = install.run("check", "--what", "visits")
    assert unknown.returncode != 0 and "choose from claims, auths, providers, eligibility" in unknown.stderr


def test_a_visit_cancelled_by_a_newer_export_has_its_findings_closed(tmp_path: Path) -> None:
    install = make_install(tmp_path)
    tomorrow = date.today() + timedelta(days=1)
    assert (
        install.run("import", "appointments", str(install.csv("a.csv", tuple(COLUMNS), rows(3, tomorrow)))).returncode
        == 0
    )
    engine = make_engine(Settings.load(install.config).database_url())
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(
            EligibilityCheck(
                appointment_id="AP0002",
                checked_on=date.today(),
                service_date=tomorrow,
                checked_at=now,
                portal="unity",
                run_id="r1",
                payer_id="UHP",
                coverage="inactive",
                portal_words="Coverage terminated",
            )
        )
    sync_eligibility_findings(engine, date.today(), now)
    assert open_kinds(engine) == {("coverage_inactive", "AP0002")}

    newer = [row for row in rows(3, tomorrow) if row["appointment_id"] != "AP0002"]
    ran = install.run("import", "appointments", str(install.csv("b.csv", tuple(COLUMNS), newer)))

    assert ran.returncode == 0 and "1 cancelled" in ran.stdout
    assert open_kinds(engine) == set()


def open_kinds(engine: Engine) -> set[tuple[str, str]]:
    with session_scope(engine) as session:
        return {(f.kind, f.subject) for f in session.exec(select(Finding).where(Finding.status == "open"))}
