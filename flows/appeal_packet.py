"""What goes into one denial's appeal packet, and in what order (the worker renders and merges it).

A formal appeal: the cover letter (config/letters/<category>.html.j2, else appeal.html.j2), the claim
summary, the payer's denial (its adjustments and ERA lines, then each page kept as PDF), the eligibility
confirmation and the authorization approval when the project holds them, the attachments staff gave, and
last a checklist for staff of what must still be attached.

A corrected claim is not an appeal: a soft denial whose next step is a corrected (or new) claim gets a
correction sheet (correction.html.j2) naming what to fix from its CARC and RARC meanings, instead of a
letter, and the corrected-claim entry (level 0) of the playbook.

Checklist: the playbook's attach list for the payer and level, plus its category's, minus what the packet
holds. The packet fills "denial notice" (a kept page or an ERA), "claim" (the claim summary), "eligibility
confirmation" and "authorization approval"; everything else is for staff.

The letter folder is overridable like the playbook: a `letters/` folder beside the installation's
portal-worker.toml; a template there wins over the shipped one of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError

from flows.deadlines import CORRECTED_CLAIM, NEW_CLAIM, RuleBook, next_deadline
from flows.denial_codes import UNKNOWN_REMARK, DenialKind, describe_carc, describe_rarc
from flows.playbook import CORRECTED_CLAIM_LEVEL, Playbook, PlaybookLevel
from flows.rules import rules_dir
from store.appeal_packets import PacketFacts

LETTERS_FOLDER = "letters"
APPEAL_TEMPLATE = "appeal.html.j2"
CORRECTION_TEMPLATE = "correction.html.j2"
DENIAL_NOTICE, CLAIM, ELIGIBILITY, AUTHORIZATION = (
    "denial notice",
    "claim",
    "eligibility confirmation",
    "authorization approval",
)
# What a correction sheet tells staff to fix, by the denial's root cause (reason_codes.csv categories).
FIXES = {
    "coding": "the procedure or diagnosis codes, modifiers or units the codes name",
    "bundling": "the modifiers that show the services were distinct (or drop the bundled line)",
    "demographic": "the patient's name, date of birth or member id as the payer has them",
    "eligibility": "the member id, plan or payer the patient was covered by on the date of service",
    "coordination_of_benefits": "the other payer's information and its payment (attach its EOB)",
    "documentation": "the missing or invalid claim data the remark codes name",
    "credentialing": "the rendering or billing provider's identifiers (NPI, taxonomy) as enrolled",
    "authorization": "the prior-authorization number on the claim",
    "duplicate": "nothing to resubmit unless the claim was a different service: check the original's status",
    "timely_filing": "nothing in the claim: gather proof of timely filing",
}


class PacketProblem(ValueError):
    """A packet that cannot be built as asked (unknown denial, nothing to file, a bad attachment, a bad
    template); the message says what to do. Nothing was written."""


class PartKind(StrEnum):
    LETTER = "letter"
    CORRECTION = "correction"
    CLAIM = "claim"
    DENIAL = "denial"
    ELIGIBILITY = "eligibility"
    AUTHORIZATION = "authorization"
    ATTACHMENT = "attachment"
    CHECKLIST = "checklist"


@dataclass(frozen=True)
class Part:
    kind: PartKind
    title: str  # its bookmark in the PDF's outline
    html: str | None = None  # a page the worker prints to PDF
    pdf: Path | None = None  # a PDF merged as it is
    archive: Path | None = None  # a page kept as MHTML and not printed yet: printed with the packet

    @property
    def to_print(self) -> str | Path | None:
        """What the packet's printer prints for this part (None: a PDF merged as it is)."""
        return self.archive if self.archive is not None else self.html


@dataclass(frozen=True)
class PacketPlan:
    denial_id: int
    correction: bool  # a correction sheet, not an appeal letter
    level: int  # 0 = corrected claim, 1.. = the appeal level
    level_name: str
    due: date | None
    playbook: PlaybookLevel
    template: str  # the letter's (or correction sheet's) template
    parts: tuple[Part, ...]
    checklist: tuple[str, ...]  # what staff must still attach


# --- letters ----------------------------------------------------------------------------------------------------


def letters_override(config_dir: Path | None) -> Path | None:
    if config_dir is None:
        return None
    folder = Path(config_dir) / LETTERS_FOLDER
    return folder if folder.is_dir() else None


def letters(config_dir: Path | None = None) -> Environment:
    """The letter templates: the installation's letters/ folder first, then the shipped ones (a changed
    template is read again when next used)."""
    return _letters(letters_override(config_dir))


@cache
def _letters(override: Path | None) -> Environment:
    folders = [f for f in (override, rules_dir() / LETTERS_FOLDER) if f is not None]
    env = Environment(
        loader=FileSystemLoader(folders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda amount: f"${amount:,.2f}" if amount is not None else "—"
    env.filters["day"] = lambda day: day.strftime("%B %-d, %Y") if day else "—"
    return env


def letter_problems(config_dir: Path | None) -> list[str]:
    """Templates in the installation's letters/ folder that do not compile, each named with its line."""
    folder = letters_override(config_dir)
    if folder is None:
        return []
    env = letters(config_dir)
    problems = []
    for path in sorted(folder.glob("*.html.j2")):
        try:
            env.parse(path.read_text(encoding="utf-8"), path.name)
        except TemplateSyntaxError as e:
            problems.append(f"{folder / path.name}, line {e.lineno}: {e.message}")
        except (OSError, UnicodeDecodeError) as e:
            problems.append(f"{folder / path.name}: cannot be read ({e.__class__.__name__})")
    return problems


def letter_template(env: Environment, category: str) -> str:
    name = f"{category}.html.j2"
    return name if name in env.list_templates() else APPEAL_TEMPLATE


def _render(env: Environment, name: str, **context: Any) -> str:
    try:
        return env.get_template(name).render(**context)
    except TemplateError as e:
        raise PacketProblem(f"letter template {name}: {e.message or e.__class__.__name__}") from None


# --- the plan ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeWords:
    code: str
    words: str


def code_words(facts: PacketFacts) -> tuple[CodeWords, ...]:
    denial = facts.denial
    words = [CodeWords(f"{denial.group_code}-{denial.carc}", describe_carc(denial.carc) or "unknown code")]
    words += [CodeWords(rarc, describe_rarc(rarc) or UNKNOWN_REMARK) for rarc in denial.rarcs]
    return tuple(words)


def _what_to_file(facts: PacketFacts, rules: RuleBook) -> tuple[bool, int, str, date | None]:
    """(correction?, level, level name, due) for the denial's next step; PacketProblem when there is none."""
    denial, claim = facts.denial, facts.claim
    if claim is None:
        raise PacketProblem(
            f"denial {denial.id} is on claim {denial.reported_claim_id}, which is not in your claims: "
            "import the claim first (portal-worker import claims)"
        )
    if denial.kind == DenialKind.NOT_A_DENIAL:
        raise PacketProblem(f"denial {denial.id} is not a denial the payer can be asked to change")
    payer = rules.for_payer(claim.payer_id)
    denied_on = denial.denial_date or denial.first_seen_at.date()
    deadline = next_deadline(
        payer,
        denial.kind,
        denied_on,
        claim.dos_from,
        claim.dos_to,
        facts.appeals_filed,
        facts.last_decision,
        appealable=denial.appealable,
    )
    if deadline is not None and deadline.action in (CORRECTED_CLAIM, NEW_CLAIM):
        return True, CORRECTED_CLAIM_LEVEL, deadline.action, deadline.due
    if not denial.appealable:
        raise PacketProblem(f"denial {denial.id}: the payer grants no appeal rights on it (see its remark codes)")
    number = facts.appeals_filed + 1
    if number > len(payer.appeal_levels):
        raise PacketProblem(
            f"denial {denial.id}: all {len(payer.appeal_levels)} appeal level(s) of {claim.payer_id} "
            "have been filed; nothing further to file"
        )
    return False, number, payer.appeal_levels[number - 1].name, deadline.due if deadline else None


def _filled(items: Sequence[str], held: set[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item.lower() not in held))


def plan_packet(
    facts: PacketFacts,
    *,
    playbook: Playbook,
    rules: RuleBook,
    env: Environment,
    today: date,
    practice: str | None,
    attachments: Sequence[Path] = (),
    readable: Callable[[str], Path | None],
) -> PacketPlan:
    """The packet's parts in order. `readable` turns a stored evidence path into a file to merge (None when
    it is missing or outside the evidence folder); attachments are staff's PDFs, already checked."""
    correction, level, level_name, due = _what_to_file(facts, rules)
    denial, claim = facts.denial, facts.claim
    assert claim is not None and denial.id is not None
    entry = playbook.level(claim.payer_id, level, rules.for_payer(claim.payer_id).payer_class)
    codes = code_words(facts)
    context: dict[str, Any] = {
        "practice": practice or "",
        "payer_name": rules.for_payer(claim.payer_id).name or claim.payer_id,
        "claim": claim,
        "denial": denial,
        "codes": codes,
        "level": level,
        "level_name": level_name,
        "due": due,
        "playbook": entry,
        "today": today,
        "last_decision": facts.last_decision,
        "fix": FIXES.get(denial.category, "what the codes above name"),
        "disputed": Decimal(denial.amount),
    }
    template = CORRECTION_TEMPLATE if correction else letter_template(env, denial.category)
    first_title = "Correction sheet" if correction else f"Cover letter: {level_name}"
    parts = [
        Part(PartKind.CORRECTION if correction else PartKind.LETTER, first_title, _render(env, template, **context))
    ]
    parts.append(Part(PartKind.CLAIM, "Claim summary", _render(env, "page_claim_summary.html.j2", **context)))
    held = {CLAIM}
    parts.append(
        Part(
            PartKind.DENIAL,
            "Payer's denial: adjustments and ERA lines",
            _render(
                env, "page_denial.html.j2", **context, adjustments=facts.adjustments, remittances=facts.remittances
            ),
        )
    )
    missing: list[str] = []
    if facts.remittances:
        held.add(DENIAL_NOTICE)
    for kept in facts.evidence:
        path = readable(kept.pdf_path or "")
        archive = None if path is not None else readable(kept.archive_path or "")
        title = f"Payer's denial: page kept from {kept.portal} on {kept.created_at:%Y-%m-%d}"
        if path is None and archive is None:
            missing.append(f"the page kept from {kept.portal} on {kept.created_at:%Y-%m-%d} (its file is missing)")
            continue
        parts.append(Part(PartKind.DENIAL, title, pdf=path, archive=archive))
        held.add(DENIAL_NOTICE)
    if not correction:
        check = facts.eligibility
        path = readable(check.pdf_path or "") if check else None
        if check is not None and path is not None:
            parts.append(
                Part(PartKind.ELIGIBILITY, f"Eligibility confirmation of {check.checked_on:%Y-%m-%d}", pdf=path)
            )
            held.add(ELIGIBILITY)
        auth = facts.authorization
        if auth is not None and auth.status != "denied":
            page = _render(env, "page_authorization.html.j2", **context, auth=auth)
            parts.append(Part(PartKind.AUTHORIZATION, f"Authorization {auth.auth_number}", page))
            held.add(AUTHORIZATION)
    for n, attachment in enumerate(attachments, start=1):
        parts.append(Part(PartKind.ATTACHMENT, f"Attachment {n}", pdf=attachment))
    wanted = [*entry.attach, *([] if correction else playbook.category_attach(denial.category))]
    checklist = (*_filled(wanted, held), *missing)
    parts.append(
        Part(
            PartKind.CHECKLIST,
            "Checklist for staff (remove before sending)",
            _render(env, "page_checklist.html.j2", **context, checklist=checklist, attached=len(attachments)),
        )
    )
    return PacketPlan(denial.id, correction, level, level_name, due, entry, template, tuple(parts), checklist)
