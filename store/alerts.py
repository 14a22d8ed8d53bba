"""Alerts (one row per kind and target) and the daily summaries that were built and sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from store.models import Alert, Denial, Digest
from store.pages import Page, count_rows, page_of

UNRESOLVED = ("open", "acknowledged", "snoozed")


# --- alerts ------------------------------------------------------------------------


def get(session: Session, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)


def find_by_key(session: Session, key: str) -> Alert | None:
    return session.exec(select(Alert).where(Alert.key == key)).first()


def find_by_keys(session: Session, keys: Sequence[str]) -> list[Alert]:
    if not keys:
        return []
    return list(session.exec(select(Alert).where(col(Alert.key).in_(keys))))


def save(session: Session, alert: Alert) -> None:
    session.add(alert)


def _ordered(statement: SelectOfScalar[Alert]) -> SelectOfScalar[Alert]:
    return statement.order_by(col(Alert.due).is_(None), col(Alert.due), col(Alert.id))


def open_alerts(session: Session, include_snoozed: bool = False, now: datetime | None = None) -> list[Alert]:
    """Alerts waiting for a person: open ones, and snoozed ones whose snooze has passed `now` (or all snoozed)."""
    return list(session.exec(_open_query(include_snoozed, now)))


def alerts_page(session: Session, limit: int, offset: int, now: datetime | None = None) -> Page[Alert]:
    """One page of the alerts waiting for a person as of `now` (every alert when None), soonest first."""
    statement = _ordered(select(Alert)) if now is None else _open_query(False, now)
    return page_of(session, statement, limit, offset)


def count_unresolved(session: Session) -> int:
    return count_rows(session, select(Alert).where(col(Alert.status).in_(UNRESOLVED)))


def _open_query(include_snoozed: bool, now: datetime | None) -> SelectOfScalar[Alert]:
    waiting = [col(Alert.status) == "open"]
    if include_snoozed:
        waiting.append(col(Alert.status) == "snoozed")
    elif now is not None:
        waiting.append(and_(col(Alert.status) == "snoozed", col(Alert.snoozed_until) <= now))
    return _ordered(select(Alert).where(or_(*waiting)))


def unresolved_alerts(session: Session, kinds: Sequence[str] | None = None) -> list[Alert]:
    """Open, acknowledged or snoozed: every alert whose condition was last seen true."""
    statement = select(Alert).where(col(Alert.status).in_(UNRESOLVED))
    if kinds is not None:
        statement = statement.where(col(Alert.kind).in_(kinds))
    return list(session.exec(_ordered(statement)))


def snoozes_ended(session: Session, now: datetime) -> list[Alert]:
    statement = select(Alert).where(col(Alert.status) == "snoozed", col(Alert.snoozed_until) <= now)
    return list(session.exec(_ordered(statement)))


def resolved_unreported(session: Session) -> list[Alert]:
    """Resolved alerts a sent summary once showed but has not yet said are resolved."""
    statement = select(Alert).where(
        col(Alert.status) == "resolved", col(Alert.resolution_reported).is_(False), col(Alert.reported_at).is_not(None)
    )
    return list(session.exec(statement.order_by(col(Alert.resolved_at), col(Alert.id))))


def list_alerts(session: Session, statuses: Sequence[str] | None = None) -> list[Alert]:
    statement = select(Alert)
    if statuses is not None:
        statement = statement.where(col(Alert.status).in_(statuses))
    return list(session.exec(_ordered(statement)))


def new_denials_since(session: Session, since: datetime | None) -> list[Denial]:
    """Denials first seen after `since` (every denial when None), oldest first."""
    statement = select(Denial)
    if since is not None:
        aware = since if since.tzinfo else since.replace(tzinfo=UTC)  # naive means UTC, as stored
        statement = statement.where(col(Denial.first_seen_at) > aware)
    return list(session.exec(statement.order_by(col(Denial.first_seen_at), col(Denial.id))))


# --- digests -----------------------------------------------------------------------


def get_digest(session: Session, day: date, channel: str) -> Digest | None:
    statement = select(Digest).where(Digest.digest_date == day, Digest.channel == channel)
    return session.exec(statement.execution_options(populate_existing=True)).first()


def save_digest(session: Session, digest: Digest) -> None:
    session.add(digest)


def digests_by_state(session: Session, states: Sequence[str]) -> list[Digest]:
    statement = select(Digest).where(col(Digest.state).in_(states))
    statement = statement.order_by(col(Digest.digest_date), col(Digest.channel))
    return list(session.exec(statement.execution_options(populate_existing=True)))


def digest_channel_used(session: Session, channel: str) -> bool:
    """A row for `channel` on any day: an urgent notice's key names its alert, so once is once."""
    return session.exec(select(Digest.id).where(Digest.channel == channel).limit(1)).first() is not None


def last_sent_digest(session: Session, channel: str) -> Digest | None:
    """The newest summary that reached `channel`: its sent_at is where "newly denied" counts from."""
    statement = (
        select(Digest).where(Digest.channel == channel, Digest.state == "sent").order_by(col(Digest.digest_date).desc())
    )
    return session.exec(statement).first()


def move_digest(session: Session, digest: Digest, expected: Sequence[str], **values: object) -> bool:
    """Move the row on only if it is still in an `expected` state (another worker may have moved it);
    `digest` gets the new values when it did."""
    statement = (
        update(Digest)
        .where(col(Digest.id) == digest.id, col(Digest.state).in_(expected))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    moved = session.exec(statement).rowcount
    if moved:
        for name, value in values.items():
            setattr(digest, name, value)
    return bool(moved)
