"""One claim as a person reads it: its timeline, payments and denials in plain words, with deadlines.

The web page and `portal-worker claim ID` both show this, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flows.appeal_progress import NONE_FILED, AppealProgress
from flows.deadlines import RuleBook, load_payer_rules
from flows.denial_codes import UNKNOWN_REMARK, describe_carc, describe_rarc
from flows.worklist import WorkItem, work_item
from store.claim_detail import ClaimRecord
from store.models import Denial, DenialEvent, Evidence

# CLP02, the claim status an ERA reports, in words
ERA_STATUS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to another payer",
    "20": "processed as secondary, forwarded to another payer",
    "21": "processed as tertiary, forwarded to another payer",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded to another payer",
}
KIND_WORDS = {"soft": "soft (can be corrected)", "hard": "hard (appeal or write off)", "unknown": "unknown code"}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # UTC
    source: str  # "portal unity" or "ERA file 835-0001"
    status: str
    changes: str  # what changed since the entry before
    detail: str | None = None
    evidence: Evidence | None = None  # what the portal showed when this was first seen (flows/claim_evidence.py)


@dataclass(frozen=True)
class Payment:
    number: str | None  # check or EFT trace number
    paid_on: date | None
    billed: Decimal | None
    allowed: Decimal | None
    paid: Decimal | None
    source: str


@dataclass(frozen=True)
class CodeMeaning:
    code: str
    words: str


@dataclass(frozen=True)
class DenialView:
    item: WorkItem
    codes: tuple[CodeMeaning, ...]
    events: tuple[DenialEvent, ...]  # newest first

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.item.denial.kind, self.item.denial.kind)


@dataclass(frozen=True)
class ClaimView:
    record: ClaimRecord
    timeline: tuple[TimelineEntry, ...]  # newest first
    payments: tuple[Payment, ...]  # newest first
    denials: tuple[DenialView, ...]

    @property
    def recheck_queued(self) -> bool:
        return bool(self.record.open_checks)


def claim_view(
    record: ClaimRecord,
    today: date,
    rules: RuleBook | None = None,
    progress: Mapping[int, AppealProgress] | None = None,
) -> ClaimView:
    """`today`: the practice's today, from which days left are counted; `progress`: the denials' appeals
    (flows.appeal_progress.appeal_progress), else counted from their "appealed" history entries."""
    book = rules or load_payer_rules()
    denials = tuple(_denial(record, d, book, today, progress) for d in record.denials)
    return ClaimView(record, timeline(record), payments(record), denials)


def timeline(record: ClaimRecord) -> tuple[TimelineEntry, ...]:
    kept = {e.id: e for e in record.evidence}
    entries = [
        TimelineEntry(o.observed_at, f"portal {o.portal}", o.status, o.changes, o.status_text, kept.get(o.evidence_id))
        for o in record.observations
    ]
    for remitted in record.remittances:
        era, file = remitted.claim, remitted.file
        words = ERA_STATUS.get(era.status_code, f"status code {era.status_code}")
        entries.append(
            TimelineEntry(
                file.imported_at,
                f"ERA file {file.file_id}",
                words,
                f"remittance: {words}; billed {era.billed:,.2f}, paid {era.paid:,.2f}",
                f"payer claim number {era.payer_claim_number}" if era.payer_claim_number else None,
            )
        )
    return tuple(sorted(entries, key=lambda e: _utc(e.at), reverse=True))


def payments(record: ClaimRecord) -> tuple[Payment, ...]:
    """Each payment once: a portal's (check number, date, allowed, paid) and each ERA's (trace number, date)."""
    found: dict[tuple[str | None, date | None, str], Payment] = {}
    for o in record.observations:
        if o.check_number or o.payment_date or o.paid_amount:
            found[(o.check_number, o.payment_date, "portal")] = Payment(
                o.check_number, o.payment_date, o.billed_amount, o.allowed_amount, o.paid_amount, f"portal {o.portal}"
            )
    for remitted in record.remittances:
        era, file = remitted.claim, remitted.file
        found[(file.trace_number, file.payment_date, file.file_id)] = Payment(
            file.trace_number, file.payment_date, era.billed, None, era.paid, f"ERA file {file.file_id}"
        )
    return tuple(sorted(found.values(), key=lambda p: p.paid_on or date.min, reverse=True))


def _denial(
    record: ClaimRecord, denial: Denial, rules: RuleBook, today: date, progress: Mapping[int, AppealProgress] | None
) -> DenialView:
    events = record.events.get(denial.id or 0, [])
    if progress is None:
        appealed = AppealProgress(sum(1 for event in events if event.status == "appealed"))
    else:
        appealed = progress.get(denial.id or 0, NONE_FILED)
    item = work_item(denial, record.claim, rules, today, appealed.filed, decision_date=appealed.decision_date)
    codes = [CodeMeaning(f"{denial.group_code}-{denial.carc}", describe_carc(denial.carc) or "unknown code")]
    codes += [CodeMeaning(rarc, describe_rarc(rarc) or UNKNOWN_REMARK) for rarc in denial.rarcs]
    return DenialView(item, tuple(codes), tuple(reversed(events)))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
