"""What goes into one denial's appeal packet, read in a few queries (flows/appeal_packet.py decides the parts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, or_, select

from store.models import (
    AppealRow,
    Appointment,
    Authorization,
    Claim,
    Denial,
    DenialEvent,
    EligibilityCheck,
    EraClaim,
    EraFile,
    Evidence,
)


@dataclass(frozen=True)
class RemittedLine:
    era_claim: EraClaim
    era_file: EraFile


@dataclass(frozen=True)
class PacketFacts:
    denial: Denial
    claim: Claim | None  # None: the denial is on a claim not in the practice's claims
    remittances: Sequence[RemittedLine]  # the claim's ERA claims, oldest first
    adjustments: Sequence[Denial]  # every denying adjustment on the claim (this one included), oldest first
    evidence: Sequence[Evidence]  # the claim's kept pages printed as PDF, oldest first
    eligibility: EligibilityCheck | None  # the newest check with a PDF for the claim's member, payer and service date
    authorization: Authorization | None
    appeals_filed: int
    last_decision: date | None  # the latest upheld decision on this denial: the next level counts from it


def packet_facts(session: Session, denial_id: int) -> PacketFacts | None:
    """Everything the packet of `denial_id` may hold; None when there is no such denial."""
    denial = session.get(Denial, denial_id)
    if denial is None:
        return None
    claim = session.get(Claim, denial.claim_id) if denial.claim_id else None
    claim_id = denial.claim_id
    remitted = (
        session.exec(
            select(EraClaim, EraFile)
            .join(EraFile, col(EraFile.id) == col(EraClaim.era_file_id))
            .where(EraClaim.claim_id == claim_id)
            .order_by(col(EraClaim.id))
        ).all()
        if claim_id
        else []
    )
    adjustments = (
        list(session.exec(select(Denial).where(Denial.claim_id == claim_id).order_by(col(Denial.id))))
        if claim_id
        else [denial]
    )
    evidence = (
        list(
            session.exec(
                select(Evidence)
                .where(
                    Evidence.claim_id == claim_id,
                    or_(col(Evidence.pdf_path).is_not(None), col(Evidence.archive_path).is_not(None)),
                )
                .order_by(col(Evidence.id))
            )
        )
        if claim_id
        else []
    )
    return PacketFacts(
        denial=denial,
        claim=claim,
        remittances=[RemittedLine(era_claim, era_file) for era_claim, era_file in remitted],
        adjustments=adjustments,
        evidence=evidence,
        eligibility=_eligibility(session, claim) if claim else None,
        authorization=session.get(Authorization, claim.prior_auth_number)
        if claim and claim.prior_auth_number
        else None,
        appeals_filed=_appeals_filed(session, denial_id),
        last_decision=_last_upheld(session, denial_id),
    )


def _last_upheld(session: Session, denial_id: int) -> date | None:
    statement = select(AppealRow).where(AppealRow.denial_id == denial_id, AppealRow.decision == "upheld")
    decided = [row.decided_on for row in session.exec(statement) if row.decided_on is not None]
    return max(decided, default=None)


def _eligibility(session: Session, claim: Claim) -> EligibilityCheck | None:
    statement = (
        select(EligibilityCheck)
        .join(Appointment, col(Appointment.appointment_id) == col(EligibilityCheck.appointment_id))
        .where(
            Appointment.member_id == claim.member_id,
            EligibilityCheck.payer_id == claim.payer_id,
            col(EligibilityCheck.service_date).between(claim.dos_from, claim.dos_to),
            col(EligibilityCheck.pdf_path).is_not(None),
        )
        .order_by(col(EligibilityCheck.checked_at).desc())
    )
    return session.exec(statement).first()


def _appeals_filed(session: Session, denial_id: int) -> int:
    """Levels already filed: the appeal records past prepared, or staff's "appealed" marks when there are none."""
    filed = session.exec(
        select(AppealRow.level).where(AppealRow.denial_id == denial_id, col(AppealRow.state).in_(("filed", "decided")))
    ).all()
    if filed:
        return max(filed)
    marks = session.exec(
        select(DenialEvent.id).where(DenialEvent.denial_id == denial_id, DenialEvent.status == "appealed")
    ).all()
    return len(marks)
