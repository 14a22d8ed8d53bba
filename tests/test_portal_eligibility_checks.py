"""An eligibility answer is checked against itself and the question before it becomes data (pure, no browser)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from portals.eligibility_checks import payer_id_shown, problems
from portals.types import EligibilityQuery, EligibilityResult

QUERY = EligibilityQuery("UHP", "U123456789", date(1980, 1, 2), "1234567893", date(2026, 11, 3), ("99213", "97110"))
SOUND = EligibilityResult(
    payer_id="UHP",
    coverage="active",
    portal_words="Active",
    member_id="U123456789",
    plan_name="Unity Advantage PPO",
    coverage_start=date(2024, 1, 1),
    auth_required_codes=("97110",),
    in_network=True,
    deductible=Decimal("1000.00"),
    deductible_met=Decimal("250.00"),
    coinsurance_percent=Decimal("20"),
    copay=Decimal("30.00"),
)


def test_a_sound_answer_has_no_problems() -> None:
    assert problems(SOUND, QUERY) == []
    ended = replace(SOUND, coverage="inactive", coverage_end=date(2026, 10, 31), deductible=None, deductible_met=None)
    assert problems(ended, QUERY) == []
    assert problems(EligibilityResult("UHP", "not_found", "Member not found: date of birth"), QUERY) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"deductible_met": Decimal("1000.01")}, "deductible met is more than the deductible"),
        ({"deductible": Decimal("-1")}, "deductible is negative"),
        ({"copay": Decimal("-5")}, "copay is negative"),
        ({"coinsurance_percent": Decimal("120")}, "coinsurance is not a percentage"),
        ({"coverage": "maybe"}, "coverage 'maybe' is not one of"),
        ({"portal_words": " "}, "words are empty"),
        ({"coverage_end": date(2023, 12, 31)}, "coverage ends before it begins"),
        ({"coverage_end": date(2026, 11, 2)}, "coverage is active but the service date is outside its dates"),
        ({"coverage": "inactive", "coverage_end": date(2026, 12, 31)}, "inactive but the service date is inside"),
        ({"auth_required_codes": ("97530",)}, "codes not asked about: ['97530']"),
        ({"new_payer_id": "UHP"}, "moved to the payer asked"),
    ],
)
def test_an_answer_that_does_not_add_up_is_named(change: dict[str, object], problem: str) -> None:
    found = problems(replace(SOUND, **change), QUERY)  # type: ignore[arg-type]
    assert any(problem in p for p in found), found
    assert not any(QUERY.member_id in p for p in found)


def test_a_member_not_found_shows_nothing_else() -> None:
    found = problems(replace(SOUND, coverage="not_found"), QUERY)
    assert found and "a member not found still shows" in found[0]
    assert "U123456789" not in found[0]


@pytest.mark.parametrize(
    ("shown", "payer_id"),
    [
        ("Bluebird Health (BBH)", "BBH"),
        ("Northwind Mutual (payer ID NWM)", "NWM"),
        ("UNITY HEALTH PLANS - PLAN ID UHP", "UHP"),
        ("Bluebird Health", None),
        ("", None),
    ],
)
def test_the_payer_id_a_portal_prints_after_a_name(shown: str, payer_id: str | None) -> None:
    assert payer_id_shown(shown) == payer_id
