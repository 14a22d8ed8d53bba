"""`portal-worker import era` on the files that once went wrong, and what the store and worklist then say.

Each test runs the command a person runs (in this process, through the CLI's command group) against a
workspace configured for the fake portals; fixtures are synthetic 835s in tests/data/era.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from flows.claim_states import ClaimState
from flows.denials import record_portal_result
from flows.remittances import fetch_new_remittances
from portals.types import Adjustment, ClaimStatusResult, RemittanceFile
from store.db import session_scope
from store.denials import list_denials
from store.models import Claim, ClaimStatusObservation, EraFile, EraProviderAdjustment
from store.observations import mark_checked, record_observation
from tests.cli_support import Ran, portal_worker
from tests.conftest import Workspace

SAMPLES = Path(__file__).parent / "data" / "era"
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def cli(ws: Workspace, *args: str) -> Ran:
    return portal_worker("-c", str(ws.config_path), *args, env={"COLUMNS": "200"})


def import_sample(ws: Workspace, name: str) -> Ran:
    path = ws.root / name
    shutil.copyfile(SAMPLES / name, path)
    return cli(ws, "import", "era", str(path))


def worklist_rows(ws: Workspace) -> list[dict[str, str]]:
    path = ws.root / "worklist.csv"
    assert cli(ws, "worklist", "--csv", str(path)).returncode == 0
    return list(csv.DictReader(path.open()))


# --- class 4: valid files import ------------------------------------------------------------


def test_a_file_of_two_interchanges_imports_the_claims_of_both(workspace: Workspace) -> None:
    imported = import_sample(workspace, "two_interchanges.835")
    assert imported.returncode == 0, imported.stderr
    assert "3 claim(s), payments 160.00, 1 new denial(s)" in imported.stdout
    assert "warning" not in imported.stderr


def test_a_latin1_name_imports_without_a_traceback_and_is_never_printed(workspace: Workspace) -> None:
    imported = import_sample(workspace, "latin1_names.835")
    assert imported.returncode == 0, imported.stderr
    assert "1 claim(s)" in imported.stdout and "1 new denial(s)" in imported.stdout
    printed = imported.stdout + imported.stderr
    assert "Traceback" not in printed and "NÚÑEZ" not in printed and "JOSÉ" not in printed
    [row] = worklist_rows(workspace)
    assert row["claim"].startswith("PWE40010") and "CO-16" in row["codes"]


class FilesOffered:
    """A stand-in for a clearinghouse's remittance list: the portal's side, serving the given bytes."""

    portal = "summit"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def list_remittances(self) -> list[RemittanceFile]:
        return [RemittanceFile(file_id, f"{file_id}.835") for file_id in self.files]

    def download_remittance(self, remittance: RemittanceFile) -> bytes:
        return self.files[remittance.file_id]


def test_fetching_goes_on_past_a_file_it_cannot_import(workspace: Workspace) -> None:
    assert cli(workspace, "init").returncode == 0
    offered = FilesOffered(
        {
            "utf16": (SAMPLES / "two_interchanges.835").read_text().encode("utf-16"),
            "latin1": (SAMPLES / "latin1_names.835").read_bytes(),
            "cut-short": (SAMPLES / "claim_states.835").read_bytes()[:400],
            "two": (SAMPLES / "two_interchanges.835").read_bytes(),
        }
    )
    outcome = fetch_new_remittances(offered, workspace.engine, lambda: AT)  # type: ignore[arg-type]
    assert [r.file_id for r in outcome.imported] == ["latin1", "two"]
    assert [(file_id, "utf16" in why or "cut short" in why) for file_id, why in outcome.rejected] == [
        ("utf16", True),
        ("cut-short", True),
    ]
    assert "utf16: not a text file" in outcome.rejected[0][1]


# --- bad input: a clear error, never a traceback --------------------------------------------


def missing(ws: Workspace) -> tuple[Path, str]:
    return Path("/nonexistent.835"), "no such file"


def directory(ws: Workspace) -> tuple[Path, str]:
    return ws.root, "is a directory, not a file"


def through_a_file(ws: Workspace) -> tuple[Path, str]:
    return ws.config_path / "era.835", "cannot be read (Not a directory)"


@pytest.mark.parametrize("case", [missing, directory, through_a_file], ids=["missing", "directory", "not-a-dir"])
def test_import_era_of_a_path_that_is_no_readable_file_is_one_line_and_imports_nothing(
    workspace: Workspace, case: Callable[[Workspace], tuple[Path, str]]
) -> None:
    path, why = case(workspace)
    result = cli(workspace, "import", "era", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}: {why}; nothing was imported"
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_import_era_of_an_unreadable_file_is_one_line(workspace: Workspace) -> None:
    path = workspace.root / "locked.835"
    shutil.copyfile(SAMPLES / "two_interchanges.835", path)
    path.chmod(0)
    result = cli(workspace, "import", "era", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}: cannot be read (permission denied); nothing was imported"


# --- class 5: what the ERA says is kept and used --------------------------------------------


def test_modifiers_keep_lines_apart_and_clp06_and_era_dates_set_an_unknown_claims_deadlines(
    workspace: Workspace,
) -> None:
    imported = import_sample(workspace, "unknown_claims_medicaid.835")
    assert imported.returncode == 0 and "3 new denial(s)" in imported.stdout, imported.stderr
    with Session(workspace.engine) as session:
        denials = list_denials(session)
    assert sorted((d.reported_claim_id, d.line_procedure) for d in denials) == [
        ("PWE50001", "62321-LT"),
        ("PWE50001", "62321-RT"),
        ("PWE50002", "99214"),
    ]

    rows = {(r["claim"].split()[0], r["amount"], r["deadline"]): r["action"] for r in worklist_rows(workspace)}
    # MA130 on a Medicaid claim (CLP06 MC, payer not in our rules): a new claim within 12 calendar months
    # of the ERA's date of service 2023-03-10 (365 days would say 2024-03-09; the commercial default
    # 2023-06-08; counting from the 2023-04-14 denial, 2024-04-14)
    assert rows[("PWE50001", "500.00", "2024-03-10")].startswith("submit a new claim")
    # a correctable Medicaid denial: corrected claim within 12 calendar months of the denial
    assert rows[("PWE50002", "210.00", "2024-04-14")].startswith("resubmit corrected claim")
    assert len(rows) == 3 - 1  # the two MA130 lines share claim, amount and deadline


def test_a_line_denied_on_the_era_with_its_modifier_and_on_the_portal_without_it_is_one_denial(
    workspace: Workspace,
) -> None:
    assert cli(workspace, "import", "claims", str(workspace.claims_csv)).returncode == 0
    path = workspace.root / "modifier.835"
    path.write_text((SAMPLES / "claim_states.835").read_text().replace("SVC*HC:93000*", "SVC*HC:93000:26*"))
    assert cli(workspace, "import", "era", str(path)).returncode == 0
    page = ClaimStatusResult(
        "PW100008",
        "F1",
        None,
        "Paid",
        date(2026, 11, 18),
        "PCN00008",
        adjustments=(Adjustment("CO", "50", Decimal("100"), (), "93000"),),
    )
    with session_scope(workspace.engine) as session:
        changes = record_portal_result(
            session,
            claim_id="PW100008",
            payer_id="NWM",
            result=page,
            state=ClaimState.PARTIALLY_PAID,
            portal="unity",
            at=AT,
        )
    assert changes.new == []
    with Session(workspace.engine) as session:
        [denial] = [d for d in list_denials(session) if d.reported_claim_id == "PW100008"]
    assert (denial.reported_claim_id, denial.carc, denial.line_procedure) == ("PW100008", "50", "93000-26")


def test_an_era_sets_the_state_of_the_claims_it_adjudicates_and_the_report_counts_them(
    workspace: Workspace,
) -> None:
    assert cli(workspace, "import", "claims", str(workspace.claims_csv)).returncode == 0
    assert "0 of 0 adjudicated claims" in cli(workspace, "report", "denials").stdout

    imported = import_sample(workspace, "claim_states.835")
    assert imported.returncode == 0, imported.stderr

    with Session(workspace.engine) as session:
        states = {c.claim_id: (c.status, c.paid_amount) for c in session.exec(select(Claim))}
    assert states["PW100005"] == ("paid", Decimal("200"))
    assert states["PW100008"] == ("partially_paid", Decimal("100"))
    assert states["PW100006"] == ("denied", Decimal("0"))
    assert states["PW100001"][0] == "unchecked"  # not on this ERA
    assert "2 of 3 adjudicated claims" in cli(workspace, "report", "denials").stdout


def test_an_era_never_overrides_a_portal_read_after_the_era_was_produced(workspace: Workspace) -> None:
    assert cli(workspace, "import", "claims", str(workspace.claims_csv)).returncode == 0
    read_at = datetime(2026, 11, 25, 9, tzinfo=UTC)  # the ERA is dated 2026-11-18
    with Session(workspace.engine) as session:
        record_observation(
            session,
            ClaimStatusObservation(
                claim_id="PW100005",
                observed_at=read_at,
                portal="unity",
                run_id="r1",
                status="pending",
                category_code="A2",
                changes="status: unchecked -> pending",
            ),
        )
        mark_checked(session, "PW100005", read_at)
        session.commit()

    assert import_sample(workspace, "claim_states.835").returncode == 0
    with Session(workspace.engine) as session:
        assert session.get(Claim, "PW100005").status == "pending"  # type: ignore[union-attr]
        assert session.get(Claim, "PW100006").status == "denied"  # type: ignore[union-attr]


# --- class 7: money that does not add up is said out loud -----------------------------------


def test_an_out_of_balance_era_imports_with_warnings_printed_stored_and_in_the_worklist(
    workspace: Workspace,
) -> None:
    imported = import_sample(workspace, "out_of_balance.835")
    assert imported.returncode == 0 and "3 claim(s)" in imported.stdout, imported.stderr
    printed = [line for line in imported.stderr.splitlines() if line.startswith("warning:")]
    assert printed == [
        "warning: claim PWE70001 is out of balance by -10.00: charge 200.00 - adjustments 50.00 is not the 140.00 paid",
        "warning: claim PWE70002 line 1 (97110) is out of balance by -10.00: charge 100.00 - adjustments "
        "30.00 is not the 60.00 paid",
        "warning: claim PWE70002 is out of balance by -10.00: charge 100.00 - adjustments 30.00 is not the 60.00 paid",
        "warning: payment EFT7000000001 is out of balance by 1.50: BPR02 180.00, but the claims' payments "
        "200.00 less provider adjustments 21.50 make 178.50",
    ]

    with Session(workspace.engine) as session:
        [era_file] = session.exec(select(EraFile)).all()
        plb = session.exec(select(EraProviderAdjustment)).all()
    assert [(w["level"], w["claim_id"], w["difference"]) for w in era_file.warnings] == [
        ("claim", "PWE70001", "-10"),
        ("line", "PWE70002", "-10"),
        ("claim", "PWE70002", "-10"),
        ("file", None, "1.5"),
    ]
    assert [(p.trace_number, p.reason, p.reference, p.amount) for p in plb] == [
        ("EFT7000000001", "WO", "OVERPAY0001", Decimal("25")),
        ("EFT7000000001", "L6", None, Decimal("-3.5")),
    ]

    rows = {r["claim"].split()[0]: r["warnings"] for r in worklist_rows(workspace)}
    assert set(rows) == {"PWE70002", "PWE70003"}  # PWE70001's only adjustment is contractual
    assert "claim PWE70002 is out of balance by -10.00" in rows["PWE70002"]
    assert "payment EFT7000000001 is out of balance by 1.50" in rows["PWE70002"]
    assert rows["PWE70003"].startswith("payment EFT7000000001 is out of balance by 1.50")
    shown = cli(workspace, "worklist")
    assert "ERA out of balance:" in shown.stdout and "claim PWE70002 is out of balance by -10.00" in shown.stdout
