"""What the list exports read beyond a page's rows, for every row at once: each claim's newest check or EFT
number and its unresolved denials, and each provider with its enrollments. One query per kind of fact,
however many rows are exported: a 50,000-claim export is a handful of statements, never one per claim."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Select
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from store.denials import OPEN_STATES
from store.models import Claim, ClaimStatusObservation, Denial, Enrollment, EraClaim, EraFile, Provider
from store.pages import in_chunks
from store.search import ClaimSearch, matching_claims


@dataclass(frozen=True)
class Payment:
    """A check or EFT that paid (part of) a claim, as a portal or an ERA (its TRN02) gave it."""

    number: str
    paid_on: date | None


@dataclass(frozen=True)
class ExportedClaim:
    claim: Claim
    payment: Payment | None  # the newest by payment date
    denials: tuple[Denial, ...]  # not yet resolved (open, appealed, resubmitted), oldest first


def claims_for_export(session: Session, search: ClaimSearch) -> list[ExportedClaim]:
    """Every claim the search matches, in its order, with its newest payment and its unresolved denials."""
    statement = matching_claims(search)
    matched = statement.order_by(None).subquery()
    ids = sa_select(matched.c.claim_id)
    claims = list(session.exec(statement))
    payments = _newest_payments(session, ids)
    denials: dict[str, list[Denial]] = {}
    unresolved = select(Denial).where(col(Denial.claim_id).in_(ids), col(Denial.status).in_(OPEN_STATES))
    for denial in session.exec(unresolved.order_by(col(Denial.id))):
        denials.setdefault(denial.claim_id or "", []).append(denial)
    return [
        ExportedClaim(claim, payments.get(claim.claim_id), tuple(denials.get(claim.claim_id, ()))) for claim in claims
    ]


def _newest_payments(session: Session, ids: Select[tuple[str]]) -> dict[str, Payment]:
    """Per claim, the check or EFT with the latest payment date (then the latest seen), portal or ERA."""
    portal = sa_select(
        col(ClaimStatusObservation.claim_id),
        col(ClaimStatusObservation.check_number),
        col(ClaimStatusObservation.payment_date),
        col(ClaimStatusObservation.observed_at),
    ).where(col(ClaimStatusObservation.check_number).is_not(None), col(ClaimStatusObservation.claim_id).in_(ids))
    era = (
        sa_select(
            col(EraClaim.claim_id), col(EraFile.trace_number), col(EraFile.payment_date), col(EraFile.imported_at)
        )
        .join(EraFile, col(EraFile.id) == col(EraClaim.era_file_id))
        .where(col(EraFile.trace_number).is_not(None), col(EraClaim.claim_id).in_(ids))
    )
    newest: dict[str, tuple[tuple[date, datetime], Payment]] = {}
    for statement in (portal, era):
        for claim_id, number, paid_on, seen in session.execute(statement):
            order = (paid_on or date.min, _utc(seen))
            if claim_id not in newest or order >= newest[claim_id][0]:
                newest[claim_id] = (order, Payment(number, paid_on))
    return {claim_id: payment for claim_id, (_, payment) in newest.items()}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def providers_with_enrollments(session: Session) -> list[tuple[Provider, Enrollment | None]]:
    """Each provider with each of its enrollments (None: not checked with any payer yet), by NPI then payer."""
    statement = (
        select(Provider, Enrollment)
        .join(Enrollment, col(Enrollment.npi) == col(Provider.npi), isouter=True)
        .order_by(col(Provider.npi), col(Enrollment.payer_id))
    )
    return [(provider, enrollment) for provider, enrollment in session.exec(statement)]


def patient_names(session: Session, claim_ids: Sequence[str]) -> dict[str, str]:
    """The patient's name on each of these claims, for an export the installation lets carry names."""
    found: dict[str, str] = {}
    for chunk in in_chunks(claim_ids):
        statement = select(Claim.claim_id, Claim.patient_name).where(col(Claim.claim_id).in_(chunk))
        found.update(dict(session.exec(statement).all()))
    return found
