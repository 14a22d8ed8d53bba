"""How each payer takes appeals: the payer playbook (config/payer_playbook.toml, documented there).

Per payer and per level: the channel (portal, clearinghouse, fax, mail), the fax number or mailing address,
the form to use, how long the payer takes to answer (response_days) and what must be attached. Filing
windows are not here: they stay in payer_rules.toml (flows/deadlines.py).

Level 0 is the corrected claim; levels 1.. are the payer's appeal levels in payer_rules.toml's order.
A value is looked up most specific first: the payer's level table, the class's level table, the payer's own
keys, the class's keys, then the built-in defaults (response_days 30, attach nothing). An unknown payer gets
its class's (or the commercial class's) playbook.

An installation overrides the shipped file with a payer_playbook.toml beside its portal-worker.toml: its
tables are laid over the shipped ones key by key (a level table over the same level, `attach` replaced
whole), so a practice writes down only what differs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from flows.rules import rules_dir

FILE_NAME = "payer_playbook.toml"
FALLBACK_CLASS = "commercial"
DEFAULT_RESPONSE_DAYS = 30
CORRECTED_CLAIM_LEVEL = 0
MAX_LEVEL = 9
VALUE_KEYS = frozenset({"channel", "form", "fax", "address", "response_days", "attach", "note"})
CLASS_KEYS = VALUE_KEYS | {"levels"}
PAYER_KEYS = CLASS_KEYS | {"class"}
CATEGORY_KEYS = frozenset({"attach"})
FAX_NUMBER = re.compile(r"\+?[0-9][0-9 ().-]{6,20}[0-9]")


class Channel(StrEnum):
    PORTAL = "portal"  # the payer's own portal: the config's [portals.*] serving the payer
    CLEARINGHOUSE = "clearinghouse"  # through the clearinghouse portal serving the payer
    FAX = "fax"
    MAIL = "mail"

    @property
    def online(self) -> bool:
        return self in (Channel.PORTAL, Channel.CLEARINGHOUSE)


@dataclass(frozen=True)
class PlaybookLevel:
    """How to file one level with one payer."""

    channel: Channel
    form: str = ""
    fax: str = ""
    address: str = ""
    response_days: int = DEFAULT_RESPONSE_DAYS
    attach: tuple[str, ...] = ()
    note: str = ""
    assumed: bool = False  # the payer is not in the playbook: its class's defaults were used


@dataclass(frozen=True)
class Playbook:
    classes: Mapping[str, Mapping[str, Any]]
    payers: Mapping[str, Mapping[str, Any]]  # payer id -> its table, "class" resolved
    categories: Mapping[str, tuple[str, ...]]  # denial category -> what its appeal needs attached

    def level(self, payer_id: str, level: int, payer_class: str | None = None) -> PlaybookLevel:
        """How to file `level` (0 = corrected claim) with `payer_id`; an unknown payer gets `payer_class`'s
        (or the commercial class's) entry, marked assumed."""
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise ValueError(f"an appeal level is 0 (corrected claim) or more, not {level!r}")
        key = payer_id.strip().upper()
        payer = self.payers.get(key)
        if payer is not None:
            class_name = str(payer["class"])
        else:
            class_name = payer_class if payer_class is not None and payer_class in self.classes else FALLBACK_CLASS
        merged = _merged(self.classes[class_name], payer, str(level))
        channel = Channel(merged["channel"])
        return PlaybookLevel(
            channel=channel,
            form=merged.get("form", ""),
            fax=merged.get("fax", "") if channel is Channel.FAX else "",
            address=merged.get("address", "") if channel is Channel.MAIL else "",
            response_days=merged.get("response_days", DEFAULT_RESPONSE_DAYS),
            attach=tuple(merged.get("attach", ())),
            note=merged.get("note", ""),
            assumed=payer is None,
        )

    def category_attach(self, category: str) -> tuple[str, ...]:
        """What an appeal of this denial category needs attached on top of the payer's list."""
        return self.categories.get(category, ())


# --- loading ----------------------------------------------------------------------------------------------------


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string in quotes, not {value!r}")
    return value.strip()


def _channel(where: str, value: Any) -> str:
    if value not in {c.value for c in Channel}:
        raise ValueError(f"{where}: unknown channel {value!r} (one of: {', '.join(c.value for c in Channel)})")
    return str(value)


def _fax(where: str, value: Any) -> str:
    number = _text(where, value)
    if not FAX_NUMBER.fullmatch(number):
        raise ValueError(f"{where}: {value!r} is not a fax number (digits, spaces, + ( ) . -)")
    return number


def _days(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{where}: expected a positive whole number of days, not {value!r}")
    return value


def _attach(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f'{where}: expected a list of names like ["medical records"], not {value!r}')
    return tuple(item.strip() for item in value)


PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "channel": _channel,
    "form": _text,
    "fax": _fax,
    "address": _text,
    "response_days": _days,
    "attach": _attach,
    "note": _text,
    "class": _text,
}


def _values(where: str, table: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table, not {table!r}")
    if unknown := set(table) - allowed:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    values = {key: PARSERS[key](f"{where}.{key}", value) for key, value in table.items() if key != "levels"}
    if "levels" in table:
        values["levels"] = _levels(f"{where}.levels", table["levels"])
    return values


def _levels(where: str, table: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table of levels ([...levels.1], [...levels.2])")
    levels = {}
    for name, level in table.items():
        if not name.isdigit() or int(name) > MAX_LEVEL:
            raise ValueError(f"{where}.{name}: a level is 0 (corrected claim) or an appeal level 1-{MAX_LEVEL}")
        levels[str(int(name))] = _values(f"{where}.{name}", level, VALUE_KEYS)
    return levels


def _merged(class_table: Mapping[str, Any], payer_table: Mapping[str, Any] | None, level: str) -> dict[str, Any]:
    """Most specific wins: the payer's level table, the class's level table, the payer's keys, the class's."""
    tables = [class_table, *([payer_table] if payer_table else [])]
    merged: dict[str, Any] = {}
    for table in tables:
        merged.update({k: v for k, v in table.items() if k in VALUE_KEYS})
    for table in tables:
        merged.update(table.get("levels", {}).get(level, {}))
    return merged


def _check_reachable(where: str, class_table: Mapping[str, Any], payer_table: Mapping[str, Any] | None) -> None:
    """Every level these tables produce names a channel, and fax or mail has its number or address."""
    own = payer_table if payer_table is not None else class_table
    for level in sorted({"1", *class_table.get("levels", {}), *own.get("levels", {})}):
        merged = _merged(class_table, payer_table, level)
        at = f"{where}.levels.{level}" if level in own.get("levels", {}) else where
        if "channel" not in merged:
            raise ValueError(f"{at}: needs a channel ({', '.join(c.value for c in Channel)})")
        if merged["channel"] == Channel.FAX and not merged.get("fax"):
            raise ValueError(f"{at}.fax: channel fax needs a fax number")
        if merged["channel"] == Channel.MAIL and not merged.get("address"):
            raise ValueError(f"{at}.address: channel mail needs a mailing address")


def _layered(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: tables merge key by key (levels level by level), anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _layered(merged[key], value)
        else:
            merged[key] = value
    return merged


def playbook(document: Mapping[str, Any], source: str = FILE_NAME) -> Playbook:
    """Validate a parsed playbook; any problem is a ValueError naming the file and key path."""
    if unknown := set(document) - {"classes", "payers", "categories"}:
        raise ValueError(
            f"{source}: unknown key {sorted(unknown)[0]!r} (expected [classes.*], [payers.*], [categories.*])"
        )
    for section in ("classes", "payers", "categories"):
        if not isinstance(document.get(section, {}), dict):
            raise ValueError(f"{source}: {section}: expected a table")
    classes = {
        name: _values(f"{source}: classes.{name}", t, CLASS_KEYS) for name, t in document.get("classes", {}).items()
    }
    if FALLBACK_CLASS not in classes:
        raise ValueError(f"{source}: classes.{FALLBACK_CLASS} is required (the playbook for unknown payers)")
    for name, table in classes.items():
        _check_reachable(f"{source}: classes.{name}", table, None)
    payers: dict[str, dict[str, Any]] = {}
    for payer_id, table in document.get("payers", {}).items():
        where = f"{source}: payers.{payer_id}"
        values = _values(where, table, PAYER_KEYS)
        if values.get("class") not in classes:
            raise ValueError(
                f"{where}.class: unknown class {values.get('class')!r} (defined: {', '.join(sorted(classes))})"
            )
        key = payer_id.strip().upper()
        if key in payers:
            raise ValueError(f"{where}: payer {key} is defined twice")
        _check_reachable(where, classes[values["class"]], values)
        payers[key] = values
    categories = {
        name: _values(f"{source}: categories.{name}", table, CATEGORY_KEYS).get("attach", ())
        for name, table in document.get("categories", {}).items()
    }
    return Playbook(MappingProxyType(classes), MappingProxyType(payers), MappingProxyType(categories))


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path.name}: not valid TOML: {e}") from None


def override_path(config_dir: Path | None) -> Path | None:
    """The installation's playbook beside its config file, when it has one."""
    if config_dir is None:
        return None
    path = Path(config_dir) / FILE_NAME
    return path if path.is_file() else None


def load_playbook(config_dir: Path | None = None) -> Playbook:
    """The shipped playbook with the installation's payer_playbook.toml (in `config_dir`) laid over it;
    validated once per version of the files and cached. ValueError names the file and key of the first problem."""
    override = override_path(config_dir)
    return _load(override, override.stat().st_mtime_ns if override else None)


@cache
def _load(override: Path | None, _version: int | None) -> Playbook:
    document = _read(rules_dir() / FILE_NAME)
    source = FILE_NAME
    if override is not None:
        document, source = _layered(document, _read(override)), str(override)
    return playbook(document, source)


def playbook_problems(config_dir: Path | None) -> list[str]:
    """The playbook's problem as a config check reports it (empty when it loads)."""
    try:
        load_playbook(config_dir)
    except (ValueError, OSError) as e:
        return [str(e)]
    return []
