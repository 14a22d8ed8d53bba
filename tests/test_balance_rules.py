"""The balance rules a claim detail page must pass before any of its figures is stored (portals/balance.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fake_portal.data import generate
from portals.balance import Entry, Line, Sheet, problems


def d(text: str) -> Decimal:
    return Decimal(text)


# A paid two-line claim: 145.00 + 65.00 billed; contractual CO-45 on both lines, a PR-3 copay on line 1.
LINES = (Line("1", d("145.00"), d("78.10")), Line("2", d("65.00"), d("50.70")))
ENTRIES = (
    Entry("CO", d("46.90"), "1"),
    Entry("PR", d("20.00"), "1"),
    Entry("CO", d("14.30"), "2"),
)
PAID = d("128.80")


def sheet(**changes: object) -> Sheet:
    values: dict[str, object] = {
        "billed": d("210.00"),
        "paid": PAID,
        "entries": ENTRIES,
        "lines": LINES,
        "patient_responsibility": d("20.00"),
    }
    values.update(changes)
    return Sheet(**values)  # type: ignore[arg-type]


def test_a_page_whose_claim_and_lines_balance_has_no_problem() -> None:
    assert problems(sheet()) == []


def test_patient_responsibility_is_counted_once_among_the_adjustments_not_added_again() -> None:
    # billed 210.00 = paid 128.80 + CO 61.20 + PR 20.00: the page's own 20.00 figure is not a second deduction
    assert problems(sheet()) == []
    assert problems(sheet(paid=PAID - d("20.00"))) != []  # as if the copay were taken twice


def test_a_patient_responsibility_figure_that_differs_from_the_pr_adjustments_is_a_problem() -> None:
    found = problems(sheet(patient_responsibility=d("30.00")))
    assert found == ["patient responsibility 30.00 differs from its PR adjustments 20.00"]


def test_a_difference_of_one_cent_is_tolerated_and_two_cents_are_not() -> None:
    assert problems(sheet(billed=d("210.01"), lines=())) == []
    assert problems(sheet(billed=d("209.99"), lines=())) == []
    found = problems(sheet(billed=d("210.02"), lines=()))
    assert found == ["billed 210.02 - paid 128.80 - adjustments 81.20 leaves 0.02 unaccounted for"]


def test_a_dropped_adjustment_row_unbalances_the_claim_and_its_line() -> None:
    found = problems(sheet(entries=ENTRIES[:2]))
    assert any(p.startswith("billed 210.00 - paid 128.80 - adjustments 66.90 leaves 14.30") for p in found)
    assert any(p.startswith("line 2: billed 65.00 - paid 50.70 - adjustments 0.00 leaves 14.30") for p in found)


def test_a_line_that_does_not_balance_is_a_problem_even_when_the_claim_total_does() -> None:
    moved = (Entry("CO", d("56.90"), "1"), Entry("PR", d("20.00"), "1"), Entry("CO", d("4.30"), "2"))
    found = problems(sheet(entries=moved))
    assert len(found) == 2 and all(p.startswith("line ") for p in found)


def test_an_adjustment_shown_negative_is_an_unknown_sign_convention() -> None:
    negated = tuple(Entry(e.group, -e.amount, e.line) for e in ENTRIES)
    found = problems(sheet(entries=negated, paid=PAID))
    assert found == ["3 adjustment(s) shown negative: a sign convention the adapter does not know"]


def test_one_negative_adjustment_is_refused_even_if_the_sums_were_made_to_fit() -> None:
    entries = (*ENTRIES, Entry("CO", d("-5.00"), "2"), Entry("CO", d("5.00"), "2"))
    assert "sign convention" in problems(sheet(entries=entries))[0]


def test_a_claim_not_yet_adjudicated_has_nothing_to_balance() -> None:
    assert problems(Sheet(billed=d("210.00"), paid=None)) == []


def test_adjustments_without_a_paid_amount_are_a_problem() -> None:
    assert problems(sheet(paid=None)) == ["it shows adjustments but no paid amount"]


def test_a_paid_amount_without_a_billed_amount_is_a_problem() -> None:
    assert problems(sheet(billed=None)) == ["it shows a paid amount but no billed amount"]


def test_a_fully_denied_claim_balances_with_paid_zero() -> None:
    denied = Sheet(d("145.00"), d("0.00"), (Entry("CO", d("145.00"), "1"),), (Line("1", d("145.00"), d("0.00")),))
    assert problems(denied) == []


def test_lines_that_do_not_add_up_to_the_claim_charge_are_a_problem() -> None:
    found = problems(sheet(lines=LINES[:1], entries=ENTRIES[:2], paid=d("78.10")))
    assert "its service lines charge 145.00 but the claim bills 210.00" in found


def test_an_adjustment_on_a_line_the_page_does_not_list_is_a_problem() -> None:
    entries = (*ENTRIES[:2], Entry("CO", d("14.30"), "3"))
    assert "1 adjusted line(s) are not among its service lines" in problems(sheet(entries=entries))


def test_a_line_without_a_paid_figure_may_not_be_adjusted_beyond_its_charge() -> None:
    no_line_paid = tuple(Line(line.key, line.billed) for line in LINES)
    assert problems(sheet(lines=no_line_paid)) == []
    over = (Entry("CO", d("80.00"), "2"), *ENTRIES[:2])
    found = problems(sheet(lines=no_line_paid, entries=over, paid=d("63.10")))
    assert found == ["line 2 is adjusted 80.00, more than its charge 65.00"]


def test_claim_level_adjustments_count_toward_the_claim_not_a_line() -> None:
    entries = (*ENTRIES, Entry("OA", d("10.00")))
    assert problems(sheet(entries=entries, paid=PAID - d("10.00"))) == []


def test_a_service_line_listed_twice_is_a_problem() -> None:
    assert "a service line is listed twice" in problems(sheet(lines=(*LINES, LINES[1])))


@pytest.mark.parametrize("seed", [7, 11, 2026])
def test_every_status_the_fake_portals_show_balances_so_only_a_drift_is_refused(seed: int) -> None:
    dataset = generate(seed=seed, start=date(2026, 11, 2), claims_per_payer=40)
    for claim in dataset.claims.values():
        for status in claim.history:
            lines = tuple(Line(str(line.line_no), line.charge) for line in claim.lines)
            entries = tuple(
                Entry(a.group_code, a.amount, None if a.line_no is None else str(a.line_no)) for a in status.adjustments
            )
            shown = Sheet(claim.billed, status.paid, entries, lines, status.patient_responsibility)
            assert problems(shown) == [], claim.claim_id
