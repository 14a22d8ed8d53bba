"""Page queries the workspace's lists need beyond the CLI's: alerts by tab and department, enrollments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, or_
from sqlmodel import Session, col, select

from store.models import Alert, Authorization, Enrollment, Provider
from store.pages import Page, page_of

ALERT_TABS = ("waiting", "set_aside", "resolved")
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def alerts_tab_page(
    session: Session,
    tab: str,
    now: datetime,
    limit: int,
    offset: int,
    owner: str | None = None,
    severity: str | None = None,
) -> Page[Alert]:
    """`waiting`: open, or snoozed until before `now`; `set_aside`: acknowledged, or snoozed until later;
    `resolved`: no longer true. Most severe first, then soonest due (the newest resolved first)."""
    woke = and_(col(Alert.status) == "snoozed", col(Alert.snoozed_until) <= now)
    if tab == "waiting":
        statement = select(Alert).where(or_(col(Alert.status) == "open", woke))
    elif tab == "set_aside":
        statement = select(Alert).where(
            or_(
                col(Alert.status) == "acknowledged",
                and_(col(Alert.status) == "snoozed", col(Alert.snoozed_until) > now),
            )
        )
    elif tab == "resolved":
        statement = select(Alert).where(col(Alert.status) == "resolved")
    else:
        raise ValueError(f"no alert tab {tab!r}")
    if owner is not None:
        statement = statement.where(col(Alert.owner) == owner)
    if severity is not None:
        statement = statement.where(col(Alert.severity) == severity)
    if tab == "resolved":
        statement = statement.order_by(col(Alert.resolved_at).desc(), col(Alert.id))
    else:
        rank = case(SEVERITY_RANK, value=col(Alert.severity), else_=len(SEVERITY_RANK))
        statement = statement.order_by(rank, col(Alert.due).is_(None), col(Alert.due), col(Alert.id))
    return page_of(session, statement, limit, offset)


def enrollments_page(
    session: Session, limit: int, offset: int, status: str | None = None, payer_id: str | None = None
) -> Page[tuple[Enrollment, Provider | None]]:
    """Each provider's enrollment with each payer (with the provider, when known), by NPI then payer."""
    statement = select(Enrollment, Provider).join(Provider, col(Provider.npi) == col(Enrollment.npi), isouter=True)
    if status is not None:
        statement = statement.where(col(Enrollment.status) == status)
    if payer_id is not None:
        statement = statement.where(col(Enrollment.payer_id) == payer_id)
    return page_of(session, statement.order_by(col(Enrollment.npi), col(Enrollment.payer_id)), limit, offset)  # type: ignore[arg-type]


def enrollment_choices(session: Session) -> tuple[list[str], list[str]]:
    """(statuses, payers) that enrollments have, for the filters."""
    rows = session.exec(select(Enrollment.status, Enrollment.payer_id).distinct()).all()
    return sorted({s for s, _ in rows}), sorted({p for _, p in rows})


def authorization_choices(session: Session) -> tuple[list[str], list[str]]:
    """(statuses, payers) that authorizations have, for the filters."""
    rows = session.exec(select(Authorization.status, Authorization.payer_id).distinct()).all()
    return sorted({s for s, _ in rows}), sorted({p for _, p in rows})
