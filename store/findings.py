"""Findings: open until the condition that raised them ends."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from store.models import Finding
from store.pages import Page, page_of


def open_findings(session: Session, kinds: Sequence[str] | None = None) -> list[Finding]:
    statement = select(Finding).where(Finding.status == "open")
    if kinds:
        statement = statement.where(col(Finding.kind).in_(kinds))
    return list(session.exec(statement.order_by(col(Finding.due), col(Finding.id))))


def findings_page(session: Session, limit: int, offset: int, include_resolved: bool = False) -> Page[Finding]:
    """One page of the open findings (or all), soonest first, and how many there are."""
    statement = select(Finding)
    if include_resolved:
        statement = statement.order_by(col(Finding.status))
    else:
        statement = statement.where(Finding.status == "open")
    return page_of(session, statement.order_by(col(Finding.due), col(Finding.id)), limit, offset)


def find_by_key(session: Session, key: str) -> Finding | None:
    return session.exec(select(Finding).where(Finding.key == key)).first()


def save_finding(session: Session, finding: Finding) -> None:
    session.add(finding)


def all_findings(session: Session) -> list[Finding]:
    return list(session.exec(select(Finding).order_by(col(Finding.status), col(Finding.due), col(Finding.id))))
