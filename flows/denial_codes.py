"""What a payer's adjustment means: group code + CARC + RARCs -> root cause, owning team, soft or hard.

The tables are data: config/reason_codes.csv (one row per CARC) and
config/remark_codes.csv (one row per RARC). Descriptions are paraphrases (X12's
wording is copyrighted); the category/owner/kind mapping is the project's own
proposal, from the domain reference (section 2).

How an adjustment is read:

- The CARC's row gives category, owner and kind. Non-denials (deductible,
  coinsurance, copay, contractual, prior payer) are kind `not_a_denial`.
- The group code decides who pays: PR means the patient may be billed
  (`bill_patient`), even when the CARC is a real denial (PR-204).
- RARCs refine a denial, in the order the payer sent them (remark_codes.csv
  `refines` column): the first `cause` remark replaces category, owner and
  kind (it names the root cause more precisely than the CARC: M127 missing
  record -> documentation/providers); then the first `action` remark replaces
  only the kind (the payer says how to fix it: MA130/N517/N380 submit a new or
  corrected claim -> soft). The first remark with an `appealable` value sets
  appeal rights (N211, MA130: no). Blank `refines` = informational only.
  Remarks never turn a non-denial into a denial.
- A code missing from the tables, or an unknown group code, makes the result
  `unknown` (owner billing, kind UNKNOWN, known False) so a person looks at it;
  an unknown remark on a known non-denial only sets known False (it stays a
  non-denial, so contractual write-offs never flood the worklist).

Judgement calls where the reference says "soft if X, else hard": an unrefined
denial does not tell us X, so the table holds the "else": 26/27 (other
coverage?), 97 and 236 (modifier justified?), 167 (miscoded?) are hard.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType

from flows.rules import rules_dir

CATEGORIES = frozenset(
    {
        "eligibility",
        "authorization",
        "coding",
        "medical_necessity",
        "duplicate",
        "timely_filing",
        "documentation",
        "coordination_of_benefits",
        "non_covered",
        "demographic",
        "credentialing",
        "bundling",
        "contractual",
        "patient_responsibility",
    }
)
OWNERS = frozenset({"front_desk", "scheduling_auth", "coding", "providers", "credentialing", "billing", "none"})
GROUP_CODES = frozenset({"CO", "PR", "OA", "PI", "CR"})
UNKNOWN_CATEGORY, UNKNOWN_OWNER = "unknown", "billing"

CARC_PATTERN = re.compile(r"\d{1,3}|[ABDPWY]\d{1,2}")  # letter-prefixed CARCs: A, B, D, P, W, Y series
RARC_PATTERN = re.compile(r"(?:MA|M|N)\d{1,4}")
CARC_COLUMNS = ("carc", "description", "category", "owner", "kind")
RARC_COLUMNS = ("rarc", "description", "category", "owner", "kind", "refines", "appealable")


class DenialKind(StrEnum):
    SOFT = "soft"  # payable after a corrected claim or the missing information
    HARD = "hard"  # lost unless appealed
    NOT_A_DENIAL = "not_a_denial"
    UNKNOWN = "unknown"


class Refinement(StrEnum):
    NONE = ""
    CAUSE = "cause"
    ACTION = "action"


class RuleTableError(ValueError):
    """A code table that cannot be trusted; names the file and line to fix."""


@dataclass(frozen=True)
class CodeCategory:
    category: str
    owner: str
    kind: DenialKind
    description: str
    known: bool
    appealable: bool = True
    bill_patient: bool = False  # PR group: the payer says the patient (or a secondary payer) owes it


@dataclass(frozen=True)
class ReasonCode:
    code: str
    description: str
    category: str
    owner: str
    kind: DenialKind


@dataclass(frozen=True)
class RemarkCode:
    code: str
    description: str
    category: str | None  # None on informational remarks with no cause of their own
    owner: str | None
    kind: DenialKind | None
    refines: Refinement
    appealable: bool | None  # None: says nothing about appeal rights


def normalise(code: str) -> str:
    return code.strip().upper()


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != columns:
            raise RuleTableError(f"{path.name}: header must be {','.join(columns)}, not {reader.fieldnames}")
        for row in reader:
            if None in row or None in row.values():
                raise RuleTableError(f"{path.name}, line {reader.line_num}: expected {len(columns)} cells")
            yield reader.line_num, {k: v.strip() for k, v in row.items()}


def _choice(path: Path, line: int, column: str, value: str, allowed: Iterable[str]) -> str:
    if value not in allowed:
        raise RuleTableError(
            f"{path.name}, line {line}: unknown {column} {value!r} "
            f"(expected one of {', '.join(map(repr, sorted(allowed)))})"
        )
    return value


def _code(path: Path, line: int, value: str, pattern: re.Pattern[str], seen: dict[str, int]) -> str:
    code = normalise(value)
    if not pattern.fullmatch(code):
        raise RuleTableError(f"{path.name}, line {line}: {value!r} is not a valid code")
    if code in seen:
        raise RuleTableError(f"{path.name}, line {line}: duplicate code {code} (first on line {seen[code]})")
    seen[code] = line
    return code


def _check_owner(path: Path, line: int, owner: str | None, kind: DenialKind | None) -> None:
    if (owner == "none") != (kind is DenialKind.NOT_A_DENIAL):
        raise RuleTableError(f"{path.name}, line {line}: owner 'none' goes with kind 'not_a_denial', and only there")


@cache
def reason_codes(path: Path | None = None) -> Mapping[str, ReasonCode]:
    """The CARC table, validated; raises RuleTableError naming the file and line of a bad row."""
    path = path or rules_dir() / "reason_codes.csv"
    table: dict[str, ReasonCode] = {}
    seen: dict[str, int] = {}
    kinds = (DenialKind.SOFT, DenialKind.HARD, DenialKind.NOT_A_DENIAL)
    for line, row in _rows(path, CARC_COLUMNS):
        code = _code(path, line, row["carc"], CARC_PATTERN, seen)
        if not row["description"]:
            raise RuleTableError(f"{path.name}, line {line}: {code} has no description")
        kind = DenialKind(_choice(path, line, "kind", row["kind"], kinds))
        owner = _choice(path, line, "owner", row["owner"], OWNERS)
        _check_owner(path, line, owner, kind)
        table[code] = ReasonCode(
            code, row["description"], _choice(path, line, "category", row["category"], CATEGORIES), owner, kind
        )
    return MappingProxyType(table)


@cache
def remark_codes(path: Path | None = None) -> Mapping[str, RemarkCode]:
    """The RARC table, validated like reason_codes(); `cause` rows need category, owner and kind, `action` a kind."""
    path = path or rules_dir() / "remark_codes.csv"
    table: dict[str, RemarkCode] = {}
    seen: dict[str, int] = {}
    for line, row in _rows(path, RARC_COLUMNS):
        code = _code(path, line, row["rarc"], RARC_PATTERN, seen)
        if not row["description"]:
            raise RuleTableError(f"{path.name}, line {line}: {code} has no description")
        refines = Refinement(_choice(path, line, "refines", row["refines"], [r.value for r in Refinement]))
        required = {Refinement.CAUSE: ("category", "owner", "kind"), Refinement.ACTION: ("kind",)}.get(refines, ())
        for column in required:
            if not row[column]:
                raise RuleTableError(f"{path.name}, line {line}: a {refines.value!r} remark needs a {column}")
        category = _choice(path, line, "category", row["category"], CATEGORIES) if row["category"] else None
        owner = _choice(path, line, "owner", row["owner"], OWNERS - {"none"}) if row["owner"] else None
        kind = (
            DenialKind(_choice(path, line, "kind", row["kind"], (DenialKind.SOFT, DenialKind.HARD)))
            if row["kind"]
            else None
        )
        appealable = {"yes": True, "no": False, "": None}[
            _choice(path, line, "appealable", row["appealable"], ("yes", "no", ""))
        ]
        table[code] = RemarkCode(code, row["description"], category, owner, kind, refines, appealable)
    return MappingProxyType(table)


def describe_carc(carc: str) -> str | None:
    row = reason_codes().get(normalise(carc))
    return row.description if row else None


def describe_rarc(rarc: str) -> str | None:
    row = remark_codes().get(normalise(rarc))
    return row.description if row else None


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """The CARCs and RARCs (normalised, once each, in order) that neither table knows: rows to add."""
    known = reason_codes().keys() | remark_codes().keys()
    return list(dict.fromkeys(c for c in map(normalise, codes) if c and c not in known))


def categorise(group_code: str, carc: str, rarcs: Sequence[str] = ()) -> CodeCategory:
    """Categorise one adjustment; never raises for codes, whatever the payer sent."""
    group, code = normalise(group_code), normalise(carc)
    remarks = list(dict.fromkeys(r for r in map(normalise, rarcs) if r))
    reason, remark_table = reason_codes().get(code), remark_codes()
    missing = [f"group {group or '(blank)'}"] if group not in GROUP_CODES else []
    missing += ([] if reason else [code or "(blank CARC)"]) + [r for r in remarks if r not in remark_table]
    label = f"{group}-{code}"
    parts = [f"{label} {reason.description}" if reason else label]
    parts += [f"{r} {remark_table[r].description}" for r in remarks if r in remark_table]
    if missing:
        parts.append(f"not in the code tables: {', '.join(missing)}")
    description, bill_patient = "; ".join(parts), group == "PR"

    if reason is not None and group in GROUP_CODES and reason.kind is DenialKind.NOT_A_DENIAL:
        return CodeCategory(
            reason.category, reason.owner, reason.kind, description, not missing, bill_patient=bill_patient
        )
    if reason is None or missing:
        return CodeCategory(
            UNKNOWN_CATEGORY, UNKNOWN_OWNER, DenialKind.UNKNOWN, description, False, bill_patient=bill_patient
        )
    return _refined(reason, [remark_table[r] for r in remarks], description, bill_patient)


def _refined(reason: ReasonCode, remarks: list[RemarkCode], description: str, bill_patient: bool) -> CodeCategory:
    """The CARC's values, refined by the first cause remark, then the first action remark (module docstring)."""
    category, owner, kind = reason.category, reason.owner, reason.kind
    cause = next((r for r in remarks if r.refines is Refinement.CAUSE), None)
    if cause is not None and cause.category and cause.owner and cause.kind:  # the loader requires all three
        category, owner, kind = cause.category, cause.owner, cause.kind
    action = next((r for r in remarks if r.refines is Refinement.ACTION), None)
    if action is not None and action.kind is not None:
        kind = action.kind
    appealable = next((r.appealable for r in remarks if r.appealable is not None), True)
    return CodeCategory(category, owner, kind, description, True, appealable, bill_patient)


def denies(group_code: str, carc: str, rarcs: Sequence[str] = ()) -> bool:
    """True unless the adjustment is contract or cost sharing (or another non-denial in the table)."""
    return categorise(group_code, carc, rarcs).kind is not DenialKind.NOT_A_DENIAL
