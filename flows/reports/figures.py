"""Small arithmetic the reports share: shares that are None when there is nothing to divide by, percentiles,
months, and the date a report's range applies to."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from flows.reports import ReportFilter

CENT = Decimal("0.01")


def share(part: Decimal | int, whole: Decimal | int) -> float | None:
    return float(Decimal(part) / Decimal(whole)) if whole else None


def money(value: Decimal | float | int) -> Decimal:
    return Decimal(value).quantize(CENT)


def median(values: Sequence[int]) -> float | None:
    """The middle value; the mean of the two middle ones for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[int], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def day_of(at: datetime) -> date:
    """The UTC day of a stored time (naive values are UTC), for a figure whose payer gave no date."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).date()


def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def in_range(day: date | None, chosen: ReportFilter) -> bool:
    if day is None:
        return False
    return (chosen.date_from is None or day >= chosen.date_from) and (chosen.date_to is None or day <= chosen.date_to)


def range_words(chosen: ReportFilter) -> str:
    if chosen.date_from and chosen.date_to:
        return f"from {chosen.date_from} to {chosen.date_to}"
    if chosen.date_from:
        return f"from {chosen.date_from}"
    if chosen.date_to:
        return f"up to {chosen.date_to}"
    return "over all dates"
