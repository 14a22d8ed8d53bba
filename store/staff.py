"""Workspace users and the audit log. Queries only: password hashing and lockout rules live in web/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, func, select

from store.models import AuditEntry, StaffUser, WebSession
from store.pages import Page, page_of


def get_user(session: Session, name: str) -> StaffUser | None:
    return session.get(StaffUser, name)


def list_users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.name))))


def save_user(session: Session, user: StaffUser) -> None:
    session.add(user)
    session.flush()


def count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(StaffUser)).one()


def count_enabled_admins(session: Session) -> int:
    enabled_admins = (
        select(func.count()).select_from(StaffUser).where(StaffUser.role == "admin", ~col(StaffUser.disabled))
    )
    return session.exec(enabled_admins).one()


def audit_actions(session: Session) -> list[str]:
    """Every action the audit log holds, for the admin page's filter."""
    return list(session.exec(select(AuditEntry.action).distinct().order_by(col(AuditEntry.action))))


def record_audit(
    session: Session,
    at: datetime,
    user_name: str | None,
    action: str,
    subject: str | None = None,
    remote_addr: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        AuditEntry(at=at, user_name=user_name, action=action, subject=subject, remote_addr=remote_addr, detail=detail)
    )
    session.flush()


def audit_page(
    session: Session,
    limit: int,
    offset: int = 0,
    user_name: str | None = None,
    actions: Sequence[str] | None = None,
    subject: str | None = None,
) -> Page[AuditEntry]:
    """A page of the audit log, newest first, with how many entries match in all."""
    statement = select(AuditEntry)
    if user_name:
        statement = statement.where(AuditEntry.user_name == user_name)
    if actions:
        statement = statement.where(col(AuditEntry.action).in_(actions))
    if subject:
        statement = statement.where(AuditEntry.subject == subject)
    return page_of(session, statement.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()), limit, offset)


def add_session(session: Session, web_session: WebSession) -> None:
    session.add(web_session)
    session.flush()


def get_session(session: Session, session_id: str) -> WebSession | None:
    return session.get(WebSession, session_id)


def touch_session(session: Session, web_session: WebSession, at: datetime) -> None:
    web_session.last_seen_at = at
    session.add(web_session)


def end_session(session: Session, session_id: str) -> None:
    row = session.get(WebSession, session_id)
    if row is not None:
        session.delete(row)
        session.flush()


def end_sessions_of(session: Session, user_name: str) -> int:
    """Log a user out everywhere (password changed, account disabled)."""
    rows = list(session.exec(select(WebSession).where(WebSession.user_name == user_name)))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def end_sessions_before(session: Session, created_before: datetime, seen_before: datetime) -> int:
    """Forget sessions past their absolute lifetime or idle too long."""
    stale = select(WebSession).where(
        (col(WebSession.created_at) < created_before) | (col(WebSession.last_seen_at) < seen_before)
    )
    rows = list(session.exec(stale))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
