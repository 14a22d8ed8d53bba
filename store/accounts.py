"""Portal account health: needs attention, backed off, last success."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, select

from store.models import HostCredentials, PortalAccount


def get_account(session: Session, portal: str, adapter: str) -> PortalAccount:
    account = session.get(PortalAccount, portal)
    if account is None:
        account = PortalAccount(portal=portal, adapter=adapter)
    account.adapter = adapter
    session.add(account)
    return account


def peek_account(session: Session, portal: str, adapter: str) -> PortalAccount:
    """The account as stored, or a new one not added to the session: for readers that must not write."""
    return session.get(PortalAccount, portal) or PortalAccount(portal=portal, adapter=adapter)


def all_accounts(session: Session) -> list[PortalAccount]:
    return list(session.exec(select(PortalAccount).order_by(PortalAccount.portal)))


def mark_needs_attention(session: Session, portal: str, reason: str, at: datetime) -> None:
    """The portal rejected the account's login at `at`: a person must act, then store credentials again."""
    account = session.get(PortalAccount, portal)
    assert account is not None, portal
    account.state = "needs_attention"
    account.attention_reason = reason
    account.attention_since = at
    account.credentials_rejected_at = at
    account.last_error = reason
    session.add(account)


def clear_attention(session: Session, portal: str) -> None:
    """Credentials stored since the rejection are being tried. The rejection's time stays: older copies
    of the credentials on other hosts still wait."""
    account = session.get(PortalAccount, portal)
    if account is not None:
        account.state = "active"
        account.attention_reason = None
        account.attention_since = None
        session.add(account)


def mark_unavailable(session: Session, portal: str, until: datetime, error: str) -> int:
    """Back the portal off until `until`; returns how many failures in a row that makes."""
    account = session.get(PortalAccount, portal)
    assert account is not None, portal
    account.consecutive_failures += 1
    account.unavailable_until = until
    account.last_error = error
    session.add(account)
    return account.consecutive_failures


def note_error(session: Session, portal: str, error: str) -> None:
    account = session.get(PortalAccount, portal)
    if account is not None:
        account.last_error = error
        session.add(account)


def mark_success(session: Session, portal: str, at: datetime) -> None:
    account = session.get(PortalAccount, portal)
    assert account is not None, portal
    account.consecutive_failures = 0
    account.unavailable_until = None
    account.last_error = None
    account.last_success_at = at
    session.add(account)


def note_failure(session: Session, portal: str, error: str) -> int:
    """One more portal-level failure in a row (the circuit breaker counts them); returns the count."""
    account = session.get(PortalAccount, portal)
    assert account is not None, portal
    account.consecutive_failures += 1
    account.last_error = error
    session.add(account)
    return account.consecutive_failures


def pause(session: Session, portal: str, until: datetime | None) -> None:
    """Pause the portal until `until` (None lifts the pause)."""
    account = session.get(PortalAccount, portal)
    assert account is not None, portal
    account.unavailable_until = until
    account.pauses += until is not None
    session.add(account)


def record_host_credentials(
    session: Session, holder: str, stored_at: Mapping[str, datetime | None], now: datetime
) -> None:
    """What one install's keyring holds now, per configured portal (None: nothing), replacing what it held."""
    for row in session.exec(select(HostCredentials).where(HostCredentials.holder == holder)):
        session.delete(row)
    session.flush()
    for portal, at in stored_at.items():
        session.add(HostCredentials(holder=holder, portal=portal, stored_at=at, recorded_at=now))


def host_credentials(session: Session, holder: str) -> dict[str, datetime | None] | None:
    """When each portal's credentials were stored in that install's keyring; None if it was never recorded."""
    rows = session.exec(select(HostCredentials).where(HostCredentials.holder == holder)).all()
    return {row.portal: row.stored_at for row in rows} if rows else None
