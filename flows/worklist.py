"""The denial worklist: open denials, most worth working first.

priority = dollars at stake x urgency (days left to the next deadline) x
recoverability (soft before hard; categories that are usually overturned first,
from config/recoverability.csv).

A denial on a claim we do not know counts its deadlines from the ERA's dates of
service and takes its payer class from the ERA's claim filing indicator (CLP06).
An item whose ERA broke the 835 balancing rules carries that warning.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from sqlmodel import Session

from flows.appeal_progress import NONE_FILED, appeal_progress
from flows.deadlines import NEW_CLAIM, Deadline, RuleBook, load_payer_rules, next_deadline
from flows.denial_codes import OWNERS, UNKNOWN_REMARK, describe_carc, describe_rarc
from flows.rules import rules_dir
from store.claims import list_claims
from store.denials import (
    DenialFacts,
    denial_facts,
    denials_by_id,
    era_claims_for,
    era_warnings,
)
from store.models import Claim, Denial, EraClaim

KIND_FACTOR = {"soft": 1.0, "hard": 0.6, "unknown": 0.5}
URGENCY_HALF_LIFE_DAYS = 14  # a deadline two weeks out counts half as urgent as one due today
NO_DEADLINE_URGENCY = 0.5  # no rule gives a date: a person should still look soon
CLOSED_WINDOW_URGENCY = 0.2  # deadline passed: only a late appeal with good cause, or a write-off


@dataclass(frozen=True)
class CategoryOutlook:
    recoverability: float
    preventable: bool
    why: str


@cache
def category_outlook() -> dict[str, CategoryOutlook]:
    with (rules_dir() / "recoverability.csv").open(newline="") as f:
        return {
            row["category"]: CategoryOutlook(float(row["recoverability"]), row["preventable"] == "yes", row["why"])
            for row in csv.DictReader(f)
        }


def outlook(category: str) -> CategoryOutlook:
    table = category_outlook()
    return table.get(category, table["unknown"])


@dataclass(frozen=True)
class WorkItem:
    denial: Denial
    claim: Claim | None  # None for an ERA denial on a claim we do not know
    codes: str  # "CO-197: precertification absent; N54: ..."
    deadline: Deadline | None
    days_left: int | None
    priority: float
    warnings: tuple[str, ...] = ()  # the 835 balancing rules its ERA broke

    @property
    def action(self) -> str:
        action = self._next_step()
        return f"{action}; or bill the patient (PR)" if self.denial.bill_patient else action

    def _next_step(self) -> str:
        if self.deadline is None:
            if not self.denial.appealable:
                return "no appeal rights: submit a new claim if it can be corrected, else write off"
            return "review: no deadline rule applies" if self.denial.kind != "unknown" else "review the unknown code"
        closed = self.days_left is not None and self.days_left < 0
        if self.deadline.action == NEW_CLAIM:
            if closed:
                return f"{NEW_CLAIM} (timely filing passed: write off, unless proof of timely filing)"
            return f"{NEW_CLAIM} within timely filing (no appeal rights)"
        if closed:
            return f"{self.deadline.action} (window closed: late appeal with good cause, or write off)"
        return self.deadline.action


def urgency(days_left: int | None) -> float:
    if days_left is None:
        return NO_DEADLINE_URGENCY
    if days_left < 0:
        return CLOSED_WINDOW_URGENCY
    return 1.0 / (1.0 + days_left / URGENCY_HALF_LIFE_DAYS)


def priority(amount: Decimal, days_left: int | None, kind: str, category: str) -> float:
    return float(amount) * urgency(days_left) * KIND_FACTOR.get(kind, 0.5) * outlook(category).recoverability


def describe_codes(denial: Denial) -> str:
    parts = [f"{denial.group_code}-{denial.carc}: {describe_carc(denial.carc) or 'unknown code'}"]
    parts += [f"{rarc}: {describe_rarc(rarc) or UNKNOWN_REMARK}" for rarc in denial.rarcs]
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A denial's place on the worklist, worked out from its facts alone (no ORM objects)."""

    facts: DenialFacts
    deadline: Deadline | None
    days_left: int | None
    priority: float
    warnings: tuple[str, ...] = ()


def rank(
    facts: DenialFacts,
    rules: RuleBook,
    today: date,
    appeals_filed: int = 0,
    era: EraClaim | None = None,
    warnings: Sequence[str] = (),
    decision_date: date | None = None,
) -> Ranked:
    """`era`: the newest ERA claim of a denial whose claim is not in our claims (dates, CLP06);
    `decision_date`: the last filed level's upheld decision (flows.appeal_progress), the next level's anchor."""
    anchor = facts.denial_date or facts.first_seen_at.date()
    era_from = era.service_from if era and era.service_from else anchor
    era_to = era.service_to if era and era.service_to else era_from
    known = facts.dos_from is not None  # the claim is in our claims
    dos_from = facts.dos_from or era_from
    dos_to = facts.dos_to or era_to
    payer_rules = (
        rules.for_payer(facts.payer_id or "")
        if known or era is None
        else rules.for_claim(facts.payer_id or "", era.filing_indicator)
    )
    deadline = next_deadline(
        payer_rules,
        facts.kind,
        anchor,
        dos_from,
        dos_to,
        appeals_filed=appeals_filed,
        decision_date=decision_date,
        appealable=facts.appealable,
    )
    days_left = (deadline.due - today).days if deadline else None
    return Ranked(
        facts,
        deadline,
        days_left,
        priority(facts.amount, days_left, facts.kind, facts.category),
        tuple(warnings),
    )


def facts_of(denial: Denial, claim: Claim | None) -> DenialFacts:
    """A denial already loaded (one claim's page, an alert), as the facts ranking reads."""
    return DenialFacts(
        denial.id or 0,
        denial.claim_id,
        denial.reported_claim_id,
        denial.source,
        denial.source_ref,
        denial.payer_id,
        denial.amount,
        denial.category,
        denial.owner,
        denial.kind,
        denial.appealable,
        denial.assignee,
        denial.denial_date,
        denial.first_seen_at,
        claim.dos_from if claim else None,
        claim.dos_to if claim else None,
    )


def work_item(
    denial: Denial,
    claim: Claim | None,
    rules: RuleBook,
    today: date,
    appeals_filed: int = 0,
    era: EraClaim | None = None,
    warnings: Sequence[str] = (),
    decision_date: date | None = None,
) -> WorkItem:
    """`era`: the newest ERA claim of a denial whose claim is not in our claims (dates, CLP06)."""
    ranked = rank(facts_of(denial, claim), rules, today, appeals_filed, era, warnings, decision_date)
    return _item(ranked, denial, claim)


def _item(ranked: Ranked, denial: Denial, claim: Claim | None) -> WorkItem:
    return WorkItem(
        denial, claim, describe_codes(denial), ranked.deadline, ranked.days_left, ranked.priority, ranked.warnings
    )


def _most_valuable_first(priority: float, days_left: int | None, denial_id: int) -> tuple[float, int, int]:
    """Ties broken by the nearest deadline, then denial id."""
    return (-priority, days_left if days_left is not None else 10**6, denial_id)


def build_worklist(
    denials: Sequence[Denial],
    claims: dict[str, Claim],
    rules: RuleBook,
    today: date,
    appeals_filed: dict[int, int] | None = None,
    era_claims: dict[str, EraClaim] | None = None,
    warnings: dict[str, list[str]] | None = None,
    decision_dates: dict[int, date] | None = None,
) -> list[WorkItem]:
    """Work items sorted most valuable first.

    `era_claims` and `warnings` are keyed by the claim id as the payer sent it (reported_claim_id);
    `decision_dates` by denial id (the last filed level's upheld decision)."""
    appeals, eras, said = appeals_filed or {}, era_claims or {}, warnings or {}
    decided = decision_dates or {}
    items = [
        work_item(
            d,
            claims.get(d.claim_id or ""),
            rules,
            today,
            appeals.get(d.id or 0, 0),
            eras.get(d.reported_claim_id),
            said.get(d.reported_claim_id, ()),
            decided.get(d.id or 0),
        )
        for d in denials
    ]
    return sorted(items, key=lambda i: _most_valuable_first(i.priority, i.days_left, i.denial.id or 0))


def rank_worklist(
    session: Session, today: date, *, owner: str | None = None, statuses: Sequence[str] = ("open",)
) -> list[Ranked]:
    """Every denial in `statuses` (default: not yet worked), most valuable first, from plain columns."""
    facts = denial_facts(session, statuses=statuses, owner=owner)
    filed = appeal_progress(session)
    era_claims = era_claims_for(session, [f.reported_claim_id for f in facts if f.claim_id is None])
    warnings = balance_warnings_by_claim(session, facts)
    rules = load_payer_rules()
    ranked = [
        rank(
            f,
            rules,
            today,
            (progress := filed.get(f.id, NONE_FILED)).filed,
            era_claims.get(f.reported_claim_id),
            warnings.get(f.reported_claim_id, ()),
            progress.decision_date,
        )
        for f in facts
    ]
    return sorted(ranked, key=lambda r: _most_valuable_first(r.priority, r.days_left, r.facts.id))


def work_items(session: Session, ranked: Sequence[Ranked]) -> list[WorkItem]:
    """The denials and claims behind ranked entries, in the same order: only for the rows a person sees."""
    denials = denials_by_id(session, [r.facts.id for r in ranked])
    claim_ids = [r.facts.claim_id for r in ranked if r.facts.claim_id]
    claims = {c.claim_id: c for c in list_claims(session, claim_ids=claim_ids)} if claim_ids else {}
    return [_item(r, denials[r.facts.id], claims.get(r.facts.claim_id or "")) for r in ranked]


def load_worklist(
    session: Session, today: date, *, owner: str | None = None, statuses: Sequence[str] = ("open",)
) -> list[WorkItem]:
    """The worklist from the store: denials in `statuses` (default: not yet worked), most valuable first."""
    return work_items(session, rank_worklist(session, today, owner=owner, statuses=statuses))


def balance_warnings_by_claim(session: Session, denials: Sequence[DenialFacts]) -> dict[str, list[str]]:
    """Each claim's balancing warnings, and its ERA's file-level ones for the denials that ERA reported."""
    from_file = {(d.reported_claim_id, d.source_ref) for d in denials if d.source == "era"}
    found: dict[str, list[str]] = {}
    for file_id, warnings in era_warnings(session):
        for warning in warnings:
            claim_id = warning.get("claim_id")
            targets = [claim_id] if claim_id else [c for c, ref in from_file if ref == file_id]
            for target in targets:
                found.setdefault(target, []).append(str(warning["text"]))
    return found


# --- what staff narrow the worklist to (its export is flows/list_tables.worklist_table) -----------------

UNASSIGNED = "unassigned"  # the assignee filter's word for denials nobody has taken


@dataclass(frozen=True)
class WorklistFilter:
    """Every filter given must match; None matches anything. `assignee` is a login name or UNASSIGNED."""

    payer: str | None = None
    category: str | None = None
    assignee: str | None = None

    def keeps(self, item: Ranked) -> bool:
        d = item.facts
        if self.payer is not None and d.payer_id != self.payer:
            return False
        if self.category is not None and d.category != self.category:
            return False
        if self.assignee == UNASSIGNED:
            return d.assignee is None
        return self.assignee is None or d.assignee == self.assignee


def filter_worklist(items: Sequence[Ranked], chosen: WorklistFilter) -> list[Ranked]:
    return [item for item in items if chosen.keeps(item)]


def owner_choices() -> list[str]:
    """The departments a denial can belong to, as stored."""
    return sorted(OWNERS)


def normalise_owner(text: str) -> str | None:
    """A department as a person types it ("Coding", "front desk") as stored ("front_desk"); None if unknown."""
    wanted = text.strip().lower().replace(" ", "_").replace("-", "_")
    return wanted if wanted in OWNERS else None
