"""Filing and appeal deadlines from payer rules (config/payer_rules.toml, documented there).

Which deadline comes next for a denial (next_deadline):

- soft: "resubmit corrected claim" (level 0), due the corrected-claim window
  after the denial date; when the payer wants corrections within timely
  filing, the earlier of that and the timely-filing deadline; with no
  corrected-claim window, the timely-filing deadline. A date already past at
  the denial date is returned as it is (overdue): a person decides between an
  appeal with proof of timely filing and a write-off.
- hard, and unknown (so a person looks at it): appeal level appeals_filed + 1,
  due its window after receipt of the denial (level 1) or of the previous
  level's decision (later levels; None while that decision is awaited),
  or from the denial for a level whose rule says anchor = "denial".
  A soft denial already appealed continues on the appeal levels.
- a denial the payer says cannot be appealed (e.g. MA130, unprocessable):
  when it can be fixed (soft), "submit a new claim" by the timely-filing
  deadline, since a new claim is what it takes; otherwise None.
- not_a_denial, or no further level: None.

Timely filing counts from the date of service (no receipt days). The
corrected-claim window counts from the denial date itself (a reopening runs
from the determination, not its receipt). Appeal windows add receipt_days
first. Only payers with roll_weekends move a deadline off weekends and US
federal holidays.
"""

from __future__ import annotations

import tomllib
from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flows.denial_codes import DenialKind
from flows.rules import rules_dir

FALLBACK_CLASS = "commercial"
CLASS_KEYS = frozenset(
    {
        "timely_filing",
        "corrected_claim",
        "corrected_claim_within_timely_filing",
        "receipt_days",
        "roll_weekends",
        "appeal_levels",
    }
)
REQUIRED_CLASS_KEYS = ("timely_filing", "appeal_levels")
PAYER_KEYS = CLASS_KEYS | {"class", "name", "state"}
LEVEL_KEYS = frozenset({"name", "days", "months", "anchor"})
CORRECTED_CLAIM = "resubmit corrected claim"
NEW_CLAIM = "submit a new claim"
# CLP06 claim filing indicator -> payer class, for a claim whose payer the rule file does not name
FILING_INDICATOR_CLASS = {"MA": "medicare", "MB": "medicare", "MC": "medicaid"}


@dataclass(frozen=True)
class Window:
    days: int | None = None
    months: int | None = None

    def __post_init__(self) -> None:
        if (self.days is None) == (self.months is None):
            raise ValueError("a window is either days or months")
        value = self.days if self.days is not None else self.months
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"a window needs a positive whole number, not {value!r}")


@dataclass(frozen=True)
class AppealLevel:
    name: str
    window: Window
    from_denial: bool = False  # counted from the original denial rather than the previous level's decision


@dataclass(frozen=True)
class PayerRules:
    payer_id: str
    payer_class: str
    timely_filing: Window
    corrected_claim: Window | None
    appeal_levels: tuple[AppealLevel, ...]
    receipt_days: int
    roll_weekends: bool
    corrected_claim_within_timely_filing: bool = False
    name: str = ""
    state: str | None = None
    assumed: bool = False  # payer not in the rule file: its class's defaults were assumed


@dataclass(frozen=True)
class Deadline:
    action: str  # "resubmit corrected claim" or "file <appeal level>"
    due: date
    level: int  # 0 = corrected claim, 1.. = appeal level


@dataclass(frozen=True)
class RuleBook:
    classes: Mapping[str, PayerRules]
    payers: Mapping[str, PayerRules]

    def for_payer(self, payer_id: str) -> PayerRules:
        """The payer's rules; an unknown payer gets the commercial defaults, marked assumed."""
        key = payer_id.strip().upper()
        found = self.payers.get(key)
        return found if found is not None else replace(self.classes[FALLBACK_CLASS], payer_id=key, assumed=True)

    def for_claim(self, payer_id: str, filing_indicator: str | None) -> PayerRules:
        """A payer the rule file names keeps its own rules; else the class its claim filing indicator
        (CLP06) gives (MA/MB Medicare, MC Medicaid), marked assumed; else the commercial defaults."""
        key = payer_id.strip().upper()
        payer_class = FILING_INDICATOR_CLASS.get((filing_indicator or "").strip().upper())
        if key in self.payers or payer_class is None or payer_class not in self.classes:
            return self.for_payer(payer_id)
        return replace(self.classes[payer_class], payer_id=key, assumed=True)


# --- calendar ---------------------------------------------------------------------------------------------------


def add_window(anchor: date, window: Window) -> date:
    """anchor + window; months are calendar months clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    if window.days is not None:
        return anchor + timedelta(days=window.days)
    assert window.months is not None
    index = anchor.month - 1 + window.months
    year, month = anchor.year + index // 12, index % 12 + 1
    return date(year, month, min(anchor.day, monthrange(year, month)[1]))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Federal rule: a holiday on Saturday is observed the Friday before, on Sunday the Monday after."""
    return day + timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))


@cache
def us_federal_holidays(year: int) -> frozenset[date]:
    """The 5 U.S.C. 6103 holidays observed in `year` (Dec 31 can be next year's New Year's Day)."""
    monday, thursday = 0, 3
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25), date(year + 1, 1, 1)]
    if year >= 2021:
        fixed.append(date(year, 6, 19))  # Juneteenth, a federal holiday since 2021
    floating = [
        _nth_weekday(year, 1, monday, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, monday, 3),  # Washington's Birthday
        _last_weekday(year, 5, monday),  # Memorial Day
        _nth_weekday(year, 9, monday, 1),  # Labor Day
        _nth_weekday(year, 10, monday, 2),  # Columbus Day
        _nth_weekday(year, 11, thursday, 4),  # Thanksgiving
    ]
    return frozenset(d for d in [*map(_observed, fixed), *floating] if d.year == year)


def roll_to_workday(day: date, holidays: frozenset[date] | None = None) -> date:
    """The day itself if a workday, else the next one (default holidays: US federal, observed dates)."""
    if holidays is None:
        holidays = us_federal_holidays(day.year) | us_federal_holidays(day.year + 1)
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def _settle(day: date, rules: PayerRules) -> date:
    return roll_to_workday(day) if rules.roll_weekends else day


# --- deadlines --------------------------------------------------------------------------------------------------


def due(anchor: date, window: Window, rules: PayerRules) -> date:
    """A window counted from a notice dated `anchor`: receipt days first, then the window, then the payer's roll."""
    return _settle(add_window(anchor + timedelta(days=rules.receipt_days), window), rules)


def timely_filing_deadline(rules: PayerRules, dos_from: date, dos_to: date, institutional: bool = False) -> date:
    """Professional claims count from the (first line's) from date, institutional span claims from the through date."""
    return _settle(add_window(dos_to if institutional else dos_from, rules.timely_filing), rules)


def corrected_claim_deadline(
    rules: PayerRules, denial_date: date, dos_from: date, dos_to: date, institutional: bool = False
) -> date:
    filing = timely_filing_deadline(rules, dos_from, dos_to, institutional)
    if rules.corrected_claim is None:
        return filing
    corrected = _settle(add_window(denial_date, rules.corrected_claim), rules)
    return min(corrected, filing) if rules.corrected_claim_within_timely_filing else corrected


def next_deadline(
    rules: PayerRules,
    kind: str,
    denial_date: date,
    dos_from: date,
    dos_to: date,
    appeals_filed: int = 0,
    decision_date: date | None = None,
    *,
    institutional: bool = False,
    appealable: bool = True,
) -> Deadline | None:
    """The next thing to file for a denial of this kind, and by when (rules in the module docstring)."""
    denial_kind = DenialKind(kind)
    if appeals_filed < 0:
        raise ValueError(f"appeals_filed cannot be negative ({appeals_filed})")
    if denial_kind is DenialKind.NOT_A_DENIAL:
        return None
    if not appealable and appeals_filed == 0 and denial_kind is DenialKind.SOFT:
        return Deadline(NEW_CLAIM, timely_filing_deadline(rules, dos_from, dos_to, institutional), 0)
    if denial_kind is DenialKind.SOFT and appeals_filed == 0:
        return Deadline(
            CORRECTED_CLAIM, corrected_claim_deadline(rules, denial_date, dos_from, dos_to, institutional), 0
        )
    number = appeals_filed + 1
    if not appealable or number > len(rules.appeal_levels):
        return None
    level = rules.appeal_levels[number - 1]
    anchor = denial_date if number == 1 or level.from_denial else decision_date
    if anchor is None:
        return None  # the previous level's decision has not come yet
    return Deadline(f"file {level.name}", due(anchor, level.window, rules), number)


# --- loading ----------------------------------------------------------------------------------------------------


def _window(where: str, value: Any) -> Window:
    if not isinstance(value, dict) or set(value) - {"days", "months"}:
        raise ValueError(f"{where}: a window is {{ days = N }} or {{ months = N }}, not {value!r}")
    try:
        return Window(days=value.get("days"), months=value.get("months"))
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _levels(where: str, value: Any) -> tuple[AppealLevel, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: appeal_levels is a list of {{ name, days | months }}")
    levels = []
    for n, level in enumerate(value, start=1):
        at = f"{where}[{n}]"
        if not isinstance(level, dict):
            raise ValueError(f"{at}: an appeal level is {{ name, days | months }}")
        if unknown := set(level) - LEVEL_KEYS:
            raise ValueError(f"{at}: unknown key {sorted(unknown)[0]!r}")
        if not isinstance(level.get("name"), str) or not level["name"].strip():
            raise ValueError(f"{at}: an appeal level needs a name")
        if level.get("anchor", "decision") not in ("denial", "decision"):
            raise ValueError(f"{at}: anchor is 'denial' or 'decision', not {level['anchor']!r}")
        window = _window(at, {k: v for k, v in level.items() if k in ("days", "months")})
        levels.append(AppealLevel(level["name"].strip(), window, level.get("anchor") == "denial"))
    return tuple(levels)


def _typed(where: str, value: Any, expected: type) -> Any:
    if type(value) is not expected:
        raise ValueError(f"{where}: expected {expected.__name__}, not {value!r}")
    return value


def _settings(where: str, table: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table")
    if unknown := set(table) - allowed:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    parsers: dict[str, Callable[[str, Any], Any]] = {
        "timely_filing": _window,
        "corrected_claim": _window,
        "appeal_levels": _levels,
        "receipt_days": lambda w, v: _typed(w, v, int),
        "roll_weekends": lambda w, v: _typed(w, v, bool),
        "corrected_claim_within_timely_filing": lambda w, v: _typed(w, v, bool),
        "class": lambda w, v: _typed(w, v, str),
        "name": lambda w, v: _typed(w, v, str),
        "state": lambda w, v: _typed(w, v, str),
    }
    settings = {key: parsers[key](f"{where}.{key}", value) for key, value in table.items()}
    if settings.get("receipt_days", 0) < 0:
        raise ValueError(f"{where}.receipt_days: cannot be negative")
    return settings


def _rules(payer_id: str, payer_class: str, settings: dict[str, Any]) -> PayerRules:
    return PayerRules(
        payer_id=payer_id,
        payer_class=payer_class,
        timely_filing=settings["timely_filing"],
        corrected_claim=settings.get("corrected_claim"),
        appeal_levels=settings["appeal_levels"],
        receipt_days=settings.get("receipt_days", 0),
        roll_weekends=settings.get("roll_weekends", False),
        corrected_claim_within_timely_filing=settings.get("corrected_claim_within_timely_filing", False),
        name=settings.get("name", ""),
        state=settings.get("state"),
    )


def rule_book(document: Mapping[str, Any], source: str = "payer_rules.toml") -> RuleBook:
    """Validate a parsed rule file; any problem is a ValueError naming the file and key."""
    if unknown := set(document) - {"classes", "payers"}:
        raise ValueError(f"{source}: unknown key {sorted(unknown)[0]!r} (expected [classes.*] and [payers.*])")
    class_settings: dict[str, dict[str, Any]] = {}
    for name, table in document.get("classes", {}).items():
        settings = _settings(f"{source}: classes.{name}", table, CLASS_KEYS)
        for key in REQUIRED_CLASS_KEYS:
            if key not in settings:
                raise ValueError(f"{source}: classes.{name} needs {key}")
        class_settings[name] = settings
    if FALLBACK_CLASS not in class_settings:
        raise ValueError(f"{source}: classes.{FALLBACK_CLASS} is required (the rules for unknown payers)")
    payers = {}
    for payer_id, table in document.get("payers", {}).items():
        where = f"{source}: payers.{payer_id}"
        settings = _settings(where, table, PAYER_KEYS)
        payer_class = settings.pop("class", None)
        if payer_class not in class_settings:
            raise ValueError(
                f"{where}.class: unknown class {payer_class!r} (defined: {', '.join(sorted(class_settings))})"
            )
        key = payer_id.strip().upper()
        if key in payers:
            raise ValueError(f"{where}: payer {key} is defined twice")
        payers[key] = _rules(key, payer_class, {**class_settings[payer_class], **settings})
    classes = {name: _rules("", name, settings) for name, settings in class_settings.items()}
    return RuleBook(MappingProxyType(classes), MappingProxyType(payers))


@cache
def load_payer_rules(path: Path | None = None) -> RuleBook:
    """The rule book from config/payer_rules.toml (or `path`), validated once and cached."""
    path = path or rules_dir() / "payer_rules.toml"
    try:
        with path.open("rb") as f:
            document = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path.name}: not valid TOML: {e}") from None
    return rule_book(document, path.name)
