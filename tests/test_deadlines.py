"""Deadline rules without a browser: calendar arithmetic, holidays, payer rules, the next deadline of a denial."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows.deadlines import (
    CLASS_KEYS,
    Deadline,
    Window,
    add_window,
    due,
    load_payer_rules,
    next_deadline,
    roll_to_workday,
    rule_book,
    timely_filing_deadline,
    us_federal_holidays,
)
from flows.denial_codes import DenialKind
from flows.rules import rules_dir

BOOK = load_payer_rules()
RAW = tomllib.loads((rules_dir() / "payer_rules.toml").read_text())
MEDICARE, UNITY, NORTHWIND, LAKESHORE = (BOOK.for_payer(p) for p in ("MCR", "UHP", "NWM", "LSM"))
DENIED = date(2026, 11, 2)  # a Monday
DOS = date(2026, 10, 1)
D = date.fromisoformat


@pytest.mark.parametrize(
    ("anchor", "window", "expected"),
    [
        ("2024-02-29", Window(months=12), "2025-02-28"),  # leap day + a year: Feb 28
        ("2023-01-31", Window(months=1), "2023-02-28"),
        ("2024-01-31", Window(months=1), "2024-02-29"),
        ("2024-08-31", Window(months=1), "2024-09-30"),
        ("2023-12-31", Window(months=2), "2024-02-29"),
        ("2024-02-29", Window(months=48), "2028-02-29"),
        ("2026-11-02", Window(months=14), "2028-01-02"),
        ("2024-03-15", Window(months=12), "2025-03-15"),
        ("2026-01-01", Window(days=90), "2026-04-01"),
        ("2024-02-28", Window(days=1), "2024-02-29"),
        ("2026-12-31", Window(days=1), "2027-01-01"),
    ],
)
def test_add_window(anchor: str, window: Window, expected: str) -> None:
    assert add_window(D(anchor), window) == D(expected)


@pytest.mark.parametrize("kwargs", [{}, {"days": 1, "months": 1}, {"days": 0}, {"months": -1}, {"days": True}])
def test_a_window_is_a_positive_number_of_days_or_months(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="a window"):
        Window(**kwargs)


def test_us_federal_holidays_on_their_observed_dates() -> None:
    assert us_federal_holidays(2026) == {
        D(d)
        for d in (
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-05-25",
            "2026-06-19",
            "2026-07-03",  # July 4 is a Saturday
            "2026-09-07",
            "2026-10-12",
            "2026-11-11",
            "2026-11-26",
            "2026-12-25",
        )
    }
    # 2021: Juneteenth (Saturday) on Friday 18th, Christmas on the 24th, and New Year 2022 on Dec 31
    assert {D("2021-06-18"), D("2021-12-24"), D("2021-12-31")} <= us_federal_holidays(2021)
    assert D("2022-01-01") not in us_federal_holidays(2022)  # a Saturday: observed the year before
    assert D("2020-06-19") not in us_federal_holidays(2020)  # Juneteenth is a federal holiday from 2021


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-11-06", "2026-11-06"),  # a Friday stays
        ("2026-11-07", "2026-11-09"),  # Saturday -> Monday
        ("2026-11-08", "2026-11-09"),  # Sunday -> Monday
        ("2026-07-03", "2026-07-06"),  # Independence Day observed on Friday -> Monday
        ("2027-07-04", "2027-07-06"),  # Sunday, then the observed Monday holiday -> Tuesday
        ("2021-12-31", "2022-01-03"),  # next year's New Year's Day observed on Dec 31
        ("2026-11-26", "2026-11-27"),  # Thanksgiving
        ("2026-12-25", "2026-12-28"),
    ],
)
def test_roll_to_workday(day: str, expected: str) -> None:
    assert roll_to_workday(D(day)) == D(expected)


def test_roll_to_workday_with_given_holidays() -> None:
    assert roll_to_workday(D("2026-11-10"), frozenset({D("2026-11-10")})) == D("2026-11-11")  # Veterans Day not given


@pytest.mark.parametrize(
    ("rules", "anchor", "window", "expected"),
    [
        (UNITY, "2026-10-05", Window(days=180), "2027-04-03"),  # a Saturday: commercial payers do not move it
        (NORTHWIND, "2026-11-02", Window(days=180), "2027-05-01"),  # Saturday, stays
        (MEDICARE, "2026-11-02", Window(days=120), "2027-03-08"),  # +5 receipt days = Sunday Mar 7 -> Monday
        (MEDICARE, "2026-06-24", Window(days=4), "2026-07-06"),  # +5 +4 = Friday Jul 3 (observed July 4) -> Monday
        (MEDICARE, "2027-02-01", Window(days=180), "2027-08-05"),  # a Thursday: receipt days only
    ],
)
def test_due_adds_receipt_days_then_the_window_then_rolls_only_where_the_payer_does(
    rules, anchor: str, window: Window, expected: str
) -> None:
    assert due(D(anchor), window, rules) == D(expected)


@pytest.mark.parametrize(
    ("rules", "dos_from", "dos_to", "institutional", "expected"),
    [
        (MEDICARE, "2028-02-29", "2028-02-29", False, "2029-02-28"),  # leap-day service: Feb 28 next year
        (MEDICARE, "2026-03-02", "2026-03-07", False, "2027-03-02"),  # professional: from date
        (MEDICARE, "2026-03-02", "2026-03-07", True, "2027-03-08"),  # span claim: through date, Sunday -> Monday
        (UNITY, "2026-10-01", "2026-10-03", False, "2026-12-30"),
        (UNITY, "2026-10-01", "2026-10-03", True, "2027-01-01"),  # a holiday, but commercial payers do not roll
        (NORTHWIND, "2026-10-01", "2026-10-01", False, "2027-01-29"),
        (LAKESHORE, "2026-10-01", "2026-10-01", False, "2027-01-04"),
    ],
)
def test_timely_filing_deadline(rules, dos_from: str, dos_to: str, institutional: bool, expected: str) -> None:
    assert timely_filing_deadline(rules, D(dos_from), D(dos_to), institutional) == D(expected)


# --- payer rules --------------------------------------------------------------------------------------------------

PAYERS = {
    "MCR": (
        "medicare",
        Window(months=12),
        [
            "redetermination",
            "reconsideration",
            "ALJ hearing",
            "Medicare Appeals Council review",
            "federal court review",
        ],
        5,
        True,
    ),
    "UHP": ("commercial", Window(days=90), ["reconsideration", "appeal"], 0, False),
    "NWM": ("commercial", Window(days=120), ["reconsideration", "appeal"], 0, False),
    "BBH": ("commercial", Window(days=90), ["appeal"], 0, False),
    "LSM": ("medicaid", Window(days=95), ["appeal"], 0, False),
}


def test_the_rule_file_holds_exactly_the_payers_this_test_knows() -> None:
    assert set(BOOK.payers) == set(PAYERS)
    assert set(BOOK.classes) == {"medicare", "medicaid", "commercial"}


@pytest.mark.parametrize("payer_id", sorted(PAYERS))
def test_every_payer_resolves(payer_id: str) -> None:
    rules = BOOK.for_payer(payer_id.lower() + " ")
    payer_class, filing, levels, receipt_days, rolls = PAYERS[payer_id]
    assert (rules.payer_id, rules.payer_class, rules.timely_filing, rules.receipt_days, rules.roll_weekends) == (
        payer_id,
        payer_class,
        filing,
        receipt_days,
        rolls,
    )
    assert [level.name for level in rules.appeal_levels] == levels
    assert rules.name and not rules.assumed


@pytest.mark.parametrize(("payer_id", "key"), [(p, k) for p in sorted(RAW["payers"]) for k in sorted(CLASS_KEYS)])
def test_a_payers_own_values_win_over_its_class(payer_id: str, key: str) -> None:
    raw = RAW["payers"][payer_id]
    rules, defaults = BOOK.for_payer(payer_id), BOOK.classes[raw["class"]]
    if key in raw:
        expected = rule_book({"classes": RAW["classes"], "payers": {payer_id: raw}}).payers[payer_id]
        assert getattr(rules, key) == getattr(expected, key)
    else:
        assert getattr(rules, key) == getattr(defaults, key)


def test_overrides_that_differ_from_the_class() -> None:
    assert LAKESHORE.timely_filing == Window(days=95) != BOOK.classes["medicaid"].timely_filing
    assert LAKESHORE.corrected_claim == Window(days=120) != BOOK.classes["medicaid"].corrected_claim
    assert LAKESHORE.state == "XX"
    assert NORTHWIND.timely_filing == Window(days=120) != BOOK.classes["commercial"].timely_filing
    assert UNITY.appeal_levels[1].from_denial and not NORTHWIND.appeal_levels[1].from_denial


def test_an_unknown_payer_gets_the_commercial_defaults_flagged_as_assumed() -> None:
    rules = BOOK.for_payer("acme")
    assert rules.assumed and rules.payer_id == "ACME" and rules.payer_class == "commercial"
    assert replace(rules, payer_id="", assumed=False) == BOOK.classes["commercial"]
    assert BOOK.for_payer("").assumed


# --- the next deadline of a denial ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "kind", "appeals", "decided", "expected"),
    [
        # soft: corrected claim. Commercial: within timely filing (DOS + 90 days), earlier than denial + 180 days
        (UNITY, "soft", 0, None, Deadline("resubmit corrected claim", D("2026-12-30"), 0)),
        (NORTHWIND, DenialKind.SOFT, 0, None, Deadline("resubmit corrected claim", D("2027-01-29"), 0)),
        # Medicare reopening: a year from the determination, not bounded by timely filing, no receipt days
        (MEDICARE, "soft", 0, None, Deadline("resubmit corrected claim", D("2027-11-02"), 0)),
        (LAKESHORE, "soft", 0, None, Deadline("resubmit corrected claim", D("2027-03-02"), 0)),
        # hard: Medicare's five levels in sequence, each from the receipt (+5 days) of the previous decision
        (MEDICARE, "hard", 0, None, Deadline("file redetermination", D("2027-03-08"), 1)),
        (MEDICARE, "hard", 1, D("2027-02-01"), Deadline("file reconsideration", D("2027-08-05"), 2)),
        (MEDICARE, "hard", 2, D("2027-06-01"), Deadline("file ALJ hearing", D("2027-08-05"), 3)),
        (MEDICARE, "hard", 3, D("2027-09-01"), Deadline("file Medicare Appeals Council review", D("2027-11-05"), 4)),
        (MEDICARE, "hard", 4, D("2027-12-01"), Deadline("file federal court review", D("2028-02-04"), 5)),
        (MEDICARE, "hard", 5, D("2028-03-01"), None),  # no further level
        # Unity: both levels within 12 months of the denial, whenever the first decision came
        (UNITY, "hard", 0, None, Deadline("file reconsideration", D("2027-11-02"), 1)),
        (UNITY, "hard", 1, D("2027-03-01"), Deadline("file appeal", D("2027-11-02"), 2)),
        (UNITY, "hard", 1, None, Deadline("file appeal", D("2027-11-02"), 2)),
        (UNITY, "hard", 2, D("2027-06-01"), None),
        (NORTHWIND, "hard", 0, None, Deadline("file reconsideration", D("2027-05-01"), 1)),  # a Saturday: not moved
        (NORTHWIND, "hard", 1, D("2027-03-01"), Deadline("file appeal", D("2027-04-30"), 2)),
        (NORTHWIND, "hard", 1, None, None),  # waiting for the reconsideration decision
        (LAKESHORE, "hard", 0, None, Deadline("file appeal", D("2027-03-02"), 1)),
        (LAKESHORE, "hard", 1, D("2027-02-01"), None),
        # a soft denial already appealed continues on the appeal levels
        (NORTHWIND, "soft", 1, D("2027-03-01"), Deadline("file appeal", D("2027-04-30"), 2)),
        # unknown codes: treated as hard so a person looks at them; non-denials have no deadline
        (MEDICARE, "unknown", 0, None, Deadline("file redetermination", D("2027-03-08"), 1)),
        (UNITY, DenialKind.UNKNOWN, 0, None, Deadline("file reconsideration", D("2027-11-02"), 1)),
        (UNITY, "not_a_denial", 0, None, None),
        (MEDICARE, DenialKind.NOT_A_DENIAL, 0, None, None),
    ],
)
def test_next_deadline(rules, kind: str, appeals: int, decided: date | None, expected: Deadline | None) -> None:
    assert next_deadline(rules, kind, DENIED, DOS, DOS, appeals_filed=appeals, decision_date=decided) == expected


def test_a_corrected_claim_window_that_closed_before_the_denial_is_returned_overdue() -> None:
    late = next_deadline(UNITY, "soft", DENIED, D("2026-07-01"), D("2026-07-01"))
    assert late == Deadline("resubmit corrected claim", D("2026-09-29"), 0) and late.due < DENIED


def test_without_a_corrected_claim_window_only_timely_filing_applies() -> None:
    rules = replace(UNITY, corrected_claim=None)
    assert next_deadline(rules, "soft", DENIED, DOS, DOS) == Deadline("resubmit corrected claim", D("2026-12-30"), 0)


def test_an_institutional_span_claim_counts_timely_filing_from_the_through_date() -> None:
    deadline = next_deadline(UNITY, "soft", DENIED, DOS, D("2026-10-10"), institutional=True)
    assert deadline is not None and deadline.due == D("2027-01-08")


def test_a_denial_that_cannot_be_appealed_has_no_appeal_deadline_but_can_still_be_corrected() -> None:
    assert next_deadline(MEDICARE, "hard", DENIED, DOS, DOS, appealable=False) is None
    correction = next_deadline(MEDICARE, "soft", DENIED, DOS, DOS, appealable=False)
    assert correction is not None and correction.level == 0


def test_a_bad_kind_or_count_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="'medium' is not a valid DenialKind"):
        next_deadline(UNITY, "medium", DENIED, DOS, DOS)
    with pytest.raises(ValueError, match="appeals_filed cannot be negative"):
        next_deadline(UNITY, "hard", DENIED, DOS, DOS, appeals_filed=-1)


# --- malformed rule files -------------------------------------------------------------------------------------------

GOOD = """
[classes.commercial]
timely_filing = { days = 90 }
appeal_levels = [{ name = "appeal", days = 180 }]
[classes.medicare]
timely_filing = { months = 12 }
receipt_days = 5
roll_weekends = true
appeal_levels = [{ name = "redetermination", days = 120 }]
[payers.AAA]
class = "commercial"
[payers.BBB]
class = "medicare"
timely_filing = { days = 30 }
"""


def test_a_small_rule_file_loads_with_defaults_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "payer_rules.toml"
    path.write_text(GOOD)
    book = load_payer_rules(path)
    assert book.for_payer("AAA").corrected_claim is None and book.for_payer("AAA").receipt_days == 0
    assert book.for_payer("BBB").timely_filing == Window(days=30) and book.for_payer("BBB").receipt_days == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("[limits]\nx = 1\n", "unknown key 'limits'"),
        (
            '[payers.CCC]\nclass = "commercial"\ntimely_filling = { days = 9 }\n',
            "payers.CCC: unknown key 'timely_filling'",
        ),
        ('[payers.CCC]\nclass = "comercial"\n', "payers.CCC.class: unknown class 'comercial'"),
        ('[payers.CCC]\nname = "No class"\n', "payers.CCC.class: unknown class None"),
        (
            '[payers.CCC]\nclass = "commercial"\ntimely_filing = { days = 9, months = 1 }\n',
            "payers.CCC.timely_filing: a window is either days or months",
        ),
        (
            '[payers.CCC]\nclass = "commercial"\ntimely_filing = { weeks = 2 }\n',
            "payers.CCC.timely_filing: a window is",
        ),
        (
            '[payers.CCC]\nclass = "commercial"\ntimely_filing = { days = 0 }\n',
            "payers.CCC.timely_filing: a window needs",
        ),
        ('[payers.CCC]\nclass = "commercial"\nreceipt_days = "5"\n', "payers.CCC.receipt_days: expected int"),
        ('[payers.CCC]\nclass = "commercial"\nreceipt_days = -1\n', "payers.CCC.receipt_days: cannot be negative"),
        ('[payers.CCC]\nclass = "commercial"\nroll_weekends = "yes"\n', "payers.CCC.roll_weekends: expected bool"),
        (
            '[payers.CCC]\nclass = "commercial"\nappeal_levels = [{ days = 60 }]\n',
            "payers.CCC.appeal_levels[1]: an appeal level needs a name",
        ),
        (
            '[payers.CCC]\nclass = "commercial"\nappeal_levels = [{ name = "a", days = 6 }, { name = "b", day = 60 }]\n',  # noqa: E501  (the config as a person writes it)
            "payers.CCC.appeal_levels[2]: unknown key 'day'",
        ),
        (
            '[payers.CCC]\nclass = "commercial"\nappeal_levels = [{ name = "a", days = 60, anchor = "dos" }]\n',
            "payers.CCC.appeal_levels[1]: anchor is 'denial' or 'decision'",
        ),
        ("[classes.medicaid]\ntimely_filing = { days = 365 }\n", "classes.medicaid needs appeal_levels"),
        ('[classes.medicaid]\nname = "x"\ntimely_filing = { days = 365 }\n', "classes.medicaid: unknown key 'name'"),
        ('[payers.aaa]\nclass = "commercial"\n', "payers.aaa: payer AAA is defined twice"),
    ],
)
def test_a_bad_rule_file_is_refused_naming_the_key(tmp_path: Path, change: str, message: str) -> None:
    path = tmp_path / "payer_rules.toml"
    path.write_text(GOOD + change)
    with pytest.raises(ValueError, match=re.escape("payer_rules.toml")) as raised:
        load_payer_rules(path)
    assert message in str(raised.value)


def test_the_commercial_class_is_required_and_toml_must_parse(tmp_path: Path) -> None:
    path = tmp_path / "payer_rules.toml"
    path.write_text(GOOD.replace("[classes.commercial]", "[classes.private]").replace('"commercial"', '"private"'))
    with pytest.raises(ValueError, match=re.escape("classes.commercial is required")):
        load_payer_rules(path)
    path.write_text("[classes.commercial\n")
    with pytest.raises(ValueError, match=re.escape("payer_rules.toml: not valid TOML")):
        load_payer_rules(path)
