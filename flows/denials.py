"""Denials: record each denying adjustment once, from portals and ERAs, and close them when the payer pays.

A denial is identified by claim, payer claim number (both in their normal form), group code, CARC and line,
so the same denial seen on a portal and on an ERA, or on every re-check, is
one row. Contractual adjustments and patient responsibility are not denials.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session

from flows.appeal_decisions import ClaimPayment, complete_recoveries, overturn_by_payment
from flows.claim_states import ClaimState
from flows.denial_codes import DenialKind, categorise
from portals.identifiers import normal_id, same_id
from portals.types import Adjustment, ClaimStatusResult
from store.appeal_decisions import denials_awaiting_appeal
from store.denials import (
    OPEN_STATES,
    add_denial,
    find_by_fingerprint,
    set_assignee,
    set_status,
    unresolved_for_claim,
)
from store.models import Denial

AUTO_RESOLVED = "payer:"  # prefix of resolutions the worker made, so a reappearing denial reopens
ADJUDICATED = frozenset({ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.DENIED, ClaimState.FINALIZED})


@dataclass(frozen=True)
class DenialReport:
    """Who reported which denials of one claim, in one adjudication."""

    reported_claim_id: str
    claim_id: str | None  # None when the claim is not in our store (an unmatched ERA claim)
    payer_id: str | None
    payer_claim_number: str | None
    denial_date: date | None
    adjustments: Sequence[Adjustment]
    source: str  # "portal" or "era"
    source_ref: str


@dataclass
class DenialChanges:
    new: list[Denial] = field(default_factory=list)
    resolved: list[Denial] = field(default_factory=list)


def procedure_code(line_procedure: str | None) -> str:
    """The code without its modifiers: an ERA sends 62321-LT where a portal page may show 62321.

    Denial keys use it, so the two still name one denial; lines that differ only by modifier stay
    apart by their order (the ordinal), and the denial keeps the line as billed."""
    return re.split(r"[-:\s]", (line_procedure or "").strip().upper(), maxsplit=1)[0]


def fingerprint(report: DenialReport, adjustment: Adjustment, ordinal: int) -> str:
    parts = (
        normal_id(report.reported_claim_id),
        normal_id(report.payer_claim_number or ""),
        adjustment.group_code,
        adjustment.carc,
        procedure_code(adjustment.line_procedure),
        str(ordinal),
    )
    return "|".join(parts)


def record_denials(session: Session, report: DenialReport, at: datetime) -> tuple[DenialChanges, set[str]]:
    """Add the denials not seen before; returns the changes and every fingerprint this report holds."""
    changes, present, seen = DenialChanges(), set(), Counter[tuple[str, str, str]]()
    for adjustment in report.adjustments:
        code = categorise(adjustment.group_code, adjustment.carc, adjustment.rarcs, adjustment.amount)
        if code.kind is DenialKind.NOT_A_DENIAL:
            continue
        key = (adjustment.group_code, adjustment.carc, procedure_code(adjustment.line_procedure))
        seen[key] += 1
        denial_key = fingerprint(report, adjustment, seen[key])
        present.add(denial_key)
        existing = find_by_fingerprint(session, denial_key)
        if existing is None:
            changes.new.append(
                add_denial(
                    session,
                    Denial(
                        fingerprint=denial_key,
                        claim_id=report.claim_id,
                        reported_claim_id=report.reported_claim_id,
                        source=report.source,
                        source_ref=report.source_ref,
                        payer_id=report.payer_id,
                        payer_claim_number=report.payer_claim_number,
                        group_code=adjustment.group_code,
                        carc=adjustment.carc,
                        rarcs=list(adjustment.rarcs),
                        amount=adjustment.amount,
                        line_procedure=adjustment.line_procedure,
                        denial_date=report.denial_date,
                        category=code.category,
                        owner=code.owner,
                        kind=code.kind.value,
                        bill_patient=code.bill_patient,
                        appealable=code.appealable,
                        first_seen_at=at,
                        last_seen_at=at,
                    ),
                    note=f"reported by {report.source} {report.source_ref}",
                )
            )
            continue
        existing.last_seen_at = at
        existing.amount, existing.rarcs = adjustment.amount, list(adjustment.rarcs)
        session.add(existing)
        if existing.status == "resolved" and (existing.resolution or "").startswith(AUTO_RESOLVED):
            set_status(session, existing, "open", at, "worker", f"reported again by {report.source}")
    return changes, present


def resolve_absent(
    session: Session,
    report: DenialReport,
    present: set[str],
    reason: str,
    at: datetime,
    payment: ClaimPayment | None = None,
) -> list[Denial]:
    """Close this claim's open denials that the payer no longer reports (paid, reversed, reprocessed).

    With `payment` (the payer paid the claim), a denial whose appeal was filed and undecided is closed by
    that appeal's overturn, with the amount recovered (flows/appeal_decisions.py)."""
    resolved = []
    for denial in unresolved_for_claim(session, report.reported_claim_id):
        if report.payer_claim_number is not None and not same_id(denial.payer_claim_number, report.payer_claim_number):
            continue  # another adjudication of the claim (a resubmission under a new number)
        if denial.fingerprint not in present:
            procedure = procedure_code(denial.line_procedure)
            if payment is None or not overturn_by_payment(session, denial, payment, procedure, at):
                set_status(session, denial, "resolved", at, "worker", f"{AUTO_RESOLVED} {reason}")
            resolved.append(denial)
    return resolved


def settle_waiting_appeals(
    session: Session, report: DenialReport, present: set[str], payment: ClaimPayment, at: datetime
) -> list[Denial]:
    """A payment on a claim whose denial waits on an appeal but which resolve_absent did not reach: the payer
    reversed the denied adjudication (now or on an earlier ERA) and paid it anew, often under a new payer claim
    number. Unless this adjudication denies the same line again, that appeal was overturned. An overturn recorded
    earlier without its amount takes it from this payment. Returns the denials that were still open (those a
    reversal had closed are counted already)."""
    complete_recoveries(session, report.reported_claim_id, payment, lambda d: procedure_code(d.line_procedure), at)
    newly_closed = []
    for denial in denials_awaiting_appeal(session, report.reported_claim_id):
        if denial.fingerprint in present or _denied_again(denial, present):
            continue
        closed_by_payer = denial.status == "resolved" and (denial.resolution or "").startswith(AUTO_RESOLVED)
        if denial.status not in OPEN_STATES and not closed_by_payer:
            continue  # staff closed it (written off, resolved by hand): their word stands
        was_open = denial.status in OPEN_STATES
        overturn_by_payment(session, denial, payment, procedure_code(denial.line_procedure), at)
        if was_open:
            newly_closed.append(denial)
    return newly_closed


def _denied_again(denial: Denial, present: set[str]) -> bool:
    """The same group, CARC and line denied in this adjudication (fingerprint parts 2-4)."""
    line = (denial.group_code, denial.carc, procedure_code(denial.line_procedure))
    return any(tuple(key.split("|")[2:5]) == line for key in present)


def record_portal_result(
    session: Session,
    *,
    claim_id: str,
    payer_id: str,
    result: ClaimStatusResult,
    state: ClaimState,
    portal: str,
    at: datetime,
) -> DenialChanges:
    """A claim-status answer: its denying adjustments become denials; a payment closes the rest."""
    if state not in ADJUDICATED:
        return DenialChanges()  # pending again (e.g. reprocessing an appeal): leave denials as they are
    report = DenialReport(
        claim_id,
        claim_id,
        payer_id,
        result.payer_claim_number,
        result.status_date,
        result.adjustments,
        "portal",
        portal,
    )
    changes, present = record_denials(session, report, at)
    reason = "paid" if state is ClaimState.PAID else f"no longer reported by portal {portal}"
    payment = _portal_payment(result, state, at)
    changes.resolved = resolve_absent(session, report, present, reason, at, payment)
    if payment is not None:
        changes.resolved += settle_waiting_appeals(session, report, present, payment, at)
    return changes


def _portal_payment(result: ClaimStatusResult, state: ClaimState, at: datetime) -> ClaimPayment | None:
    """A paid or partially paid claim, with money, is a payment (the portal shows no per-line amounts)."""
    if state not in (ClaimState.PAID, ClaimState.PARTIALLY_PAID) or not result.paid_amount:
        return None
    paid_on = result.payment_date or result.status_date or at.date()
    return ClaimPayment("portal", paid_on, result.paid_amount)


def open_amount(denials: Sequence[Denial]) -> Decimal:
    return sum((d.amount for d in denials if d.status == "open"), Decimal("0"))


STAFF_STATUSES = {
    "open": "open",
    "appealed": "appealed",
    "resubmitted": "resubmitted",
    "written-off": "written_off",
    "resolved": "resolved",
}


class DenialActionRefused(Exception):
    """A staff action that cannot be recorded (no such denial, or no such status); nothing was written."""


MAX_REASON = 500
CENT = Decimal("0.01")


def parse_dollars(text: str, what: str = "the amount") -> Decimal:
    """Dollars as a person types them: 120, 120.5, $1,200.00. Refused: anything else, or fractions of a cent."""
    cleaned = text.strip().removeprefix("$").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite() or not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise DenialActionRefused(f"{what} must be dollars, like 120.00, not {text.strip()[:20]!r}")
    if amount != amount.quantize(CENT):
        raise DenialActionRefused(f"{what} has fractions of a cent: {text.strip()[:20]!r}")
    return amount.quantize(CENT)


def record_staff_action(
    session: Session,
    denial_id: int,
    status: str,
    note: str | None,
    at: datetime,
    actor: str = "staff",
    *,
    amount: Decimal | None = None,
    reason: str | None = None,
) -> Denial:
    """What a person did about a denial; kept in its history (the appeal trail) under `actor`: the
    workspace user's login name, or "staff" from the command line.

    A write-off records its amount (default: the whole denied amount; more than zero and at most the
    denied amount) and its reason (`reason`, else the note: one is required). Another status clears them."""
    if status not in STAFF_STATUSES:
        raise DenialActionRefused(f"status must be one of {', '.join(STAFF_STATUSES)}, not {status!r}")
    denial = session.get(Denial, denial_id)
    if denial is None:
        raise DenialActionRefused(f"no denial with id {denial_id}")
    if STAFF_STATUSES[status] != "written_off":
        if amount is not None or (reason or "").strip():
            raise DenialActionRefused("an amount and a reason go with a write-off (status written-off) only")
        denial.write_off_amount = denial.write_off_reason = None
        set_status(session, denial, STAFF_STATUSES[status], at, actor, note)
        return denial
    why = (reason or "").strip() or (note or "").strip()
    if not why:
        raise DenialActionRefused(
            f"denial {denial_id}: a write-off needs a reason (e.g. appeal upheld at the last level)"
        )
    if len(why) > MAX_REASON:
        raise DenialActionRefused(f"denial {denial_id}: the reason is longer than {MAX_REASON} characters")
    written = denial.amount if amount is None else amount
    if not written.is_finite() or not 0 < written <= denial.amount:
        raise DenialActionRefused(
            f"denial {denial_id}: the amount written off must be more than $0.00 and at most the "
            f"denied ${denial.amount:,.2f}, not ${written:,.2f}"
        )
    denial.write_off_amount, denial.write_off_reason = written.quantize(CENT), why
    words = f"written off ${written:,.2f}: {why}"
    if note and note.strip() and note.strip() != why:
        words += f" ({note.strip()})"
    set_status(session, denial, "written_off", at, actor, words)
    return denial


def assign_denials(
    session: Session, denial_ids: Sequence[int], assignee: str | None, at: datetime, actor: str
) -> list[Denial]:
    """Give denials to a person (None: to nobody); each change is kept in the denial's history.
    All or nothing: an unknown id refuses the whole batch."""
    denials = []
    for denial_id in dict.fromkeys(denial_ids):
        denial = session.get(Denial, denial_id)
        if denial is None:
            raise DenialActionRefused(f"no denial with id {denial_id}")
        denials.append(denial)
    for denial in denials:
        if denial.assignee != assignee:
            note = f"assigned to {assignee}" if assignee else "unassigned"
            set_assignee(session, denial, assignee, at, actor, note)
    return denials
