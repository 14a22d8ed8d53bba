"""Denial code tables and categorisation, without a browser: every row, group codes, remarks, bad tables."""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from flows.denial_codes import (
    CARC_PATTERN,
    CATEGORIES,
    OWNERS,
    RARC_PATTERN,
    DenialKind,
    Refinement,
    RuleTableError,
    categorise,
    denies,
    describe_carc,
    describe_rarc,
    reason_codes,
    remark_codes,
    unknown_codes,
)
from flows.rules import rules_dir

CARCS = sorted(reason_codes().values(), key=lambda r: r.code)
RARCS = sorted(remark_codes().values(), key=lambda r: r.code)
GENERIC = reason_codes()["16"]  # "lacks information, see the remarks": the CARC remarks usually come with

# Every code the domain reference (section 2) names must be in the tables; kept as the reference lists them.
REFERENCE_CARCS = [
    "4",
    "5",
    "6",
    "7",
    "11",
    "13",
    "14",
    "16",
    "18",
    "22",
    "26",
    "27",
    "29",
    "31",
    "32",
    "35",
    "119",
    "39",
    "49",
    "50",
    "55",
    "58",
    "96",
    "97",
    "107",
    "109",
    "140",
    "146",
    "150",
    "151",
    "167",
    "170",
    "185",
    "181",
    "182",
    "183",
    "184",
    "189",
    "197",
    "198",
    "199",
    "204",
    "206",
    "207",
    "208",
    "226",
    "227",
    "234",
    "236",
    "242",
    "243",
    "252",
    "284",
    "296",
    "287",
    "288",
    "B7",
    "B9",
    "B11",
    "B13",
    "B15",
    "B16",
    "1",
    "2",
    "3",
    "45",
    "23",
]
REFERENCE_RARCS = "MA130 N517 N380 M127 N290 N265 N286 N30 N54 N351 N115 N386 N130 N179 N20 N479 N522 N1 N211".split()  # noqa: SIM905


def test_the_tables_hold_every_code_the_reference_names() -> None:
    assert [c for c in REFERENCE_CARCS if c not in reason_codes()] == []
    assert [r for r in REFERENCE_RARCS if r not in remark_codes()] == []


@pytest.mark.parametrize("row", CARCS, ids=lambda r: r.code)
def test_every_carc_row_categorises_to_its_own_values(row) -> None:
    group = "PR" if row.category == "patient_responsibility" else "CO"
    result = categorise(group, row.code)
    assert (result.category, result.owner, result.kind) == (row.category, row.owner, row.kind)
    assert result.known and result.appealable
    assert result.bill_patient is (group == "PR")
    assert row.description in result.description
    assert row.category in CATEGORIES and row.owner in OWNERS


@pytest.mark.parametrize("row", RARCS, ids=lambda r: r.code)
def test_every_rarc_row_refines_a_generic_denial_as_its_refines_column_says(row) -> None:
    result = categorise("CO", GENERIC.code, [row.code])
    expected = {
        Refinement.CAUSE: (row.category, row.owner, row.kind),
        Refinement.ACTION: (GENERIC.category, GENERIC.owner, row.kind),
        Refinement.NONE: (GENERIC.category, GENERIC.owner, GENERIC.kind),
    }[row.refines]
    assert (result.category, result.owner, result.kind) == expected
    assert result.appealable is (True if row.appealable is None else row.appealable)
    assert result.known and row.description in result.description


@pytest.mark.parametrize(
    ("group", "carc", "category", "kind", "bill_patient"),
    [
        ("PR", "1", "patient_responsibility", DenialKind.NOT_A_DENIAL, True),
        ("PR", "2", "patient_responsibility", DenialKind.NOT_A_DENIAL, True),
        ("PR", "3", "patient_responsibility", DenialKind.NOT_A_DENIAL, True),
        ("CO", "45", "contractual", DenialKind.NOT_A_DENIAL, False),
        ("CO", "253", "contractual", DenialKind.NOT_A_DENIAL, False),
        ("OA", "23", "coordination_of_benefits", DenialKind.NOT_A_DENIAL, False),
        # a real denial stays a denial under PR, but the payer says the patient may be billed
        ("PR", "204", "non_covered", DenialKind.HARD, True),
        ("CO", "204", "non_covered", DenialKind.HARD, False),
        ("PR", "96", "non_covered", DenialKind.HARD, True),
        ("OA", "18", "duplicate", DenialKind.HARD, False),
        ("PI", "151", "medical_necessity", DenialKind.HARD, False),
        ("CR", "16", "documentation", DenialKind.SOFT, False),
    ],
)
def test_group_codes(group: str, carc: str, category: str, kind: DenialKind, bill_patient: bool) -> None:
    result = categorise(group, carc)
    assert (result.category, result.kind, result.bill_patient, result.known) == (category, kind, bill_patient, True)
    if kind is DenialKind.NOT_A_DENIAL:
        assert result.owner == "none"


@pytest.mark.parametrize(
    ("carc", "rarcs", "category", "owner", "kind", "appealable"),
    [
        # what the fake portals send
        ("16", ["M127"], "documentation", "providers", DenialKind.SOFT, True),
        ("50", ["N115"], "medical_necessity", "providers", DenialKind.HARD, True),
        ("B7", ["N290"], "credentialing", "credentialing", DenialKind.SOFT, True),
        ("18", ["N522"], "duplicate", "billing", DenialKind.HARD, True),
        ("97", ["N20"], "bundling", "coding", DenialKind.HARD, True),
        # a remark naming the cause replaces the CARC's
        ("197", ["N54"], "authorization", "scheduling_auth", DenialKind.SOFT, True),
        ("16", ["N351"], "authorization", "scheduling_auth", DenialKind.SOFT, True),
        ("16", ["N30"], "eligibility", "front_desk", DenialKind.HARD, True),
        ("16", ["N479"], "coordination_of_benefits", "billing", DenialKind.SOFT, True),
        # a remark naming the fix changes only the kind
        ("16", ["MA130"], "documentation", "billing", DenialKind.SOFT, False),
        ("4", ["N380"], "coding", "coding", DenialKind.SOFT, True),
        ("50", ["N517"], "medical_necessity", "providers", DenialKind.SOFT, True),
        # appeal rights
        ("50", ["N211"], "medical_necessity", "providers", DenialKind.HARD, False),
        ("50", ["N1"], "medical_necessity", "providers", DenialKind.HARD, True),
        # precedence: the first cause remark wins, then the first action remark sets the kind
        ("16", ["N290", "M127"], "credentialing", "credentialing", DenialKind.SOFT, True),
        ("16", ["M127", "N290"], "documentation", "providers", DenialKind.SOFT, True),
        ("16", ["N20", "N30"], "eligibility", "front_desk", DenialKind.HARD, True),
        ("16", ["N30", "N517"], "eligibility", "front_desk", DenialKind.SOFT, True),
        ("16", ["N517", "N30"], "eligibility", "front_desk", DenialKind.SOFT, True),
        ("50", ["N211", "N1"], "medical_necessity", "providers", DenialKind.HARD, False),
        # remarks never turn a non-denial into a denial
        ("45", ["N290"], "contractual", "none", DenialKind.NOT_A_DENIAL, True),
    ],
)
def test_remarks_refine_the_carc(
    carc: str, rarcs: list[str], category: str, owner: str, kind: DenialKind, appealable: bool
) -> None:
    result = categorise("CO", carc, rarcs)
    assert (result.category, result.owner, result.kind, result.appealable) == (category, owner, kind, appealable)
    assert result.known


def test_codes_are_case_insensitive_and_stripped() -> None:
    assert categorise(" co ", " b7 ", [" n290 ", ""]) == categorise("CO", "B7", ["N290"])
    assert describe_carc(" b7 ") == describe_carc("B7") is not None
    assert describe_rarc(" m127 ") == describe_rarc("M127") is not None


@pytest.mark.parametrize(
    ("group", "carc", "rarcs", "missing"),
    [
        ("CO", "999", [], "999"),
        ("CO", "Z9", ["M127"], "Z9"),
        ("CO", "Z9", ["N9999"], "Z9"),
        ("XX", "50", [], "group XX"),
        ("", "50", [], "group (blank)"),
        ("CO", "", [], "(blank CARC)"),
        ("PR", "999", [], "999"),
    ],
)
def test_unknown_codes_go_to_a_person_and_never_raise(group: str, carc: str, rarcs: list[str], missing: str) -> None:
    result = categorise(group, carc, rarcs)
    assert (result.category, result.owner, result.kind, result.known) == (
        "unknown",
        "billing",
        DenialKind.UNKNOWN,
        False,
    )
    assert missing in result.description


def test_an_unknown_remark_on_a_non_denial_keeps_it_a_non_denial() -> None:
    result = categorise("CO", "45", ["N9999"])
    assert (result.kind, result.known, result.unknown_remarks) == (DenialKind.NOT_A_DENIAL, True, ("N9999",))
    assert "remark code not in our table: N9999" in result.description


# --- issue 15, class 1: an unknown remark never erases a known reason code --------------------------------------


@pytest.mark.parametrize(
    ("carc", "category", "owner", "kind"),
    [
        ("4", "coding", "coding", DenialKind.SOFT),
        ("50", "medical_necessity", "providers", DenialKind.HARD),
        ("B15", "coding", "coding", DenialKind.SOFT),
        ("197", "authorization", "scheduling_auth", DenialKind.HARD),
    ],
)
@pytest.mark.parametrize("new_remarks", [["N9999"], ["MA999", "N9998"], ["M9999", "N211"], ["N1", "N9999"]])
def test_an_unknown_remark_keeps_the_carcs_meaning(
    carc: str, category: str, owner: str, kind: DenialKind, new_remarks: list[str]
) -> None:
    result = categorise("CO", carc, new_remarks)
    assert (result.category, result.owner, result.kind) == (category, owner, kind)
    assert result.appealable is ("N211" not in new_remarks)  # a known remark beside it still counts
    assert result.known and result.unknown_remarks == tuple(r for r in new_remarks if r not in remark_codes())
    assert f"remark code not in our table: {', '.join(result.unknown_remarks)}" in result.description
    assert "unknown" not in result.description


@pytest.mark.parametrize(
    ("carc", "rarcs", "category", "owner", "kind", "appealable"),
    [
        # the remark codes the issue's files carried, now in the table
        ("4", ["M20"], "coding", "coding", DenialKind.SOFT, True),
        ("4", ["N519"], "coding", "coding", DenialKind.SOFT, True),
        ("50", ["M25"], "medical_necessity", "providers", DenialKind.HARD, True),
        ("B15", ["M80"], "coding", "coding", DenialKind.SOFT, True),
        ("50", ["M25", "N9999"], "medical_necessity", "providers", DenialKind.HARD, True),
        ("16", ["MA130"], "documentation", "billing", DenialKind.SOFT, False),
        ("50", ["N211"], "medical_necessity", "providers", DenialKind.HARD, False),
        ("50", ["N1"], "medical_necessity", "providers", DenialKind.HARD, True),
        ("16", ["MA113"], "credentialing", "credentialing", DenialKind.SOFT, False),
        ("16", ["N265"], "credentialing", "credentialing", DenialKind.SOFT, True),
        ("16", ["MA36"], "demographic", "front_desk", DenialKind.SOFT, True),
        ("16", ["N393"], "documentation", "providers", DenialKind.SOFT, True),
        ("50", ["MA44"], "medical_necessity", "providers", DenialKind.HARD, False),
        ("97", ["N61"], "bundling", "coding", DenialKind.SOFT, True),
    ],
)
def test_the_codes_the_issue_names_map_as_described(
    carc: str, rarcs: list[str], category: str, owner: str, kind: DenialKind, appealable: bool
) -> None:
    result = categorise("CO", carc, rarcs)
    assert (result.category, result.owner, result.kind, result.appealable) == (category, owner, kind, appealable)


# --- issue 15, class 2: contractual, pending and $0.00 adjustments are not denials ---------------------------------


@pytest.mark.parametrize(
    ("group", "carc", "category"),
    [
        ("CO", "42", "contractual"),  # retired, still sent: charges exceed the fee schedule
        ("CO", "A2", "contractual"),  # retired: contractual adjustment
        ("CO", "45", "contractual"),
        ("OA", "133", "pending"),  # the line is pending review
        ("CO", "133", "pending"),
        ("OA", "257", "pending"),
        ("PR", "1", "patient_responsibility"),
    ],
)
def test_contractual_and_pending_adjustments_are_not_denials(group: str, carc: str, category: str) -> None:
    result = categorise(group, carc, ["N9999"])
    assert (result.category, result.owner, result.kind) == (category, "none", DenialKind.NOT_A_DENIAL)
    assert result.pending is (category == "pending")
    assert not denies(group, carc)


@pytest.mark.parametrize(("group", "carc"), [("CO", "50"), ("CO", "197"), ("PR", "204"), ("OA", "18"), ("CO", "Z9")])
@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("0.00"), Decimal("-0.00")])
def test_a_zero_dollar_adjustment_is_never_a_denial(group: str, carc: str, amount: Decimal) -> None:
    result = categorise(group, carc, ["N115"], amount)
    assert (result.owner, result.kind) == ("none", DenialKind.NOT_A_DENIAL)
    assert "$0.00 adjusted: not a denial" in result.description
    assert not denies(group, carc, ["N115"], amount)
    assert denies(group, carc, ["N115"], Decimal("0.01"))


# --- issue 15, class 3: complete tables ------------------------------------------------------------------------

# Every CARC X12 has published: 1-308 and the letter series, active or retired.
PUBLISHED_CARCS = [
    *map(str, range(1, 309)),
    *(f"A{n}" for n in range(9)),
    *(f"B{n}" for n in range(1, 24)),
    *(f"D{n}" for n in range(1, 24)),
    *(f"P{n}" for n in range(1, 33)),
    *(f"W{n}" for n in range(1, 10)),
    *(f"Y{n}" for n in range(1, 4)),
]


def test_the_carc_table_holds_every_published_code_and_marks_the_retired_ones() -> None:
    assert [c for c in PUBLISHED_CARCS if c not in reason_codes()] == []
    assert len(reason_codes()) == len(PUBLISHED_CARCS) == 407
    retired = {c for c, row in reason_codes().items() if row.description.startswith("Retired:")}
    assert {"42", "A2", "15", "125", "138", "W1", "Y3", "D23"} <= retired
    assert not {"45", "50", "133", "197", "308", "P32"} & retired


def test_the_rarc_table_holds_several_hundred_m_ma_and_n_codes() -> None:
    prefixes = Counter(re.match(r"MA|M|N", code)[0] for code in remark_codes())  # type: ignore[index]
    assert prefixes["M"] >= 100 and prefixes["MA"] >= 100 and prefixes["N"] >= 400
    named = "M20 N519 M25 M80 MA130 N211 N1 N290 N265 M127 N517 N380 N479 N522 MA01 MA44 N210".split()  # noqa: SIM905
    assert [r for r in named if r not in remark_codes()] == []


@pytest.mark.parametrize(("name", "pattern"), [("reason_codes.csv", CARC_PATTERN), ("remark_codes.csv", RARC_PATTERN)])
def test_the_shipped_tables_have_unique_well_formed_codes_and_valid_values(name: str, pattern: re.Pattern[str]) -> None:
    with (rules_dir() / name).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    codes = [row[0] for row in rows]
    assert [c for c in codes if not pattern.fullmatch(c)] == []
    assert [c for c, n in Counter(codes).items() if n > 1] == []
    kinds = {k.value for k in DenialKind} - {DenialKind.UNKNOWN.value} | {""}
    assert [r[0] for r in rows if r[2] not in CATEGORIES | {""} or r[3] not in OWNERS | {""} or r[4] not in kinds] == []
    assert all(r[1] and len(r[1]) <= 120 for r in rows)  # a paraphrase, not the published text


def test_every_remark_row_follows_the_mapping_rule() -> None:
    """Cause rows name a category, owner and kind; action rows a kind; neutral rows need none (module docstring)."""
    for row in RARCS:
        if row.refines is Refinement.CAUSE:
            assert row.category in CATEGORIES and row.owner in OWNERS and row.kind in (DenialKind.SOFT, DenialKind.HARD)
        elif row.refines is Refinement.ACTION:
            assert row.kind is not None
        if row.description.startswith("Alert:"):
            assert row.refines is not Refinement.CAUSE, row.code  # an alert informs; it names no cause


def test_describe_and_unknown_codes() -> None:
    assert describe_carc("204") == "Service not covered under the patient's current benefit plan"
    assert describe_carc("999") is None and describe_rarc("N9999") is None
    assert describe_rarc("m127") == "Patient's medical record for this service is missing"
    assert unknown_codes(["50", " n9999 ", "M127", "ZZ", "N9999", ""]) == ["N9999", "ZZ"]


# --- malformed tables ---------------------------------------------------------------------------------------------

CARC_HEADER = "carc,description,category,owner,kind\n"
RARC_HEADER = "rarc,description,category,owner,kind,refines,appealable\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("50,Not necessary,medical_necesity,providers,hard\n", "line 2: unknown category 'medical_necesity'"),
        ("50,Not necessary,medical_necessity,doctors,hard\n", "line 2: unknown owner 'doctors'"),
        ("50,Not necessary,medical_necessity,providers,firm\n", "line 2: unknown kind 'firm'"),
        ("50,Not necessary,medical_necessity,providers,unknown\n", "line 2: unknown kind 'unknown'"),
        (
            "50,A,coding,coding,soft\n4,B,coding,coding,soft\n50,C,coding,coding,hard\n",
            "line 4: duplicate code 50 (first on line 2)",
        ),
        ("50,A,coding,coding,soft\n b7 ,B,coding,coding,soft\nB7,C,coding,coding,hard\n", "line 4: duplicate code B7"),
        ("50,A,coding,coding,soft,extra\n", "line 2: expected 5 cells"),
        ("50,A,coding,coding\n", "line 2: expected 5 cells"),
        ("N290,A,coding,coding,soft\n", "line 2: 'N290' is not a valid code"),
        ("50,,coding,coding,soft\n", "line 2: 50 has no description"),
        ("45,Contractual,contractual,billing,not_a_denial\n", "line 2: owner 'none' goes with kind 'not_a_denial'"),
        ("50,Not necessary,medical_necessity,none,hard\n", "line 2: owner 'none' goes with kind 'not_a_denial'"),
    ],
)
def test_a_malformed_carc_row_names_the_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "reason_codes.csv"
    path.write_text(CARC_HEADER + body)
    with pytest.raises(RuleTableError, match=re.escape("reason_codes.csv")) as raised:
        reason_codes(path)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("N290,Missing id,credentialing,credentialing,soft,topic,\n", "line 2: unknown refines 'topic'"),
        ("N290,Missing id,,credentialing,soft,cause,\n", "line 2: a 'cause' remark needs a category"),
        ("N517,Resubmit,,,,action,\n", "line 2: a 'action' remark needs a kind"),
        ("N211,No appeal,,,,,maybe\n", "line 2: unknown appealable 'maybe'"),
        ("N290,Missing id,credentialing,none,soft,cause,\n", "line 2: unknown owner 'none'"),
        ("N290,Missing id,credentialing,credentialing,not_a_denial,cause,\n", "line 2: unknown kind 'not_a_denial'"),
        ("197,Not a remark,authorization,scheduling_auth,hard,,\n", "line 2: '197' is not a valid code"),
        ("N1,A,,,,,yes\nn1,B,,,,,no\n", "line 3: duplicate code N1"),
    ],
)
def test_a_malformed_rarc_row_names_the_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "remark_codes.csv"
    path.write_text(RARC_HEADER + body)
    with pytest.raises(RuleTableError, match=re.escape("remark_codes.csv")) as raised:
        remark_codes(path)
    assert message in str(raised.value)


def test_a_table_with_the_wrong_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reason_codes.csv"
    path.write_text("code,description,category,owner,kind\n50,A,coding,coding,soft\n")
    with pytest.raises(RuleTableError, match=re.escape("reason_codes.csv: header must be carc,description")):
        reason_codes(path)


def test_a_well_formed_temporary_table_loads(tmp_path: Path) -> None:
    path = tmp_path / "remark_codes.csv"
    path.write_text(RARC_HEADER + 'n290,"Missing id, rendering",credentialing,credentialing,soft,cause,\n')
    row = remark_codes(path)["N290"]
    assert (row.description, row.refines, row.appealable) == ("Missing id, rendering", Refinement.CAUSE, None)
