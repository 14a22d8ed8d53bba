"""A claim detail page checked against itself: its money must balance before any figure is stored.

What a payer's page shows follows the 835: billed = paid + every adjustment (contractual, denied,
patient responsibility), at claim level and on each service line. Patient responsibility is one
of those adjustments (group PR), so a "patient responsibility" figure the page also shows is
compared with them, never added a second time. An adjustment shown negative is a sign
convention the adapters do not know: it is refused, not flipped.

Pure: an adapter reads the page into a `Sheet`, and `problems` says what does not add up. An
adapter turns any problem into `LayoutChanged`, so a page read wrong (a row missed, a column
moved) never becomes a stored figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

CENT = Decimal("0.01")  # what rounding on the payer's side may leave
ZERO = Decimal("0")
PATIENT_RESPONSIBILITY_GROUP = "PR"


@dataclass(frozen=True)
class Entry:
    """One adjustment as the page shows it."""

    group: str  # CAS group code: CO, PR, OA, PI, CR
    amount: Decimal
    line: str | None = None  # the key of its service line; None for claim level


@dataclass(frozen=True)
class Line:
    """One service line's money, as far as the page shows it."""

    key: str  # what the page calls the line ("1", "2", ...)
    billed: Decimal
    paid: Decimal | None = None  # None where the page shows no per-line payment


@dataclass(frozen=True)
class Sheet:
    """The money one claim detail page shows."""

    billed: Decimal | None
    paid: Decimal | None  # None until the payer adjudicates
    entries: tuple[Entry, ...] = ()
    lines: tuple[Line, ...] = ()  # empty where the adapter reads no line charges
    patient_responsibility: Decimal | None = None  # the page's own figure, where it shows one


def problems(sheet: Sheet) -> list[str]:
    """What does not add up on the page, in words a person can check against it; empty when it balances."""
    negative = [e for e in sheet.entries if e.amount < ZERO]
    if negative:
        return [f"{len(negative)} adjustment(s) shown negative: a sign convention the adapter does not know"]
    if sheet.paid is None:
        if sheet.entries:
            return ["it shows adjustments but no paid amount"]
        return []  # not adjudicated yet: no money to balance
    if sheet.billed is None:
        return ["it shows a paid amount but no billed amount"]
    found = _claim_level(sheet, sheet.billed, sheet.paid)
    if sheet.lines:
        found += _line_level(sheet, sheet.billed)
    return found


def _claim_level(sheet: Sheet, billed: Decimal, paid: Decimal) -> list[str]:
    found = []
    adjusted = _total(e.amount for e in sheet.entries)
    left = billed - paid - adjusted
    if abs(left) > CENT:
        found.append(
            f"billed {billed:.2f} - paid {paid:.2f} - adjustments {adjusted:.2f} leaves {left:.2f} unaccounted for"
        )
    if sheet.patient_responsibility is not None:
        owed = _total(e.amount for e in sheet.entries if e.group == PATIENT_RESPONSIBILITY_GROUP)
        if abs(sheet.patient_responsibility - owed) > CENT:
            found.append(
                f"patient responsibility {sheet.patient_responsibility:.2f} differs from its PR adjustments {owed:.2f}"
            )
    return found


def _line_level(sheet: Sheet, billed: Decimal) -> list[str]:
    found = []
    keys = [line.key for line in sheet.lines]
    if len(set(keys)) != len(keys):
        found.append("a service line is listed twice")
    charged = _total(line.billed for line in sheet.lines)
    if abs(charged - billed) > CENT:
        found.append(f"its service lines charge {charged:.2f} but the claim bills {billed:.2f}")
    unknown = {e.line for e in sheet.entries if e.line is not None} - set(keys)
    if unknown:
        found.append(f"{len(unknown)} adjusted line(s) are not among its service lines")
    for line in sheet.lines:
        adjusted = _total(e.amount for e in sheet.entries if e.line == line.key)
        if line.paid is None:
            if adjusted - line.billed > CENT:
                found.append(f"line {line.key} is adjusted {adjusted:.2f}, more than its charge {line.billed:.2f}")
            continue
        left = line.billed - line.paid - adjusted
        if abs(left) > CENT:
            found.append(
                f"line {line.key}: billed {line.billed:.2f} - paid {line.paid:.2f} - adjustments {adjusted:.2f} "
                f"leaves {left:.2f} unaccounted for"
            )
    return found


def _total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)
