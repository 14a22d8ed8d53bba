"""Portal schedule windows: maintenance hours and business-hours-only portals.

No login may be attempted while a portal is closed. Times are wall-clock times in
the practice's time zone; a span whose end is not after its start crosses midnight
("23:00-01:00" closes from 23:00 to 01:00 the next morning; "22:00-24:00" runs to
midnight). A closed span counts every day, open or not.

`availability` works on the open intervals of the days around the moment asked
about (open hours minus closed spans, merged), so "when does it reopen" is exact
across midnight, weekends and a maintenance span inside open hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))
WHOLE_DAY = frozenset({"00:00-24:00", "0:00-24:00"})
SPAN = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
# Far enough ahead to find the next open moment of any weekly pattern, plus a span carried over midnight.
LOOK_BACK_DAYS, LOOK_AHEAD_DAYS = 1, 9

Interval = tuple[datetime, datetime]  # naive wall-clock [start, end)


@dataclass(frozen=True)
class PortalHours:
    closed: tuple[tuple[time, time], ...] = ()  # daily closed spans, may cross midnight ("23:00-01:00")
    open_days: frozenset[int] | None = None  # weekday numbers 0=Mon; None = every day
    open_from: time | None = None  # with open_until: only open inside
    open_until: time | None = None

    def __post_init__(self) -> None:
        if (self.open_from is None) != (self.open_until is None):
            raise ValueError("open_from and open_until go together")
        if self.open_from is not None and self.open_from == self.open_until:
            raise ValueError("open hours need different start and end times")
        if self.open_days is not None and not self.open_days <= EVERY_DAY:
            raise ValueError(f"weekday numbers are 0 (Monday) to 6 (Sunday), not {sorted(self.open_days)}")
        for start, end in self.closed:
            if start == end:
                raise ValueError(f"closed span {format_span((start, end))} has no length")

    @property
    def always_open(self) -> bool:
        return not self.closed and self.open_days is None and self.open_from is None


@dataclass(frozen=True)
class Availability:
    is_open: bool
    reason: str | None  # e.g. "maintenance hours 23:00-01:00", "outside open hours mon-fri 07:00-19:00"
    reopens_at: datetime | None  # local time when it next opens (None when open, or never open)
    closes_at: datetime | None = None  # local time when it next closes (None when closed, or never closes)


# --- parsing ----------------------------------------------------------------------------------------------------


def parse_span(text: str) -> tuple[time, time]:
    """ "23:00-01:00" -> (23:00, 01:00); "24:00" is allowed as an end (midnight)."""
    start, end = _span(text)
    if start == end:
        raise ValueError(f'"{text}" starts and ends at the same time')
    return start, end


def parse_open_hours(text: str) -> tuple[frozenset[int], time, time]:
    """ "mon-fri 07:00-19:00", "mon,wed,fri 08:00-12:00", "sat-sun 09:00-13:00" or "daily 06:00-22:00".

    "00:00-24:00" (the whole day) comes back as 00:00-00:00.
    """
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2:
        raise ValueError(f'"{text}" is not open hours like "mon-fri 07:00-19:00" or "daily 06:00-22:00"')
    days = _parse_days(text, parts[0])
    try:
        start, end = _span(parts[1])
    except ValueError as exc:
        raise ValueError(f'"{text}": {exc}') from None
    if start == end and parts[1].replace(" ", "") not in WHOLE_DAY:
        raise ValueError(f'"{text}": the hours start and end at the same time')
    return days, start, end


def portal_hours(closed_hours: Sequence[str], open_hours: str | None) -> PortalHours:
    """Hours from config strings; ValueError when one is malformed or the portal would never be open."""
    closed = tuple(parse_span(span) for span in closed_hours)
    if open_hours is None:
        hours = PortalHours(closed=closed)
    else:
        days, start, end = parse_open_hours(open_hours)
        whole_day = start == end
        hours = PortalHours(
            closed=closed,
            open_days=None if days == EVERY_DAY else days,
            open_from=None if whole_day else start,
            open_until=None if whole_day else end,
        )
    if not _open_intervals(hours, datetime(2024, 1, 1)):  # any week will do: the pattern repeats weekly
        raise ValueError("the closed hours cover all of the open hours: the portal would never be open")
    return hours


def _span(text: str) -> tuple[time, time]:
    match = SPAN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f'"{text}" is not a time span like "23:00-01:00"')
    return (
        _clock(text, int(match[1]), int(match[2]), may_be_24=False),
        _clock(text, int(match[3]), int(match[4]), may_be_24=True),
    )


def _clock(text: str, hour: int, minute: int, *, may_be_24: bool) -> time:
    if may_be_24 and (hour, minute) == (24, 0):
        return time(0)
    if hour > 23 or minute > 59:
        raise ValueError(f'"{text}": {hour:02d}:{minute:02d} is not a time of day (00:00 to 23:59)')
    return time(hour, minute)


def _parse_days(text: str, days: str) -> frozenset[int]:
    if days.lower() == "daily":
        return EVERY_DAY
    found: set[int] = set()
    for item in days.lower().split(","):
        first, dash, last = item.partition("-")
        for name in (first, last) if dash else (first,):
            if name not in DAY_NAMES:
                raise ValueError(f'"{text}": "{name}" is not a day (use {", ".join(DAY_NAMES)} or daily)')
        start = DAY_NAMES.index(first)
        length = (DAY_NAMES.index(last) - start) % 7 + 1 if last else 1  # "fri-mon" wraps over the weekend
        found.update((start + offset) % 7 for offset in range(length))
    return frozenset(found)


# --- describing -------------------------------------------------------------------------------------------------


def format_span(span: tuple[time, time]) -> str:
    start, end = span
    return f"{start:%H:%M}-{'24:00' if end == time(0) else f'{end:%H:%M}'}"


def describe_days(days: frozenset[int] | None) -> str:
    """ "daily", "mon-fri", "mon,wed,fri" (runs of three or more days as ranges)."""
    if days is None or days == EVERY_DAY:
        return "daily"
    ordered, runs = sorted(days), []
    run = [ordered[0]]
    for day in ordered[1:]:
        if day == run[-1] + 1:
            run.append(day)
        else:
            runs.append(run)
            run = [day]
    runs.append(run)
    words = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}")
        else:
            words.extend(DAY_NAMES[day] for day in run)
    return ",".join(words)


def describe_open_hours(hours: PortalHours) -> str | None:
    """ "mon-fri 07:00-19:00", "mon-fri" (days only), or None when open every day around the clock."""
    if hours.open_from is None or hours.open_until is None:
        return None if hours.open_days is None else describe_days(hours.open_days)
    return f"{describe_days(hours.open_days)} {format_span((hours.open_from, hours.open_until))}"


def describe_hours(hours: PortalHours) -> str:
    """One line for status output, e.g. "open mon-fri 06:00-20:00; closed 23:00-01:00"."""
    parts = []
    if (open_hours := describe_open_hours(hours)) is not None:
        parts.append(f"open {open_hours}")
    if hours.closed:
        parts.append(f"closed {', '.join(format_span(span) for span in hours.closed)}")
    return "; ".join(parts) or "always open"


# --- availability -----------------------------------------------------------------------------------------------


def availability(hours: PortalHours, local_now: datetime) -> Availability:
    """Is the portal open at `local_now` (naive or aware, in the practice's zone), and if not, until when."""
    if hours.always_open:
        return Availability(True, None, None)
    zone = local_now.tzinfo
    now = local_now.replace(tzinfo=None)
    intervals = _open_intervals(hours, now)
    for start, end in intervals:
        if start <= now < end:
            closes = None if end >= _horizon(now) else end.replace(tzinfo=zone)
            return Availability(True, None, None, closes)
    reopens = next((start.replace(tzinfo=zone) for start, _ in intervals if start > now), None)
    return Availability(False, _closed_reason(hours, now), reopens)


def _horizon(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=LOOK_AHEAD_DAYS), time(0))


def _open_intervals(hours: PortalHours, around: datetime) -> list[Interval]:
    """Open intervals (open hours minus closed spans, merged) over the days around `around`."""
    first = around.date() - timedelta(days=LOOK_BACK_DAYS)
    days = [first + timedelta(days=n) for n in range(LOOK_BACK_DAYS + LOOK_AHEAD_DAYS)]
    opened = [interval for day in days for interval in _open_hours_of(hours, day)]
    closed = [_span_on(day, span) for day in days for span in hours.closed]
    return _subtract(_merge(opened), _merge(closed))


def _open_hours_of(hours: PortalHours, day: date) -> list[Interval]:
    if hours.open_days is not None and day.weekday() not in hours.open_days:
        return []
    if hours.open_from is None or hours.open_until is None:
        return [(datetime.combine(day, time(0)), datetime.combine(day + timedelta(days=1), time(0)))]
    return [_span_on(day, (hours.open_from, hours.open_until))]


def _span_on(day: date, span: tuple[time, time]) -> Interval:
    """The span starting on `day`; an end not after the start is on the next day."""
    start, end = span
    end_day = day + timedelta(days=1) if end <= start else day
    return datetime.combine(day, start), datetime.combine(end_day, end)


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _subtract(opened: list[Interval], closed: list[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in opened:
        pieces = [(start, end)]
        for closed_start, closed_end in closed:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, closed_start)), (max(s, closed_end), e))
                if piece[0] < piece[1]
            ]
        result.extend(pieces)
    return result


def _closed_reason(hours: PortalHours, now: datetime) -> str:
    """Outside the open hours says so first (a weekend night is not "maintenance"); else the closed span."""
    recent = (now.date() - timedelta(days=1), now.date())
    if not any(start <= now < end for day in recent for start, end in _open_hours_of(hours, day)):
        return f"outside open hours {describe_open_hours(hours)}"
    for span in hours.closed:
        if any(start <= now < end for start, end in (_span_on(day, span) for day in recent)):
            return f"maintenance hours {format_span(span)}"
    return "closed"
