"""Portal schedule windows without a browser: parsing, open or closed, and exactly when a portal reopens."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from flows.windows import (
    Availability,
    PortalHours,
    availability,
    describe_hours,
    parse_open_hours,
    parse_span,
    portal_hours,
)

# 2026-11-16 is a Monday.
MON, TUE, WED, THU, FRI, SAT, SUN = (16, 17, 18, 19, 20, 21, 22)
WEEKDAYS = frozenset(range(5))


def at(day: int, hh_mm: str) -> datetime:
    hour, minute = map(int, hh_mm.split(":"))
    return datetime(2026, 11, day, hour, minute)


# --- parsing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23:00-01:00", (time(23), time(1))),
        ("07:30-19:00", (time(7, 30), time(19))),
        (" 7:30 - 9:00 ", (time(7, 30), time(9))),
        ("22:00-24:00", (time(22), time(0))),  # to midnight
    ],
)
def test_parse_span(text: str, expected: tuple[time, time]) -> None:
    assert parse_span(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("23-01", "is not a time span"),
        ("23:00", "is not a time span"),
        ("", "is not a time span"),
        ("25:00-01:00", "25:00 is not a time of day"),
        ("23:60-01:00", "23:60 is not a time of day"),
        ("24:00-01:00", "24:00 is not a time of day"),  # 24:00 only ends a span
        ("10:00-10:00", "starts and ends at the same time"),
        ("00:00-24:00", "starts and ends at the same time"),  # closed all day: the portal would never open
    ],
)
def test_a_bad_span_says_what_is_wrong_and_quotes_it(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as error:
        parse_span(text)
    assert f'"{text}"' in str(error.value)


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("mon-fri 07:00-19:00", WEEKDAYS, time(7), time(19)),
        ("mon,wed,fri 08:00-12:00", {0, 2, 4}, time(8), time(12)),
        ("daily 06:00-22:00", set(range(7)), time(6), time(22)),
        ("Sat-Sun 09:00-13:00", {5, 6}, time(9), time(13)),
        ("fri-mon 09:00-17:00", {4, 5, 6, 0}, time(9), time(17)),  # wraps over the weekend
        ("mon-wed,sat 09:00-17:00", {0, 1, 2, 5}, time(9), time(17)),
        ("mon-fri 00:00-24:00", WEEKDAYS, time(0), time(0)),  # whole days
    ],
)
def test_parse_open_hours(text: str, days: set[int], start: time, end: time) -> None:
    assert parse_open_hours(text) == (frozenset(days), start, end)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("weekdays 07:00-19:00", '"weekdays" is not a day'),
        ("mon- 07:00-19:00", '"" is not a day'),
        ("mon-fri", "is not open hours like"),
        ("mon-fri 07:00 19:00", "is not open hours like"),
        ("mon-fri 7-19", '"mon-fri 7-19": "7-19" is not a time span'),
        ("mon-fri 08:00-08:00", "start and end at the same time"),
    ],
)
def test_bad_open_hours_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_open_hours(text)


def test_portal_hours_from_config_strings() -> None:
    assert portal_hours([], None) == PortalHours()
    assert portal_hours(["23:00-01:00"], "daily 06:00-22:00") == PortalHours(
        closed=((time(23), time(1)),), open_days=None, open_from=time(6), open_until=time(22)
    )
    assert portal_hours([], "mon-fri 00:00-24:00") == PortalHours(open_days=WEEKDAYS)


def test_hours_that_leave_the_portal_never_open_are_refused() -> None:
    with pytest.raises(ValueError, match="never be open"):
        portal_hours(["00:00-12:00", "12:00-24:00"], None)
    with pytest.raises(ValueError, match="never be open"):
        portal_hours(["06:00-20:00"], "mon-fri 07:00-19:00")


def test_describe_hours() -> None:
    assert describe_hours(portal_hours([], None)) == "always open"
    assert (
        describe_hours(portal_hours(["23:00-01:00", "12:00-12:30"], "mon-fri 06:00-20:00"))
        == "open mon-fri 06:00-20:00; closed 23:00-01:00, 12:00-12:30"
    )
    assert describe_hours(portal_hours([], "mon,tue,thu 08:00-24:00")) == "open mon,tue,thu 08:00-24:00"


# --- availability -----------------------------------------------------------------------------------------------


def test_always_open() -> None:
    assert availability(PortalHours(), at(SUN, "03:00")) == Availability(True, None, None)


NIGHTLY = portal_hours(["23:00-01:00"], None)  # the fake Medicaid portal


@pytest.mark.parametrize(
    ("now", "reopens_at"),
    [
        (at(MON, "23:00"), at(TUE, "01:00")),
        (at(MON, "23:30"), at(TUE, "01:00")),
        (at(TUE, "00:30"), at(TUE, "01:00")),
        (at(SUN, "23:59"), datetime(2026, 11, 23, 1)),  # into next week
    ],
)
def test_a_nightly_maintenance_window_crossing_midnight(now: datetime, reopens_at: datetime) -> None:
    assert availability(NIGHTLY, now) == Availability(False, "maintenance hours 23:00-01:00", reopens_at)


def test_open_outside_the_maintenance_window_and_when_it_closes_next() -> None:
    assert availability(NIGHTLY, at(TUE, "01:00")) == Availability(True, None, None, at(TUE, "23:00"))
    assert availability(NIGHTLY, at(TUE, "22:59")) == Availability(True, None, None, at(TUE, "23:00"))


BUSINESS = portal_hours([], "mon-fri 07:00-19:00")


@pytest.mark.parametrize(
    ("now", "reopens_at"),
    [
        (at(MON, "06:59"), at(MON, "07:00")),
        (at(WED, "19:00"), at(THU, "07:00")),
        (at(FRI, "19:00"), datetime(2026, 11, 23, 7)),  # Friday evening: Monday morning
        (at(SAT, "12:00"), datetime(2026, 11, 23, 7)),
        (at(SUN, "23:59"), datetime(2026, 11, 23, 7)),
    ],
)
def test_business_hours_only(now: datetime, reopens_at: datetime) -> None:
    assert availability(BUSINESS, now) == Availability(False, "outside open hours mon-fri 07:00-19:00", reopens_at)


def test_inside_business_hours() -> None:
    assert availability(BUSINESS, at(WED, "07:00")) == Availability(True, None, None, at(WED, "19:00"))


def test_a_closed_span_inside_open_hours() -> None:
    hours = portal_hours(["12:00-12:30"], "daily 06:00-22:00")

    assert availability(hours, at(TUE, "12:10")) == Availability(
        False, "maintenance hours 12:00-12:30", at(TUE, "12:30")
    )
    assert availability(hours, at(TUE, "11:00")).closes_at == at(TUE, "12:00")
    assert availability(hours, at(TUE, "12:30")).closes_at == at(TUE, "22:00")


def test_a_closed_span_overlapping_the_opening_moves_the_reopening() -> None:
    hours = portal_hours(["05:00-07:30"], "mon-fri 06:00-20:00")

    # before the open hours: the portal opens at 06:00 on paper, but maintenance runs until 07:30
    assert availability(hours, at(MON, "05:30")) == Availability(
        False, "outside open hours mon-fri 06:00-20:00", at(MON, "07:30")
    )
    assert availability(hours, at(MON, "06:30")) == Availability(
        False, "maintenance hours 05:00-07:30", at(MON, "07:30")
    )


def test_weekend_night_says_outside_open_hours_not_maintenance_and_reopens_after_monday_maintenance() -> None:
    hours = portal_hours(["23:00-01:00"], "mon-fri 00:00-24:00")

    assert availability(hours, at(SAT, "23:30")) == Availability(
        False, "outside open hours mon-fri", datetime(2026, 11, 23, 1)
    )
    assert availability(hours, at(SUN, "23:30")).reopens_at == datetime(2026, 11, 23, 1)
    friday_night = availability(hours, at(FRI, "23:30"))
    assert friday_night.reason == "maintenance hours 23:00-01:00"
    assert friday_night.reopens_at == datetime(2026, 11, 23, 1)  # not Saturday 01:00: the weekend is closed


def test_open_hours_crossing_midnight_belong_to_the_day_they_start() -> None:
    hours = portal_hours([], "fri 20:00-02:00")

    assert availability(hours, at(SAT, "01:00")) == Availability(True, None, None, at(SAT, "02:00"))
    assert availability(hours, at(SAT, "21:00")).reopens_at == datetime(2026, 11, 27, 20)
    assert availability(hours, at(THU, "21:00")).reopens_at == at(FRI, "20:00")


def test_an_aware_local_time_gets_an_aware_reopening_in_the_same_zone() -> None:
    zone = ZoneInfo("America/New_York")

    result = availability(NIGHTLY, at(MON, "23:30").replace(tzinfo=zone))

    assert result.reopens_at == at(TUE, "01:00").replace(tzinfo=zone)
    assert result.reopens_at is not None and result.reopens_at.tzinfo is zone
