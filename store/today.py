"""What the Today page counts: waiting alerts by department and severity, open denials by department."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from store.models import Alert, Denial


@dataclass(frozen=True)
class AlertTally:
    owner: str
    severity: str
    count: int
    at_risk: Decimal  # the alerts' amounts added up (alerts without an amount add nothing)


@dataclass(frozen=True)
class DenialTally:
    owner: str
    count: int
    amount: Decimal


def waiting_alerts_by_owner(session: Session, now: datetime) -> list[AlertTally]:
    """Alerts waiting for a person as of `now` (open, or snoozed until before now), counted per department
    and severity."""
    waiting = or_(col(Alert.status) == "open", and_(col(Alert.status) == "snoozed", col(Alert.snoozed_until) <= now))
    statement = (
        select(Alert.owner, Alert.severity, func.count(), func.coalesce(func.sum(Alert.amount), 0))
        .where(waiting)
        .group_by(col(Alert.owner), col(Alert.severity))
    )
    return [
        AlertTally(owner, severity, int(count), Decimal(str(total)).quantize(Decimal("0.01")))
        for owner, severity, count, total in session.exec(statement)
    ]


def open_denials_by_owner(session: Session) -> list[DenialTally]:
    """Denials nobody has worked yet, counted and added up per department."""
    statement = (
        select(Denial.owner, func.count(), func.coalesce(func.sum(Denial.amount), 0))
        .where(col(Denial.status) == "open")
        .group_by(col(Denial.owner))
    )
    return [
        DenialTally(owner, int(count), Decimal(str(total)).quantize(Decimal("0.01")))
        for owner, count, total in session.exec(statement)
    ]
