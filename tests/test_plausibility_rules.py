"""The pure rules behind 'impossible changes are refused': identifiers compared normalised, and which
changes a payer does not make (flows/plausibility.py). No browser: the end-to-end proof is
tests/test_impossible_changes.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fake_portal.data import generate
from fake_portal.id_drift import check_id_drift, drifted
from flows.denials import DenialReport, fingerprint
from flows.plausibility import (
    ImpossibleChange,
    Known,
    MissingClaims,
    refuse_renumbered,
    refuse_vanished,
    too_many_missing,
)
from portals.errors import LayoutChanged
from portals.identifiers import normal_id, same_id
from portals.types import Adjustment


@pytest.mark.parametrize(
    "printed",
    [
        "NWM44134036573",
        "NWM-4413-4036573",
        "nwm 4413 4036573",
        " NWM/4413.4036573 ",
        "NWM_4413_4036573",
        "\uff2e\uff37\uff2d44134036573",  # full-width letters
    ],
)
def test_a_payer_claim_number_printed_with_case_spaces_or_separators_is_the_same_number(printed: str) -> None:
    assert normal_id(printed) == "NWM44134036573"
    assert same_id(printed, "NWM44134036573")


def test_other_digits_or_a_missing_number_are_never_the_same_id() -> None:
    assert not same_id("NWM-4413-4036574", "NWM44134036573")
    assert not same_id("NWM44134036573", "NWM4413403657")
    assert not same_id(None, "NWM44134036573") and not same_id(None, None)


def _report(claim_id: str, payer_claim_number: str | None) -> DenialReport:
    return DenialReport(claim_id, claim_id, "NWM", payer_claim_number, None, (), "portal", "summit")


def test_a_denial_key_is_built_from_the_normal_form_so_separators_open_no_second_denial() -> None:
    adjustment = Adjustment("CO", "50", Decimal("97.25"), line_procedure="99213")
    plain = fingerprint(_report("PC-1001", "NWM44134036573"), adjustment, 1)
    printed = fingerprint(_report("pc1001", "NWM-4413-4036573"), adjustment, 1)
    assert plain == printed == "PC1001|NWM44134036573|CO|50|99213|1"


@pytest.mark.parametrize("status", ["paid", "partially_paid", "denied", "finalized"])
def test_a_settled_claim_that_vanishes_is_refused_as_a_layout_change(status: str) -> None:
    with pytest.raises(ImpossibleChange) as refused:
        refuse_vanished("unity", "PC1001", Known(status, "UHP12345678901"))
    assert isinstance(refused.value, LayoutChanged)
    assert f"claim PC1001 was {status} and the portal no longer finds it" in refused.value.message


@pytest.mark.parametrize("status", [None, "pending", "received", "info_requested", "rejected", "not_on_file"])
def test_an_open_or_never_seen_claim_may_go_missing(status: str | None) -> None:
    refuse_vanished("unity", "PC1001", Known(status, None))  # nothing raised


def test_a_payer_claim_number_that_changes_its_digits_is_refused_and_separators_are_not() -> None:
    known = Known("pending", "UHP12345678901")
    refuse_renumbered("unity", "PC1001", known, "UHP-1234-5678901")
    refuse_renumbered("unity", "PC1001", known, None)
    refuse_renumbered("unity", "PC1001", Known("pending", None), "UHP99999999999")  # first sight
    with pytest.raises(ImpossibleChange, match="payer claim number changed its digits"):
        refuse_renumbered("unity", "PC1001", known, "UHP12345678902")


@pytest.mark.parametrize(
    ("missing", "found_checked", "too_many"),
    [(0, 0, False), (3, 3, False), (4, 12, True), (4, 40, False), (5, 40, True), (10, 100, False), (11, 100, True)],
)
def test_more_than_max_of_three_or_a_tenth_of_found_claims_missing_is_too_many(
    missing: int, found_checked: int, too_many: bool
) -> None:
    assert too_many_missing(missing, found_checked) is too_many
    assert MissingClaims(found_checked, [None] * missing).too_many() is too_many  # type: ignore[list-item]


def test_the_fake_portals_id_drift_prints_renumbers_or_hides_claims() -> None:
    claims = generate(seed=7).claims_for({"NWM"})[:3]
    number = claims[0].payer_claim_number
    assert [c.payer_claim_number for c in drifted("", claims)] == [c.payer_claim_number for c in claims]
    shown = drifted("separators", claims)[0].payer_claim_number
    assert shown == f"{number[:3]}-{number[3:7]}-{number[7:]}" and same_id(shown, number)
    renumbered = drifted("renumber", claims)[0].payer_claim_number
    assert renumbered != number and len(renumbered) == len(number) and not same_id(renumbered, number)
    assert drifted("vanish", claims) == []
    assert [c.claim_id for c in drifted(f"vanish:{claims[1].claim_id}", claims)] == [
        claims[0].claim_id,
        claims[2].claim_id,
    ]


@pytest.mark.parametrize("value", ["shuffle", "separators:PC1", "vanish-all"])
def test_an_unknown_id_drift_is_rejected_with_the_known_ones(value: str) -> None:
    with pytest.raises(ValueError, match=r"unknown id_drift.*separators, renumber, vanish"):
        check_id_drift(value)
