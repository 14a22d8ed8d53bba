"""The queries behind the reports (flows/reports/): sums and counts are aggregated in the database; where a
figure needs a median or a claim's history, one plain row per claim or per denial, never ORM objects.

Every function takes the payer filter and the date bounds it applies; the rules (what is open, what is
adjudicated) are passed in by flows, which own them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Numeric, and_, case, exists, literal, or_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func

from store.models import (
    AppealRow,
    Authorization,
    Claim,
    ClaimStatusObservation,
    Denial,
    DenialEvent,
    Enrollment,
    EraClaim,
    EraFile,
)

MONEY = Numeric(12, 2)
REVERSAL = "22"  # CLP02: the payer takes back an earlier adjudication


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _payer(column: Any, payer: str | None) -> ColumnElement[bool]:
    return literal(True) if payer is None else column == payer


def _between(column: Any, start: date | None, end: date | None) -> ColumnElement[bool]:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return and_(literal(True), *conditions)


# --- A/R aging ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenByPayer:
    payer_id: str
    claims: int
    buckets: tuple[Decimal, ...]  # one sum per submission-date window, in the order asked


def open_billed_by_payer(
    session: Session,
    windows: Sequence[tuple[date | None, date]],
    closed_states: Collection[str],
    payer: str | None,
) -> list[OpenByPayer]:
    """Billed dollars of the claims not in `closed_states`, summed per payer into each (earliest, latest)
    submission-date window (earliest None: no lower end); claims outside every window are not counted."""
    inside = [_between(Claim.submitted_date, start, end) for start, end in windows]
    sums = [func.coalesce(func.sum(case((w, Claim.billed_amount), else_=0), type_=MONEY), 0) for w in inside]
    statement = (
        sa_select(col(Claim.payer_id), func.count(), *sums)
        .where(col(Claim.status).not_in(closed_states), _payer(Claim.payer_id, payer), or_(*inside))
        .group_by(col(Claim.payer_id))
        .order_by(col(Claim.payer_id))
    )
    return [
        OpenByPayer(payer_id, count, tuple(Decimal(v) for v in values))
        for payer_id, count, *values in session.execute(statement)
    ]


def billed_between(session: Session, start: date, end: date, payer: str | None) -> Decimal:
    """Billed dollars of every claim submitted from `start` to `end` (inclusive), whatever its state."""
    statement = sa_select(func.coalesce(func.sum(Claim.billed_amount, type_=MONEY), 0)).where(
        _between(Claim.submitted_date, start, end), _payer(Claim.payer_id, payer)
    )
    return Decimal(session.execute(statement).scalar_one())


# --- payments ----------------------------------------------------------------------------------------


class EraPayment(NamedTuple):
    """One CLP of an imported ERA for one of our claims, in file order."""

    claim_id: str
    payer_id: str
    submitted_date: date
    status_code: str
    paid: Decimal
    paid_on: date | None  # BPR16, the check or EFT date


def era_payments(session: Session, payer: str | None) -> list[EraPayment]:
    statement = (
        sa_select(
            col(Claim.claim_id),
            col(Claim.payer_id),
            col(Claim.submitted_date),
            col(EraClaim.status_code),
            col(EraClaim.paid),
            col(EraFile.payment_date),
        )
        .join(EraClaim, col(EraClaim.claim_id) == col(Claim.claim_id))
        .join(EraFile, col(EraFile.id) == col(EraClaim.era_file_id))
        .where(_payer(Claim.payer_id, payer))
        .order_by(col(EraClaim.id))
    )
    return [EraPayment(*row) for row in session.execute(statement)]


class PortalPayment(NamedTuple):
    """A claim's first portal observation in a paid state."""

    claim_id: str
    payer_id: str
    submitted_date: date
    payment_date: date | None
    status_date: date | None
    observed_at: datetime


def portal_payments(session: Session, paid_states: Collection[str], payer: str | None) -> list[PortalPayment]:
    statement = (
        sa_select(
            col(Claim.claim_id),
            col(Claim.payer_id),
            col(Claim.submitted_date),
            func.min(ClaimStatusObservation.payment_date),
            func.min(ClaimStatusObservation.status_date),
            func.min(ClaimStatusObservation.observed_at),
        )
        .join(ClaimStatusObservation, col(ClaimStatusObservation.claim_id) == col(Claim.claim_id))
        .where(col(ClaimStatusObservation.status).in_(paid_states), _payer(Claim.payer_id, payer))
        .group_by(col(Claim.claim_id), col(Claim.payer_id), col(Claim.submitted_date))
    )
    return [PortalPayment(*row) for row in session.execute(statement)]


# --- adjudications and denials, per claim ------------------------------------------------------------


class ClaimAdjudications(NamedTuple):
    """What the store knows of how one claim was adjudicated, from portals, ERAs and denials."""

    claim_id: str
    payer_id: str
    status: str
    first_portal_on: date | None  # status date of its first portal observation in an adjudicated state
    first_portal_at: datetime | None  # when that observation was made (a page without a status date)
    first_era_on: date | None  # check/EFT date of its first ERA claim that was not a reversal
    first_denial_on: date | None  # its earliest denial's determination date
    first_denial_at: datetime | None  # when its earliest denial was first seen
    denials: int
    unresolved_denials: int  # not resolved: open, appealed, resubmitted or written off
    rejected: bool  # a portal once said rejected
    payer_claim_numbers: int  # distinct numbers the payer gave it (a resubmission gets a new one)
    resubmitted: bool  # staff marked one of its denials resubmitted
    reversed: bool  # an ERA took an adjudication of it back (CLP02 22)


def claim_adjudications(
    session: Session, adjudicated_states: Collection[str], payer: str | None
) -> list[ClaimAdjudications]:
    """Every claim a payer adjudicated (by its state, a portal observation, an ERA or a denial).

    One grouped query per source, joined here by claim id: on SQLite, outer joins of grouped subqueries
    ran in seconds at 50,000 claims; each of these is one pass over one table."""
    obs = ClaimStatusObservation
    claims = session.execute(
        sa_select(col(Claim.claim_id), col(Claim.payer_id), col(Claim.status)).where(_payer(Claim.payer_id, payer))
    ).all()
    portal = {
        claim_id: (on, at)
        for claim_id, on, at in session.execute(
            sa_select(col(obs.claim_id), func.min(obs.status_date), func.min(obs.observed_at))
            .where(col(obs.status).in_(adjudicated_states))
            .group_by(col(obs.claim_id))
        )
    }
    rejected = set(session.scalars(sa_select(col(obs.claim_id)).where(col(obs.status) == "rejected").distinct()))
    era_rows = sa_select(col(EraClaim.claim_id), func.min(EraFile.payment_date)).join(
        EraFile, col(EraFile.id) == col(EraClaim.era_file_id)
    )
    era = dict(
        session.execute(
            era_rows.where(col(EraClaim.claim_id).is_not(None), col(EraClaim.status_code) != REVERSAL).group_by(
                col(EraClaim.claim_id)
            )
        ).all()
    )
    reversed_ = set(
        session.scalars(sa_select(col(EraClaim.claim_id)).where(col(EraClaim.status_code) == REVERSAL).distinct())
    )
    resubmitted = exists().where(col(DenialEvent.denial_id) == col(Denial.id), col(DenialEvent.status) == "resubmitted")
    denied = {
        row[0]: row[1:]
        for row in session.execute(
            sa_select(
                col(Denial.claim_id),
                func.min(Denial.denial_date),
                func.min(Denial.first_seen_at),
                func.count(),
                func.sum(case((col(Denial.status) != "resolved", 1), else_=0)),
                func.max(case((resubmitted, 1), else_=0)),
            )
            .where(col(Denial.claim_id).is_not(None))
            .group_by(col(Denial.claim_id))
        )
    }
    numbers = union_all(
        sa_select(col(obs.claim_id).label("claim_id"), col(obs.payer_claim_number).label("number")),
        sa_select(col(EraClaim.claim_id), col(EraClaim.payer_claim_number)).where(col(EraClaim.claim_id).is_not(None)),
    ).subquery()
    counted = dict(
        session.execute(
            sa_select(numbers.c.claim_id, func.count(func.distinct(numbers.c.number)))
            .where(numbers.c.number.is_not(None))
            .group_by(numbers.c.claim_id)
        ).all()
    )
    found = []
    for claim_id, payer_id, status in claims:
        first_on, first_at = portal.get(claim_id, (None, None))
        denial_on, denial_at, count, unresolved, resubmit = denied.get(claim_id, (None, None, 0, 0, 0))
        if status in adjudicated_states or claim_id in portal or claim_id in era or claim_id in denied:
            found.append(
                ClaimAdjudications(
                    claim_id,
                    payer_id,
                    status,
                    first_on,
                    first_at,
                    era.get(claim_id),
                    denial_on,
                    denial_at,
                    count,
                    unresolved or 0,
                    claim_id in rejected,
                    counted.get(claim_id, 0),
                    bool(resubmit),
                    claim_id in reversed_,
                )
            )
    return sorted(found, key=lambda c: c.claim_id)


class DenialLine(NamedTuple):
    id: int
    claim_id: str | None
    payer_id: str | None
    group_code: str
    carc: str
    category: str
    amount: Decimal
    status: str
    resolution: str | None
    denied_on: date | None
    first_seen_at: datetime
    resolved_at: datetime | None
    appealed: bool  # staff once marked it appealed
    appeal_filed: bool = False  # an appeal row was filed (online, or sent by fax or mail)
    appeal_decision: str | None = None  # the highest filed level's decision: overturned | upheld | None (waiting)
    recovered: Decimal | None = None  # what the overturned appeals recovered, as recorded
    write_off_amount: Decimal | None = None  # what staff wrote off (None for write-offs recorded without one)


def _denied_between(start: date | None, end: date | None) -> ColumnElement[bool]:
    """The denial's determination date in the range; when the payer gave none, the day it was first seen."""
    seen = []
    if start is not None:
        seen.append(col(Denial.first_seen_at) >= _day_start(start))
    if end is not None:
        seen.append(col(Denial.first_seen_at) < _day_start(end + timedelta(days=1)))
    return or_(
        and_(col(Denial.denial_date).is_not(None), _between(Denial.denial_date, start, end)),
        and_(col(Denial.denial_date).is_(None), literal(True), *seen),
    )


def denial_lines(session: Session, start: date | None, end: date | None, payer: str | None) -> list[DenialLine]:
    """Every denial determined in the range (any status), in id order."""
    appealed = exists().where(col(DenialEvent.denial_id) == col(Denial.id), col(DenialEvent.status) == "appealed")
    filed = and_(col(AppealRow.denial_id) == col(Denial.id), col(AppealRow.state).in_(("filed", "decided")))
    last_decision = (
        sa_select(col(AppealRow.decision))
        .where(filed)
        .order_by(col(AppealRow.level).desc())
        .limit(1)
        .correlate(Denial)
        .scalar_subquery()
    )
    recovered = (
        sa_select(func.sum(AppealRow.amount_recovered, type_=MONEY))
        .where(filed, col(AppealRow.decision) == "overturned")
        .correlate(Denial)
        .scalar_subquery()
    )
    statement = (
        sa_select(
            col(Denial.id),
            col(Denial.claim_id),
            col(Denial.payer_id),
            col(Denial.group_code),
            col(Denial.carc),
            col(Denial.category),
            col(Denial.amount),
            col(Denial.status),
            col(Denial.resolution),
            col(Denial.denial_date),
            col(Denial.first_seen_at),
            col(Denial.resolved_at),
            appealed,
            exists().where(filed),
            last_decision,
            recovered,
            col(Denial.write_off_amount),
        )
        .where(_denied_between(start, end), _payer(Denial.payer_id, payer))
        .order_by(col(Denial.id))
    )
    return [DenialLine(*row) for row in session.execute(statement)]


@dataclass(frozen=True, slots=True)
class CodeDollars:
    group_code: str
    carc: str
    denials: int
    dollars: Decimal


def denied_dollars_by_code(
    session: Session, start: date | None, end: date | None, payer: str | None
) -> list[CodeDollars]:
    """Denials determined in the range, counted and summed per group code and CARC, most dollars first."""
    dollars = func.sum(Denial.amount, type_=MONEY)
    statement = (
        sa_select(col(Denial.group_code), col(Denial.carc), func.count(), dollars)
        .where(_denied_between(start, end), _payer(Denial.payer_id, payer))
        .group_by(col(Denial.group_code), col(Denial.carc))
        .order_by(dollars.desc(), col(Denial.group_code), col(Denial.carc))
    )
    return [CodeDollars(g, c, n, Decimal(d)) for g, c, n, d in session.execute(statement)]


# --- exposure ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BilledClaim:
    claim_id: str
    payer_id: str
    dos_from: date
    dos_to: date
    billed: Decimal
    status: str
    procedure_codes: list[str]
    prior_auth_number: str | None
    rendering_npi: str


_BILLED = (
    col(Claim.claim_id),
    col(Claim.payer_id),
    col(Claim.dos_from),
    col(Claim.dos_to),
    col(Claim.billed_amount),
    col(Claim.status),
    col(Claim.procedure_codes),
    col(Claim.prior_auth_number),
    col(Claim.rendering_npi),
)


def claims_billed_under_an_auth(
    session: Session, start: date | None, end: date | None, payer: str | None
) -> list[BilledClaim]:
    """Claims that name a prior authorization, with a date of service in the range."""
    statement = (
        sa_select(*_BILLED)
        .where(
            col(Claim.prior_auth_number).is_not(None),
            _between(Claim.dos_from, start, end),
            _payer(Claim.payer_id, payer),
        )
        .order_by(col(Claim.claim_id))
    )
    return [BilledClaim(*row) for row in session.execute(statement)]


def authorizations(session: Session) -> list[Authorization]:
    return list(session.scalars(sa_select(Authorization).order_by(col(Authorization.auth_number))))


@dataclass(frozen=True, slots=True)
class ClaimEnrollment:
    claim: BilledClaim
    status: str
    effective: date | None
    termination: date | None


def claims_with_their_enrollment(
    session: Session, start: date | None, end: date | None, payer: str | None
) -> list[ClaimEnrollment]:
    """Claims with a date of service in the range whose rendering provider's enrollment with the claim's
    payer is not active, or whose service dates fall outside its effective-termination window."""
    outside = or_(
        col(Enrollment.status) != "active",
        and_(col(Enrollment.effective).is_not(None), col(Claim.dos_from) < col(Enrollment.effective)),
        and_(col(Enrollment.termination).is_not(None), col(Claim.dos_to) > col(Enrollment.termination)),
    )
    statement = (
        sa_select(*_BILLED, col(Enrollment.status), col(Enrollment.effective), col(Enrollment.termination))
        .join(
            Enrollment,
            and_(col(Enrollment.npi) == col(Claim.rendering_npi), col(Enrollment.payer_id) == col(Claim.payer_id)),
        )
        .where(outside, _between(Claim.dos_from, start, end), _payer(Claim.payer_id, payer))
        .order_by(col(Claim.claim_id))
    )
    return [ClaimEnrollment(BilledClaim(*row[:9]), *row[9:]) for row in session.execute(statement)]
