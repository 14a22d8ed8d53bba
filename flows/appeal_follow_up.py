"""What an appeal leaves for billing to do: the next level after an upheld decision, and silence to chase.

Findings (flows/findings.py), which the alerts refresh turns into alerts for billing (flows/alerts.py):

- appeal_upheld: the payer upheld level N and level N+1 exists: file it by its deadline, counted from the
  decision date. Open until that level is on its way (queued, filed, decided) or the denial is closed.
- appeal_upheld_final: the payer upheld its last level: nothing more to file; write the denial off
  (or look for an external review). Open until the denial is closed.
- appeal_no_answer: a filed appeal with no decision after its response_due (filed + the playbook's
  response_days, default 30 days): check the portal or call. One finding per appeal, open until decided
  or its denial is closed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from flows.deadlines import Deadline, load_payer_rules
from flows.findings import FindingChanges, FindingDraft, merge, sync_findings
from flows.worklist import work_item
from store.appeal_decisions import higher_levels_on_their_way, upheld_appeals, waiting_appeals
from store.claims import get_claim
from store.denials import OPEN_STATES, denials_by_id, era_claims_for
from store.findings import find_by_key, save_finding
from store.models import AppealRow, Denial

APPEAL_UPHELD = "appeal_upheld"
APPEAL_UPHELD_FINAL = "appeal_upheld_final"
NO_ANSWER = "appeal_no_answer"
DECISION_FINDINGS = (APPEAL_UPHELD, APPEAL_UPHELD_FINAL)
APPEAL_FINDINGS = (*DECISION_FINDINGS, NO_ANSWER)
DEFAULT_RESPONSE_DAYS = 30  # when an appeal row carries no response_due (the playbook's default)


def next_deadline_after(session: Session, denial: Denial, appeal: AppealRow) -> Deadline | None:
    """The level after `appeal`'s, due from its decision date, as the worklist computes it; None: no further level."""
    assert appeal.decided_on is not None
    claim = get_claim(session, denial.claim_id) if denial.claim_id else None
    era = era_claims_for(session, [denial.reported_claim_id]).get(denial.reported_claim_id) if claim is None else None
    rules = load_payer_rules()
    item = work_item(denial, claim, rules, appeal.decided_on, appeal.level, era, decision_date=appeal.decided_on)
    return item.deadline if item.deadline is not None and item.deadline.level > appeal.level else None


def next_step_after(session: Session, denial: Denial, appeal: AppealRow) -> str:
    """The upheld decision's next step, in words for the denial's history."""
    deadline = next_deadline_after(session, denial, appeal)
    if deadline is None:
        return f"no further appeal level with {denial.payer_id or 'the payer'}: write it off, or seek external review"
    return f"next, {deadline.action} (level {deadline.level}) by {deadline.due}"


def _upheld_draft(session: Session, denial: Denial, appeal: AppealRow) -> FindingDraft:
    deadline = next_deadline_after(session, denial, appeal)
    claim = denial.claim_id or denial.reported_claim_id
    where = f"claim {claim}, denial {denial.id}"
    if deadline is None:
        return FindingDraft(
            APPEAL_UPHELD_FINAL,
            appeal.appeal_id,
            appeal.payer_id,
            f"Upheld on {appeal.decided_on} at {appeal.level_name} (level {appeal.level}), the payer's last level "
            f"({where}): no further level. Write it off (`portal-worker denial {denial.id} --status written-off "
            '--reason "..."`), or seek an external review',
            amount_at_risk=denial.amount,
            claims_at_risk=(claim,),
        )
    return FindingDraft(
        APPEAL_UPHELD,
        appeal.appeal_id,
        appeal.payer_id,
        f"Upheld on {appeal.decided_on} at {appeal.level_name} (level {appeal.level}): "
        f"{deadline.action[:1].upper()}{deadline.action[1:]} (level {deadline.level}) for {where}",
        due=deadline.due,
        amount_at_risk=denial.amount,
        claims_at_risk=(claim,),
    )


def decision_findings(session: Session) -> list[FindingDraft]:
    """The upheld appeals whose denial is open and whose next level is not on its way yet (the last one per denial)."""
    last: dict[int, AppealRow] = {}
    for appeal in upheld_appeals(session):
        if appeal.denial_id not in last or appeal.level > last[appeal.denial_id].level:
            last[appeal.denial_id] = appeal
    denials = denials_by_id(session, list(last))
    under_way = higher_levels_on_their_way(session, list(last))
    drafts = []
    for denial_id, appeal in sorted(last.items()):
        denial = denials.get(denial_id)
        if denial is None or denial.status != "open" or under_way.get(denial_id, 0) > appeal.level:
            continue
        drafts.append(_upheld_draft(session, denial, appeal))
    return drafts


def response_due(appeal: AppealRow) -> date | None:
    if appeal.response_due is not None:
        return appeal.response_due
    if appeal.filed_at is None:
        return None
    return appeal.filed_at.date() + timedelta(days=DEFAULT_RESPONSE_DAYS)


def follow_up_findings(session: Session, today: date) -> list[FindingDraft]:
    """A finding per filed appeal still undecided after its response was due, while its denial is not closed."""
    waiting = waiting_appeals(session)
    denials = denials_by_id(session, [a.denial_id for a in waiting])
    drafts = []
    for appeal in waiting:
        due, denial = response_due(appeal), denials.get(appeal.denial_id)
        if due is None or today <= due or denial is None or denial.status not in OPEN_STATES:
            continue  # not yet due, or the denial was closed meanwhile (paid, written off): nothing to chase
        filed_on = appeal.filed_at.date() if appeal.filed_at else None
        waited = f"{(today - filed_on).days} days" if filed_on else "since its response was due"
        how = f"the portal ({appeal.portal})" if appeal.portal else "the payer's portal"
        confirmation = f", confirmation {appeal.confirmation_number}" if appeal.confirmation_number else ""
        drafts.append(
            FindingDraft(
                NO_ANSWER,
                appeal.appeal_id,
                appeal.payer_id,
                f"No answer in {waited} (filed {filed_on} by {appeal.channel}{confirmation}; a decision was due "
                f"{due}): check {how} or call the payer, then record it (`portal-worker appeal decide "
                f"{appeal.appeal_id}`)",
                amount_at_risk=appeal.disputed_amount,
                claims_at_risk=(appeal.claim_id,) if appeal.claim_id else (),
            )
        )
    return drafts


def sync_decision_findings(session: Session, at: datetime) -> FindingChanges:
    return sync_findings(session, DECISION_FINDINGS, decision_findings(session), at)


def close_follow_up(session: Session, appeal_id: str, at: datetime) -> None:
    """The appeal was answered: its "no answer" finding ends now, not at the next alerts refresh."""
    finding = find_by_key(session, f"{NO_ANSWER}|{appeal_id}")
    if finding is not None and finding.status == "open":
        finding.status, finding.resolved_at = "resolved", at
        save_finding(session, finding)


def sync_appeal_findings(session: Session, today: date, at: datetime) -> FindingChanges:
    """Every appeal finding as of the practice's `today` (the alerts refresh calls it before reading findings)."""
    decided = sync_decision_findings(session, at)
    return merge(decided, sync_findings(session, (NO_ANSWER,), follow_up_findings(session, today), at))
