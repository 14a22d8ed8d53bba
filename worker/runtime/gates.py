"""Whether a runner may log in to a portal now, and if not why, in words for `status`.

A portal is open when it is enabled in config, inside its open hours, not paused by the circuit
breaker, has credentials stored on this install, and is not waiting for a person to store new ones
after the portal rejected a login. Runners ask with the keyring in hand; `status` and `schedule`
ask with only the database's record of when this install's credentials were stored, so they need
no key.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine

from flows.windows import availability
from store import accounts
from store.db import session_scope
from worker.clock import aware, utcnow
from worker.security.credentials import CredentialStore, waiting_for_new_credentials, waiting_reason
from worker.settings import Settings


@dataclass(frozen=True)
class PortalGate:
    portal: str
    open: bool
    state: str  # ok | disabled | closed | paused | no credentials | not recorded | needs a person
    detail: str | None = None  # what a person reads in `status`


class CredentialsHeld(Protocol):
    def stored_at(self, portal: str) -> datetime | None:
        """When this install's credentials for `portal` were stored; None when it holds none."""


def holder(data_dir: Path) -> str:
    """One install: the host and its data directory (the encrypted credential file lives there)."""
    return f"{socket.gethostname()}:{data_dir.resolve()}"


class RecordedCredentials:
    """What this install's keyring held when a worker last read it or a person last changed it."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        with session_scope(engine) as session:
            self.recorded = accounts.host_credentials(session, holder(data_dir))

    def stored_at(self, portal: str) -> datetime | None:
        return (self.recorded or {}).get(portal)


def record_credentials(settings: Settings, engine: Engine, store: CredentialStore) -> None:
    """Tell the database what this install's keyring holds (read now, once per process), for `status`."""
    stored_at = {portal: store.stored_at(portal) for portal in settings.portals}
    with session_scope(engine) as session:
        accounts.record_host_credentials(session, holder(settings.worker.data_dir), stored_at, utcnow())


class PortalGates:
    def __init__(
        self, settings: Settings, engine: Engine, credentials: CredentialsHeld, *, clock: Callable[[], datetime]
    ) -> None:
        self.settings, self.engine, self.credentials, self.clock = settings, engine, credentials, clock
        self.ignore_backoff = False  # `check --force`: a portal the circuit breaker paused is tried anyway

    def gate(self, portal: str, now: datetime) -> PortalGate:
        config = self.settings.portals[portal]
        if not config.enabled:
            return PortalGate(portal, False, "disabled", "enabled = false in the config")
        local = self.clock().astimezone(self.settings.worker.tzinfo)
        window = availability(config.hours, local)
        if not window.is_open:
            reopens = f", reopens {window.reopens_at:%a %H:%M}" if window.reopens_at else ""
            return PortalGate(portal, False, "closed", f"{window.reason}{reopens}")
        # What `status` and `schedule` show (RecordedCredentials) only reads: it works on a read-only store.
        account_of = (
            accounts.peek_account if isinstance(self.credentials, RecordedCredentials) else accounts.get_account
        )
        with session_scope(self.engine) as session:
            account = account_of(session, portal, config.adapter)
            if account.unavailable_until and aware(account.unavailable_until) > now and not self.ignore_backoff:
                return PortalGate(
                    portal,
                    False,
                    "paused",
                    f"until {account.unavailable_until:%Y-%m-%d %H:%M} UTC after: {account.last_error}",
                )
        if isinstance(self.credentials, RecordedCredentials) and self.credentials.recorded is None:
            return PortalGate(
                portal,
                False,
                "not recorded",
                "no worker on this host has read its keyring since the upgrade; `run`, `check` and "
                "`credentials set` record what it holds",
            )
        stored_at = self.credentials.stored_at(portal)
        if stored_at is None:
            return PortalGate(portal, False, "no credentials", f"run `portal-worker credentials set {portal}`")
        with session_scope(self.engine) as session:
            account = account_of(session, portal, config.adapter)
            if waiting_for_new_credentials(account, stored_at):
                return PortalGate(portal, False, "needs a person", waiting_reason(account, portal))
            if account.state == "needs_attention":
                accounts.clear_attention(session, portal)  # someone stored credentials since the rejection
        return PortalGate(portal, True, "ok")

    def blocked_portals(self, now: datetime) -> set[str]:
        return {name for name in self.settings.portals if not self.gate(name, now).open}
