"""Finding claims: one search box (claim id, patient, member id, payer claim number, check/EFT number) and filters.

One statement per page: every way of matching is an OR of indexed look-ups and IN-subqueries, never
a query per row, so a page stays cheap on 50,000 claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from store.models import Claim, ClaimStatusObservation, Denial, EraClaim, EraFile
from store.pages import Page, page_of

# column name a person can sort by -> the claim column
SORTS: dict[str, Any] = {
    "claim": Claim.claim_id,
    "patient": Claim.patient_name,
    "payer": Claim.payer_id,
    "dos": Claim.dos_from,
    "billed": Claim.billed_amount,
    "submitted": Claim.submitted_date,
    "status": Claim.status,
    "paid": Claim.paid_amount,
}
DEFAULT_SORT = "submitted"


@dataclass(frozen=True)
class ClaimSearch:
    """What a person asked for; every field left None does not filter."""

    text: str | None = None
    payer_id: str | None = None
    status: str | None = None
    dos_from: date | None = None
    dos_to: date | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    billed_min: Decimal | None = None
    billed_max: Decimal | None = None
    sort: str = DEFAULT_SORT
    descending: bool = True

    @property
    def empty(self) -> bool:
        """Nothing asked yet: no text and no filter."""
        return not any(
            value is not None
            for value in (
                self.text,
                self.payer_id,
                self.status,
                self.dos_from,
                self.dos_to,
                self.submitted_from,
                self.submitted_to,
                self.billed_min,
                self.billed_max,
            )
        )


def search_claims(session: Session, search: ClaimSearch, limit: int, offset: int) -> Page[Claim]:
    """One page of the claims matching the text (any of its five ways) and every filter, sorted as asked."""
    return page_of(session, matching_claims(search), limit, offset)


def matching_claims(search: ClaimSearch) -> SelectOfScalar[Claim]:
    """Every claim the search matches, sorted as asked: a page of it, or all of it for an export."""
    return _ordered(_filtered(search), search)


def claim_by_id(session: Session, text: str) -> Claim | None:
    """The claim whose id is exactly `text` (ignoring case and surrounding space), for going straight to it."""
    wanted = text.strip()
    if not wanted:
        return None
    found = session.get(Claim, wanted)
    if found is not None:
        return found
    return session.exec(select(Claim).where(func.upper(Claim.claim_id) == wanted.upper()).limit(1)).first()


def payer_choices(session: Session) -> list[str]:
    return sorted(session.exec(select(Claim.payer_id).distinct()).all())


def status_choices(session: Session) -> list[str]:
    return sorted(session.exec(select(Claim.status).distinct()).all())


def _filtered(search: ClaimSearch) -> SelectOfScalar[Claim]:
    statement = select(Claim)
    if search.text:
        statement = statement.where(_text_matches(search.text))
    if search.payer_id:
        statement = statement.where(Claim.payer_id == search.payer_id)
    if search.status:
        statement = statement.where(Claim.status == search.status)
    if search.dos_from:
        statement = statement.where(col(Claim.dos_to) >= search.dos_from)
    if search.dos_to:
        statement = statement.where(col(Claim.dos_from) <= search.dos_to)
    if search.submitted_from:
        statement = statement.where(col(Claim.submitted_date) >= search.submitted_from)
    if search.submitted_to:
        statement = statement.where(col(Claim.submitted_date) <= search.submitted_to)
    if search.billed_min is not None:
        statement = statement.where(col(Claim.billed_amount) >= search.billed_min)
    if search.billed_max is not None:
        statement = statement.where(col(Claim.billed_amount) <= search.billed_max)
    return statement


def _text_matches(text: str) -> Any:
    """A claim id (exact or its start), a patient name (any part, any case), a member id, a payer claim number
    (as the claim, a portal, a denial or an ERA gave it) or a check/EFT number (portal or ERA).

    Identifiers are compared as typed, in capitals and in small letters (not upper() of the column), so
    each look-up uses its column's index (migration 0011) instead of reading every row."""
    wanted = text.strip()
    spellings = sorted({wanted, wanted.upper(), wanted.lower()})
    like = "%" + _escape_like(wanted.lower()) + "%"
    observed = select(ClaimStatusObservation.claim_id).where(
        or_(
            col(ClaimStatusObservation.payer_claim_number).in_(spellings),
            col(ClaimStatusObservation.check_number).in_(spellings),
        )
    )
    denied = select(Denial.claim_id).where(
        col(Denial.claim_id).is_not(None), col(Denial.payer_claim_number).in_(spellings)
    )
    remitted = select(EraClaim.claim_id).where(
        col(EraClaim.claim_id).is_not(None),
        or_(
            col(EraClaim.payer_claim_number).in_(spellings),
            col(EraClaim.era_file_id).in_(select(EraFile.id).where(col(EraFile.trace_number).in_(spellings))),
        ),
    )
    return or_(
        col(Claim.claim_id).in_(spellings),
        *[col(Claim.claim_id).startswith(spelling, autoescape=True) for spelling in spellings],
        func.lower(Claim.patient_name).like(like, escape="\\"),
        col(Claim.member_id).in_(spellings),
        col(Claim.payer_claim_number).in_(spellings),
        col(Claim.claim_id).in_(observed),
        col(Claim.claim_id).in_(denied),
        col(Claim.claim_id).in_(remitted),
    )


def _ordered(statement: SelectOfScalar[Claim], search: ClaimSearch) -> SelectOfScalar[Claim]:
    column = col(SORTS.get(search.sort, SORTS[DEFAULT_SORT]))
    first = column.desc() if search.descending else column.asc()
    return statement.order_by(first, col(Claim.claim_id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
