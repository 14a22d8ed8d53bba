"""What an adjustment means, as a billing team meets it: an 835 imported through the CLI, a 277 answer read.

An unknown remark code never erases what a known reason code says; contractual, pending and $0.00
adjustments are not denials; F4 ("no payment forthcoming") is a denial only with a denying adjustment.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from flows.claim_states import ClaimState, state_of
from flows.claim_status import observation_from
from flows.rules import rules_dir
from portals.types import Adjustment, ClaimStatusResult
from store.denials import list_denials
from tests.cli_support import Ran, portal_worker
from tests.conftest import Workspace

# Remark codes that no table holds (well-formed, never published): stand-ins for a payer's newest RARCs.
NEW_REMARKS = ("N9990", "N9991", "MA999")


def era(*claims: list[str], total: str) -> str:
    """A synthetic one-payment 835 from Northwind Mutual holding `claims` (CLP loops)."""
    body = [
        "ST*835*0001~",
        f"BPR*I*{total}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20261110~",
        "TRN*1*EFT0000000777*1512345678~",
        "DTM*405*20261109~",
        "N1*PR*NORTHWIND MUTUAL~",
        "N3*1 PAYER WAY~",
        "N4*ANYTOWN*CA*90000~",
        "REF*2U*NWM~",
        "N1*PE*TEST PRACTICE*XX*1234567893~",
        *(segment for claim in claims for segment in claim),
    ]
    return "\n".join(
        [
            "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PRACTICE       "
            "*261110*1200*^*00501*000000777*0*P*:~",
            "GS*HP*PAYER*PRACTICE*20261110*1200*1*X*005010X221A1~",
            *body,
            f"SE*{len(body) + 1}*0001~",
            "GE*1*1~",
            "IEA*1*000000777~",
        ]
    )


def clp(claim_id: str, status: str, billed: str, paid: str, *lines: str) -> list[str]:
    return [
        f"CLP*{claim_id}*{status}*{billed}*{paid}**12*NWM{claim_id[-4:]}~",
        "NM1*QC*1*SYNTHETIC*PATIENT****MI*M000000777~",
        *lines,
    ]


DENIED_WITH_NEW_REMARKS = [
    clp(
        "PWT0001",
        "4",
        "100",
        "0",
        "SVC*HC:62321:LT*100*0**1~",
        "DTM*472*20261012~",
        "CAS*CO*4*100~",
        "LQ*HE*M20~",
        f"LQ*HE*{NEW_REMARKS[0]}~",
    ),
    clp(
        "PWT0002",
        "4",
        "200",
        "0",
        "SVC*HC:99215*200*0**1~",
        "DTM*472*20261012~",
        "CAS*CO*50*200~",
        f"LQ*HE*{NEW_REMARKS[1]}~",
        "LQ*HE*M25~",
    ),
    clp(
        "PWT0003",
        "4",
        "80",
        "0",
        "SVC*HC:97140*80*0**1~",
        "DTM*472*20261012~",
        "CAS*CO*B15*80~",
        "LQ*HE*M80~",
        f"LQ*HE*{NEW_REMARKS[2]}~",
    ),
]
NOT_DENIALS = [
    # contractual: retired 42 (payers still send it) and retired A2
    clp("PWT0004", "1", "300", "150", "SVC*HC:99214*300*150**1~", "DTM*472*20261012~", "CAS*CO*42*100**A2*50~"),
    # one line paid, one line pended for review (CARC 133)
    clp(
        "PWT0005",
        "1",
        "200",
        "100",
        "SVC*HC:99213*100*100**1~",
        "DTM*472*20261012~",
        "SVC*HC:93000*100*0**1~",
        "DTM*472*20261012~",
        "CAS*OA*133*100~",
    ),
    # $0.00 adjustments sent as information, even with a denying CARC
    clp("PWT0006", "1", "90", "90", "SVC*HC:99212*90*90**1~", "DTM*472*20261012~", "CAS*CO*50*0**45*0~"),
]


def cli(ws: Workspace, *args: str) -> Ran:
    return portal_worker("-c", str(ws.config_path), *args)


def worklist_rows(ws: Workspace) -> dict[str, dict[str, str]]:
    path = ws.root / "worklist.csv"
    assert cli(ws, "worklist", "--csv", str(path)).returncode == 0
    return {row["claim"].split()[0]: row for row in csv.DictReader(path.open())}


def test_an_unknown_remark_keeps_the_reason_code_meaning_and_is_shown_as_not_in_our_table(workspace: Workspace) -> None:
    path = workspace.root / "new-remarks.835"
    path.write_text(era(*DENIED_WITH_NEW_REMARKS, total="0"))
    imported = cli(workspace, "import", "era", str(path))
    assert imported.returncode == 0 and "3 new denial(s)" in imported.stdout, imported.stdout + imported.stderr

    rows = worklist_rows(workspace)
    assert {claim: (r["category"], r["owner"]) for claim, r in rows.items()} == {
        "PWT0001": ("coding", "coding"),
        "PWT0002": ("medical_necessity", "providers"),
        "PWT0003": ("coding", "coding"),
    }
    assert f"{NEW_REMARKS[0]}: remark code not in our table" in rows["PWT0001"]["codes"]
    assert "M20: HCPCS code missing" in rows["PWT0001"]["codes"]
    assert f"{NEW_REMARKS[2]}: remark code not in our table" in rows["PWT0003"]["codes"]
    assert "unknown" not in {r["category"] for r in rows.values()}

    with Session(workspace.engine) as session:
        stored = {d.reported_claim_id: d for d in list_denials(session)}
    assert {c: (d.kind, d.appealable) for c, d in stored.items()} == {
        "PWT0001": ("soft", True),
        "PWT0002": ("hard", True),
        "PWT0003": ("soft", True),
    }
    assert stored["PWT0002"].rarcs == [NEW_REMARKS[1], "M25"]  # kept as sent, for the person and the appeal
    shown = portal_worker("-c", str(workspace.config_path), "denial", rows["PWT0002"]["id"], env={"COLUMNS": "200"})
    assert shown.returncode == 0 and f"{NEW_REMARKS[1]}: remark code not in our table" in shown.stdout
    assert "CO-50: Not deemed medically necessary" in shown.stdout


def test_contractual_pending_and_zero_dollar_adjustments_are_not_denials(workspace: Workspace) -> None:
    path = workspace.root / "not-denials.835"
    path.write_text(era(*NOT_DENIALS, total="340"))
    imported = cli(workspace, "import", "era", str(path))
    assert imported.returncode == 0 and "0 new denial(s)" in imported.stdout, imported.stdout + imported.stderr
    assert worklist_rows(workspace) == {}
    with Session(workspace.engine) as session:
        assert list_denials(session) == []


def result(category: str, *adjustments: Adjustment) -> ClaimStatusResult:
    paid = Decimal("0") if category == "F4" else Decimal("60")
    return ClaimStatusResult(
        "PW1",
        category,
        "65",
        "Finalized",
        date(2026, 11, 2),
        "NWM1",
        Decimal("100"),
        None,
        paid,
        None,
        None,
        adjustments,
    )


DEDUCTIBLE = Adjustment("PR", "1", Decimal("100"))
NOT_NECESSARY = Adjustment("CO", "50", Decimal("100"), ("N115",))
FEE_SCHEDULE = Adjustment("CO", "45", Decimal("100"))
PENDED_LINE = Adjustment("OA", "133", Decimal("40"), line_procedure="93000")


@pytest.mark.parametrize(
    ("adjustments", "state"),
    [
        ((DEDUCTIBLE,), ClaimState.PAID),  # $0 paid because the patient owes it all: paid, patient responsibility
        ((Adjustment("PR", "2", Decimal("20")), Adjustment("CO", "45", Decimal("80"))), ClaimState.PAID),
        ((NOT_NECESSARY,), ClaimState.DENIED),
        ((DEDUCTIBLE, NOT_NECESSARY), ClaimState.DENIED),
        ((Adjustment("PR", "204", Decimal("100")),), ClaimState.DENIED),  # a denial the patient may be billed for
        ((FEE_SCHEDULE,), ClaimState.FINALIZED),  # contract write-off: nothing to work, nobody to bill
        ((), ClaimState.FINALIZED),  # no adjustments shown: nothing says denied
        ((Adjustment("CO", "50", Decimal("0")), DEDUCTIBLE), ClaimState.PAID),  # a $0.00 CARC 50 denies nothing
    ],
)
def test_f4_is_denied_only_with_a_denying_adjustment(adjustments: tuple[Adjustment, ...], state: ClaimState) -> None:
    answer = result("f4", *adjustments)
    assert state_of(answer) is state
    assert observation_from(answer, "PW1")["status"] == state.value  # what the claim-status check stores


def test_a_paid_claim_with_a_pended_line_is_checked_again_and_a_denied_line_stays_partial() -> None:
    assert state_of(result("F1", FEE_SCHEDULE, PENDED_LINE)) is ClaimState.PENDING
    assert state_of(result("F1", PENDED_LINE, Adjustment("CO", "97", Decimal("40"), ("N20",)))) is (
        ClaimState.PARTIALLY_PAID
    )
    assert state_of(result("F1", Adjustment("CO", "42", Decimal("40")), Adjustment("CO", "A2", Decimal("5")))) is (
        ClaimState.PAID
    )


def test_the_277_categories_the_issue_corrects_say_what_x12_means() -> None:
    rows = {row["code"]: row for row in csv.DictReader((rules_dir() / "claim_status_categories.csv").open())}
    assert "coverage policy" in rows["R7"]["meaning"] and "coverage exceptions" in rows["R8"]["meaning"]
    assert "grievance or appeal" in rows["R10"]["meaning"]
    assert "procedure code" in rows["R12"]["meaning"]
    assert "could not be read" in rows["R13"]["meaning"] and "not the ones requested" in rows["R14"]["meaning"]
    assert "workers' compensation" in rows["R15"]["meaning"]
    assert rows["R17"]["state"] == "info_requested" and "replaces an earlier" in rows["R17"]["meaning"]
    assert state_of(ClaimStatusResult("PW1", "R17", None, "")) is ClaimState.INFO_REQUESTED
