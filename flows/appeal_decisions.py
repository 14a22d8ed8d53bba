"""An appeal's decision, from the payer's portal, an ERA that pays the claim, or staff.

- overturned: the denial is resolved, its history naming the amount recovered and the confirmation number;
- upheld: the denial is open again and the next level's deadline counts from the decision date
  (config/payer_rules.toml's levels, flows/deadlines.py); an "appeal upheld" finding (an alert for billing)
  names that level and its deadline, or, after the payer's last level, says none is left and suggests a
  write-off (flows/appeal_follow_up.py).

The same decision recorded again changes nothing. A recorded decision is changed only by staff (a
correction, kept in the denial's history); the portal or an ERA saying otherwise later is ignored, so a
person's word is never overwritten by a machine's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from flows.appeal_follow_up import close_follow_up, next_step_after, sync_decision_findings
from store.appeal_decisions import add_denial_note, overturns_without_amount, save_appeal, undecided_filed_appeal
from store.denials import set_status
from store.models import AppealRow, Denial

DECISIONS = ("overturned", "upheld")
SOURCES = ("portal", "era", "staff")
DECIDABLE_STATES = ("filed", "decided")
# The payer's date and our clock may sit on either side of midnight UTC: a day of slack for "not in the future".
CLOCK_SLACK = timedelta(days=1)


class DecisionRefused(ValueError):
    """A decision that cannot be recorded; nothing was written. The message names the appeal, never a member."""


@dataclass(frozen=True)
class Decision:
    decision: str
    decided_on: date
    amount_recovered: Decimal | None


def record_decision(
    session: Session,
    appeal: AppealRow,
    *,
    decision: str,
    decided_on: date,
    amount_recovered: Decimal | None,
    source: str,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> None:
    """Record the payer's decision on a filed appeal, in the caller's transaction (rules in the module docstring).
    `note`: staff's words, kept with the decision in the denial's history."""
    wanted = Decision(decision, decided_on, amount_recovered)
    _check(appeal, wanted, source, at)
    denial = session.get(Denial, appeal.denial_id)
    if denial is None:
        raise DecisionRefused(f"appeal {appeal.appeal_id}: its denial {appeal.denial_id} is not in the store")
    if appeal.state == "decided":
        recorded = Decision(appeal.decision or "", appeal.decided_on or decided_on, appeal.amount_recovered)
        if recorded == wanted or source != "staff":
            return
        add_denial_note(
            session,
            denial,
            at,
            actor,
            f"appeal {appeal.appeal_id}: decision corrected by staff (was {_said(recorded)}; now {_said(wanted)})",
        )
    appeal.decision, appeal.decided_on, appeal.decision_source = decision, decided_on, source
    appeal.amount_recovered = amount_recovered if decision == "overturned" else None
    appeal.state, appeal.updated_at = "decided", at
    save_appeal(session, appeal)
    said = f" ({note})" if note else ""
    if decision == "overturned":
        set_status(session, denial, "resolved", at, actor, _overturn_note(appeal, source) + said)
    else:
        words = f"appeal {appeal.appeal_id} ({appeal.level_name}) upheld on {decided_on} ({source}): "
        words += next_step_after(session, denial, appeal) + said
        if denial.status == "written_off":
            add_denial_note(session, denial, at, actor, words)  # written off already: staff's call stands
        else:
            set_status(session, denial, "open", at, actor, words)
    session.flush()
    sync_decision_findings(session, at)
    close_follow_up(session, appeal.appeal_id, at)


def _check(appeal: AppealRow, wanted: Decision, source: str, at: datetime) -> None:
    name = f"appeal {appeal.appeal_id}"
    if wanted.decision not in DECISIONS:
        raise DecisionRefused(f"{name}: the decision is overturned or upheld, not {wanted.decision!r}")
    if source not in SOURCES:
        raise DecisionRefused(f"{name}: the decision comes from {', '.join(SOURCES)}, not {source!r}")
    if appeal.state not in DECIDABLE_STATES:
        raise DecisionRefused(
            f"{name} is {appeal.state}, not filed: only an appeal the payer has can be decided"
            + (" (mark it sent first: `portal-worker appeal sent`)" if appeal.state == "prepared" else "")
        )
    if source == "staff" and wanted.decided_on > at.date() + CLOCK_SLACK:
        raise DecisionRefused(f"{name}: the decision date {wanted.decided_on} is in the future")
    if appeal.filed_at is not None and source == "staff" and wanted.decided_on < appeal.filed_at.date():
        raise DecisionRefused(
            f"{name}: the decision date {wanted.decided_on} is before the appeal was filed ({appeal.filed_at.date()})"
        )
    amount = wanted.amount_recovered
    if wanted.decision == "upheld" and amount:
        raise DecisionRefused(f"{name}: an upheld appeal recovers nothing (no amount with upheld)")
    if amount is not None and (not amount.is_finite() or amount < 0):
        raise DecisionRefused(f"{name}: the amount recovered must be zero or more, not {amount}")


def _overturn_note(appeal: AppealRow, source: str) -> str:
    amount = appeal.amount_recovered
    recovered = f"${amount:,.2f} recovered" if amount is not None else "amount recovered not yet known"
    confirmation = f"; confirmation {appeal.confirmation_number}" if appeal.confirmation_number else ""
    return (
        f"appeal {appeal.appeal_id} ({appeal.level_name}) overturned on {appeal.decided_on} ({source}): "
        f"{recovered}{confirmation}"
    )


def _said(decision: Decision) -> str:
    amount = f", ${decision.amount_recovered:,.2f}" if decision.amount_recovered is not None else ""
    return f"{decision.decision} on {decision.decided_on}{amount}"


# --- a payment while an appeal waits: the payer overturned it -------------------------------------------------


@dataclass(frozen=True)
class ClaimPayment:
    """A payer paying a claim (an ERA, or a portal's claim status), as an appeal decision reads it."""

    source: str  # "era" or "portal"
    paid_on: date  # the decision date it stands for
    claim_paid: Decimal
    line_paid: Mapping[str, Decimal] = field(default_factory=dict)  # procedure code (no modifiers) -> paid

    def recovered_for(self, procedure: str, denied: Decimal) -> Decimal:
        """What was paid for the denied line (its procedure code on the ERA), else for the claim, never more than
        was denied: a claim-level payment may also cover lines that were never denied."""
        paid = self.line_paid.get(procedure, self.claim_paid) if procedure else self.claim_paid
        return max(Decimal("0"), min(paid, denied))


def overturn_by_payment(session: Session, denial: Denial, payment: ClaimPayment, procedure: str, at: datetime) -> bool:
    """The payer paid what it had denied while an appeal of it was filed and undecided: that appeal is overturned
    (the denial resolved with the amount recovered). False when no appeal waits: the caller resolves it as before."""
    assert denial.id is not None
    appeal = undecided_filed_appeal(session, denial.id)
    if appeal is None:
        return False
    record_decision(
        session,
        appeal,
        decision="overturned",
        decided_on=payment.paid_on,
        amount_recovered=payment.recovered_for(procedure, denial.amount),
        source=payment.source,
        actor="worker",
        at=at,
    )
    return True


def complete_recoveries(
    session: Session, reported_claim_id: str, payment: ClaimPayment, procedure_of: Callable[[Denial], str], at: datetime
) -> None:
    """An overturn recorded without its amount (the portal showed none) takes it from the payment that follows."""
    for appeal, denial in overturns_without_amount(session, reported_claim_id):
        appeal.amount_recovered = payment.recovered_for(procedure_of(denial), denial.amount)
        appeal.updated_at = at
        save_appeal(session, appeal)
        add_denial_note(
            session,
            denial,
            at,
            "worker",
            f"appeal {appeal.appeal_id}: ${appeal.amount_recovered:,.2f} recovered, paid on {payment.paid_on} "
            f"({payment.source})",
        )
