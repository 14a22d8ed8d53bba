"""`portal-worker report` as a person runs it: the list, a report printed, CSV and Excel written and read
back cell by cell, and every bad input refused with exit code 2 and nothing written."""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
from openpyxl import load_workbook

from store.db import create_schema
from tests import report_data
from tests.cli_support import Ran, portal_worker
from tests.conftest import Workspace


def report(ws: Workspace, *args: str) -> Ran:
    return portal_worker("-c", str(ws.config_path), "report", *args)


def aging_store(ws: Workspace) -> None:
    create_schema(ws.engine)
    report_data.aging_claims(ws.engine)


def test_without_a_name_it_lists_the_reports(workspace: Workspace) -> None:
    listed = report(workspace)
    assert listed.returncode == 0
    for name in ("ar-aging", "days-to-pay", "denials", "first-pass", "appeals", "exposure"):
        assert name in listed.stdout


def test_a_report_prints_its_tables_notes_and_definitions(workspace: Workspace) -> None:
    aging_store(workspace)
    shown = report(workspace, "ar-aging", "--to", "2026-12-01", "--payer", "UHP")
    assert shown.returncode == 0, shown.stderr
    assert "A/R aging (to 2026-12-01, payer UHP)" in shown.stdout
    assert "Open A/R by age and payer" in shown.stdout and "2,600.00" in shown.stdout
    assert "NWM" not in shown.stdout
    assert "Definitions" in shown.stdout and "Days in A/R: open A/R over" in shown.stdout
    empty = report(workspace, "appeals")
    assert empty.returncode == 0 and "no decisions recorded yet" in empty.stdout


def test_csv_has_the_main_table_and_excel_every_table(workspace: Workspace) -> None:
    aging_store(workspace)
    csv_path, xlsx_path = workspace.root / "aging.csv", workspace.root / "aging.xlsx"
    wrote = report(workspace, "ar-aging", "--to", "2026-12-01", "--csv", str(csv_path), "--xlsx", str(xlsx_path))
    assert wrote.returncode == 0, wrote.stderr
    assert "Wrote 'Open A/R by age and payer' (3 row(s))" in wrote.stdout and "go in --xlsx" in wrote.stdout

    with csv_path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["payer", "claims", "days_0_30", "days_31_60", "days_61_90", "days_91_120", "days_120_plus", "total"],
        ["NWM", "4", "100.00", "500.00", "400.00", "0.00", "0.00", "1000.00"],
        ["UHP", "4", "0.00", "0.00", "500.00", "1300.00", "800.00", "2600.00"],
        ["All payers", "8", "100.00", "500.00", "900.00", "1300.00", "800.00", "3600.00"],
    ]

    book = load_workbook(xlsx_path)
    assert book.sheetnames == ["Open A R by age and payer", "Days in A R"]
    aging = [[c.value for c in row] for row in book["Open A R by age and payer"].iter_rows()]
    assert aging[0] == [
        "Payer",
        "Open claims",
        "0-30 days",
        "31-60 days",
        "61-90 days",
        "91-120 days",
        "120+ days",
        "Total open",
    ]
    assert aging[1] == ["NWM", 4, 100, 500, 400, 0, 0, 1000]
    assert aging[3] == ["All payers", 8, 100, 500, 900, 1300, 800, 3600]
    assert book["Open A R by age and payer"]["C2"].number_format == "#,##0.00"
    days = [[c.value for c in row] for row in book["Days in A R"].iter_rows()]
    assert days[1] == [datetime(2026, 12, 1), 3600, 1800, 180]
    assert book["Days in A R"]["A2"].number_format == "yyyy-mm-dd"
    assert sorted(p.name for p in workspace.root.iterdir() if p.name.startswith(".aging")) == []  # no temp left


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("no-such-report",), "no report 'no-such-report'; choose one of: ar-aging, days-to-pay, denials"),
        (("denials", "--from", "2026-13-01"), "'2026-13-01' is not a date: write it as YYYY-MM-DD"),
        (("denials", "--from", "2026-12-01", "--to", "2026-11-01"), "--from 2026-12-01 is after --to 2026-11-01"),
        (("denials", "--payer", "ZZZ"), "no payer 'ZZZ'; configured payers: BBH, LSM, NWM, UHP"),
        (("denials", "--csv", "missing/out.csv"), "the folder"),
        (("denials", "--xlsx", "."), "is a folder: give a file name"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(workspace: Workspace, args: tuple[str, ...], said: str) -> None:
    out = workspace.root / "out.csv"
    argv = [a.replace("missing/", str(workspace.root / "missing") + "/") for a in args]
    if "--csv" not in argv and "--xlsx" not in argv:
        argv += ["--csv", str(out)]
    refused = report(workspace, *argv)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert said in " ".join(refused.stderr.replace("│", " ").split()), refused.stderr  # unwrapped from its panel
    assert "Traceback" not in refused.stderr
    assert not out.exists() and not (workspace.root / "missing").exists()
