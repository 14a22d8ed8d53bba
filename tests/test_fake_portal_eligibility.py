"""The fake practice's appointments: the PM schedule export, its determinism, and which scenario each shows."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

import httpx

from fake_portal.appointments import ELIGIBILITY_SCENARIOS, generate_schedule, next_business_days
from fake_portal.cli import main as fake_portal_main
from fake_portal.data import generate
from fake_portal.launcher import RunningPortal
from fake_portal.programs import generate_programs, pms_auth_rows

START = date(2026, 11, 2)  # a Monday: the fake portal's start date in tests/conftest.py
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


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_has_exactly_the_agreed_columns(fake_portal: RunningPortal) -> None:
    response = httpx.get(f"{fake_portal.url}/pms/appointments.csv", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0].split(",") == COLUMNS
    rows = csv_rows(response.text)
    assert len({r["appointment_id"] for r in rows}) == len(rows)
    assert all(r["appointment_id"].startswith("AP") and r["appointment_id"][2:].isdigit() for r in rows)
    days = next_business_days(START, 3)
    assert {date.fromisoformat(r["appointment_date"]) for r in rows} == set(days)
    for row in rows:
        assert len(row["appointment_time"]) == 5 and row["appointment_time"][2] == ":"
        date.fromisoformat(row["date_of_birth"])
        assert row["payer_id"] in {"NWM", "BBH", "UHP", "LSM"}
        assert len(row["rendering_npi"]) == 10 and row["rendering_npi"].isdigit()
        assert all(code.isdigit() and len(code) == 5 for code in row["procedure_codes"].split(";"))


def test_the_same_seed_gives_the_same_appointments_whatever_the_clock(fake_portal: RunningPortal) -> None:
    first = httpx.get(f"{fake_portal.url}/pms/appointments.csv", timeout=10).text
    fake_portal.admin("clock", {"days": 1, "hours": 18})
    assert httpx.get(f"{fake_portal.url}/pms/appointments.csv", timeout=10).text == first
    dataset = generate(seed=7, start=START)
    again = generate_schedule(dataset, generate_programs(dataset, 7), 7)
    assert [r["appointment_id"] for r in csv_rows(first)] == [a.appointment_id for a in again.appointments]
    other = generate(seed=8, start=START)
    assert generate_schedule(other, generate_programs(other, 8), 8).appointments != again.appointments


def test_the_cli_writes_the_same_export(fake_portal: RunningPortal, tmp_path: object) -> None:
    out = f"{tmp_path}/appointments.csv"
    assert fake_portal_main(["export", "--what", "appointments", "--start-date", START.isoformat(), "--out", out]) == 0
    with open(out, newline="") as written:
        exported = written.read()
    assert exported.replace("\r\n", "\n") == httpx.get(
        f"{fake_portal.url}/pms/appointments.csv", timeout=10
    ).text.replace("\r\n", "\n")


def test_the_admin_route_names_every_scenario_on_every_portal_tomorrow(fake_portal: RunningPortal) -> None:
    listed = fake_portal.admin("appointments")["appointments"]
    rows = {r["appointment_id"]: r for r in csv_rows(httpx.get(f"{fake_portal.url}/pms/appointments.csv").text)}
    assert [a["appointment_id"] for a in listed] == list(rows)
    assert set(listed[0]) == {"appointment_id", "appointment_date", "payer_id", "portal", "scenario"}
    tomorrow = next_business_days(START, 1)[0].isoformat()
    seen = {(a["portal"], a["scenario"]) for a in listed if a["appointment_date"] == tomorrow}
    for portal in ("clearinghouse", "commercial", "medicaid"):
        expected = set(ELIGIBILITY_SCENARIOS) - ({"auth_required_wrong_code"} if portal == "clearinghouse" else set())
        assert {s for p, s in seen if p == portal} == expected, portal
    assert Counter(a["portal"] for a in listed if a["appointment_date"] == tomorrow) == {
        "clearinghouse": 9,
        "commercial": 10,
        "medicaid": 10,
    }
    # The admin route carries ids, never a member id or a date of birth.
    assert all(row["member_id"] not in str(listed) for row in rows.values())


def test_a_wrong_code_authorization_is_on_the_auth_export_and_does_not_cover_the_planned_code(
    fake_portal: RunningPortal,
) -> None:
    listed = fake_portal.admin("appointments")["appointments"]
    rows = {r["appointment_id"]: r for r in csv_rows(httpx.get(f"{fake_portal.url}/pms/appointments.csv").text)}
    auths = {r["auth_number"]: r for r in csv_rows(httpx.get(f"{fake_portal.url}/pms/auths.csv").text)}
    wrong = [rows[a["appointment_id"]] for a in listed if a["scenario"] == "auth_required_wrong_code"]
    assert {r["payer_id"] for r in wrong} == {"UHP", "LSM"}
    for row in wrong:
        auth = auths[row["auth_number"]]
        assert (auth["payer_id"], auth["member_id"]) == (row["payer_id"], row["member_id"])
        assert not set(row["procedure_codes"].split(";")) & set(auth["procedure_codes"].split(";"))
        assert auth["start_date"] <= row["appointment_date"] <= auth["end_date"]
    without = [rows[a["appointment_id"]] for a in listed if a["scenario"] != "auth_required_wrong_code"]
    assert all(r["auth_number"] == "" for r in without)
    dataset = generate(seed=7, start=START)
    assert len(pms_auth_rows(generate_programs(dataset, 7))) == len(auths)  # no authorization added for it
