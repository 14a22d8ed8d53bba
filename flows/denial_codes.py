"""What a payer's adjustment means: group code + CARC + RARCs -> root cause, owning team, soft or hard.

The tables are data: config/reason_codes.csv (one row per CARC) and
config/remark_codes.csv (one row per RARC). Descriptions are paraphrases (X12's
wording is copyrighted); the category/owner/kind mapping is the project's own
proposal, from the domain reference (section 2). docs/code-tables.md says how
the rows were chosen and mapped.

Coverage: every CARC of the published list, active and retired (a retired code
still arrives on old claims and from payers slow to change; its description
starts "Retired:"), and the M, MA and N remark codes billing teams meet.

How an adjustment is read:

- The CARC's row gives category, owner and kind. Non-denials (deductible,
  coinsurance, copay, contractual such as 45, retired 42 and A2, prior payer)
  are kind `not_a_denial`. A line the payer has not decided yet (133, the
  exchange grace-period codes 257/277, litigation) is category `pending`, also
  kind `not_a_denial`: it is neither lost nor owed, and `CodeCategory.pending`
  says so.
- An adjustment of $0.00 is never a denial, whatever its codes: nothing was
  taken away (payers send them as information).
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
- How remark rows are mapped (a rule, not hundreds of guesses): a remark
  naming missing, incomplete or invalid claim data or a missing document, or
  a root cause the CARC leaves open (patient not enrolled, provider type not
  allowed, paid to someone else already), is a `cause` (category from what is
  missing or wrong: provider identifiers -> credentialing, patient data ->
  demographic, codes -> coding, clinical records -> documentation/providers,
  forms and claim data -> documentation/billing, other-payer data ->
  coordination of benefits); a remark telling the provider to rebill,
  resubmit or split the claim is an `action` (kind soft, or hard where it
  says to appeal instead: N368); a remark about appeal rights sets
  `appealable`; every other remark (alerts, coverage policy, how the amount
  was computed) only informs: the CARC already says what happened.
- A CARC missing from the table, or an unknown group code, makes the result
  `unknown` (owner billing, kind UNKNOWN, known False) so a person looks at it.
- A remark missing from the table never discards what the CARC says: the
  result keeps the CARC's (and the known remarks') category, owner, kind and
  appeal rights, and lists the remark in `unknown_remarks`, described as
  "remark code not in our table".

Judgement calls where the reference says "soft if X, else hard": an unrefined
denial does not tell us X, so the table holds the "else": 26/27 (other
coverage?), 97 and 236 (modifier justified?), 167 (miscoded?) are hard.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
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
        "pending",  # the payer has not decided the line yet (CARC 133)
    }
)
OWNERS = frozenset({"front_desk", "scheduling_auth", "coding", "providers", "credentialing", "billing", "none"})
GROUP_CODES = frozenset({"CO", "PR", "OA", "PI", "CR"})
UNKNOWN_CATEGORY, UNKNOWN_OWNER = "unknown", "billing"
PENDING_CATEGORY = "pending"
UNKNOWN_REMARK = "remark code not in our table"

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
    unknown_remarks: tuple[str, ...] = ()  # RARCs not in remark_codes.csv: shown, never used to categorise

    @property
    def pending(self) -> bool:
        """The payer has not decided this line yet: not a denial, not final either."""
        return self.category == PENDING_CATEGORY


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


def categorise(group_code: str, carc: str, rarcs: Sequence[str] = (), amount: Decimal | None = None) -> CodeCategory:
    """Categorise one adjustment; never raises for codes, whatever the payer sent.

    `amount` is the adjusted amount when known: $0.00 is never a denial.
    """
    group, code = normalise(group_code), normalise(carc)
    remarks = list(dict.fromkeys(r for r in map(normalise, rarcs) if r))
    reason, remark_table = reason_codes().get(code), remark_codes()
    known_remarks = [remark_table[r] for r in remarks if r in remark_table]
    unknown_remarks = tuple(r for r in remarks if r not in remark_table)
    missing = [f"group {group or '(blank)'}"] if group not in GROUP_CODES else []
    missing += [] if reason else [code or "(blank CARC)"]
    label = f"{group}-{code}"
    parts = [f"{label} {reason.description}" if reason else label]
    parts += [f"{r.code} {r.description}" for r in known_remarks]
    if missing:
        parts.append(f"not in the code tables: {', '.join(missing)}")
    if unknown_remarks:
        parts.append(f"{UNKNOWN_REMARK}: {', '.join(unknown_remarks)}")
    zero = amount is not None and amount == 0
    if zero:
        parts.append("$0.00 adjusted: not a denial")
    description, bill_patient = "; ".join(parts), group == "PR"

    if reason is None or missing:
        category, owner, kind = UNKNOWN_CATEGORY, UNKNOWN_OWNER, DenialKind.UNKNOWN
        result = CodeCategory(category, owner, kind, description, False, True, bill_patient, unknown_remarks)
    elif reason.kind is DenialKind.NOT_A_DENIAL:
        result = CodeCategory(
            reason.category, reason.owner, reason.kind, description, True, True, bill_patient, unknown_remarks
        )
    else:
        result = _refined(reason, known_remarks, description, bill_patient, unknown_remarks)
    if zero and result.kind is not DenialKind.NOT_A_DENIAL:
        return replace(result, owner="none", kind=DenialKind.NOT_A_DENIAL)
    return result


def _refined(
    reason: ReasonCode, remarks: list[RemarkCode], description: str, bill_patient: bool, unknown: tuple[str, ...]
) -> CodeCategory:
    """The CARC's values, refined by the first cause remark, then the first action remark (module docstring)."""
    category, owner, kind = reason.category, reason.owner, reason.kind
    cause = next((r for r in remarks if r.refines is Refinement.CAUSE), None)
    if cause is not None and cause.category and cause.owner and cause.kind:  # the loader requires all three
        category, owner, kind = cause.category, cause.owner, cause.kind
    action = next((r for r in remarks if r.refines is Refinement.ACTION), None)
    if action is not None and action.kind is not None:
        kind = action.kind
    appealable = next((r.appealable for r in remarks if r.appealable is not None), True)
    return CodeCategory(category, owner, kind, description, True, appealable, bill_patient, unknown)


def denies(group_code: str, carc: str, rarcs: Sequence[str] = (), amount: Decimal | None = None) -> bool:
    """True unless the adjustment is contract, cost sharing, pending, $0.00 (or another non-denial in the table)."""
    return categorise(group_code, carc, rarcs, amount).kind is not DenialKind.NOT_A_DENIAL
