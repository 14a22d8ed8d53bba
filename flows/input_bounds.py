"""The bounds every value from a practice's export must lie within before it is stored.

A value outside them is a typo or a broken export, never a real claim: refusing it names
the cell, where storing it would crash the database (integers past 64 bits), round it
silently (money past NUMERIC(12,2)) or put a deadline in the year 9999.
Each check returns the reason to show after the cell's name, or None when the value is fine.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal

# NUMERIC(12,2): ten digits before the point, two after, stored exactly.
MAX_MONEY = Decimal("9999999999.99")
MAX_MONEY_DIGITS = 10
# Far beyond any authorization's units (a year of daily 15-minute units is 35,040) and far below
# what a 64-bit integer column holds.
MAX_UNITS = 99_999
EARLIEST_DATE = date(2000, 1, 1)


def import_day(now: datetime) -> date:
    """The day of an import in the worker host's calendar, which the practice's export uses too."""
    return now.astimezone().date() if now.tzinfo else now.date()


def latest_date(today: date) -> date:
    """A year after `today`: future service dates and authorization ends stay within it."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # Feb 29 -> Feb 28
        return today.replace(year=today.year + 1, day=28)


def money_problem(whole_digits: str) -> str | None:
    """For the integer part of an amount as written, before it becomes a number: a 29-digit
    amount is refused here, never rounded by a decimal context or stored as a float."""
    if len(whole_digits.lstrip("0")) > MAX_MONEY_DIGITS:
        return f"is more than {MAX_MONEY:,} (the largest amount the worker stores)"
    return None


def units_problem(digits: str) -> str | None:
    """For a count as written: checked on the digits, so a thousand-digit cell never becomes an int."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(MAX_UNITS)) or (significant and int(significant) > MAX_UNITS):
        return f"is more than {MAX_UNITS:,} units"
    return None


def date_problem(value: date, today: date) -> str | None:
    latest = latest_date(today)
    if value < EARLIEST_DATE or value > latest:
        return f"is outside the accepted range ({EARLIEST_DATE.isoformat()} to {latest.isoformat()}, a year from today)"
    return None


def control_character_problem(text: str) -> str | None:
    """Control characters (NUL, tab, line breaks, escapes) in a cell: an export that went wrong, and
    invisible in every list the worker prints. The character is named, never the cell's text (PHI)."""
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            return f"contains a control character (U+{ord(ch):04X}); remove it"
    return None
