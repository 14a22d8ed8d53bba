"""What every runner of one worker process shares: settings, store, credentials, clock, and the gates.

The gates say, per portal, whether a login may be attempted now: enabled in config, inside
its open hours, not paused by the circuit breaker, credentials stored, and not waiting for
a person to fix a rejected password.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.alerts import LAYOUT_CHANGED
from flows.authorizations import AUTH_FINDINGS, AuthRules, auth_findings
from flows.credentialing import ENROLLMENT_FINDINGS, CredentialingRules, enrollment_findings
from flows.findings import FindingChanges, FindingDraft, merge, sync_findings
from flows.windows import availability
from portals.base import PortalAdapter, Timeouts
from store import accounts, health
from store.db import session_scope
from store.authorizations import list_authorizations
from store.claims import list_claims
from store.evidence import add_evidence
from store.observations import all_enrollments
from store.providers import list_providers
from worker.runtime.browser import ChromiumChoice
from worker.clock import aware, utcnow
from worker.security.credentials import CredentialStore, StoredCredentials, waiting_for_new_credentials, waiting_reason
from worker.runtime.evidence import FailureTrace, save_snapshot
from worker.settings import Settings

CREDENTIALS_TTL_S = 30.0  # an OS keyring that cannot say it changed: a new password is seen within this


@dataclass(frozen=True)
class _Loaded:
    at: float  # monotonic
    version: tuple[int, int] | None  # CredentialStore.version() when loaded
    stored: StoredCredentials | None


@dataclass(frozen=True)
class PortalGate:
    portal: str
    open: bool
    state: str  # ok | disabled | closed | paused | no credentials | needs a person
    detail: str | None = None  # what a person reads in `status`


class WorkerContext:
    def __init__(self, settings: Settings, engine: Engine, credentials: CredentialStore, *,
                 clock: Callable[[], datetime], chromium: ChromiumChoice, worker_id: str) -> None:
        self.settings, self.engine, self.credentials = settings, engine, credentials
        self.clock, self.chromium, self.worker_id = clock, chromium, worker_id
        self.data_dir: Path = settings.worker.data_dir
        self.stop = threading.Event()
        self.ignore_backoff = False  # `check --force`: a portal the circuit breaker paused is tried anyway
        self._lock = threading.Lock()
        self._loaded: dict[str, _Loaded] = {}

    # --- gates -------------------------------------------------------------

    def gate(self, portal: str, now: datetime) -> PortalGate:
        """Whether a runner may log in to `portal` now, and if not, why (in words for `status`)."""
        config = self.settings.portals[portal]
        if not config.enabled:
            return PortalGate(portal, False, "disabled", "enabled = false in the config")
        local = self.clock().astimezone(self.settings.worker.tzinfo)
        window = availability(config.hours, local)
        if not window.is_open:
            reopens = f", reopens {window.reopens_at:%a %H:%M}" if window.reopens_at else ""
            return PortalGate(portal, False, "closed", f"{window.reason}{reopens}")
        with session_scope(self.engine) as session:
            account = accounts.get_account(session, portal, config.adapter)
            if account.unavailable_until and aware(account.unavailable_until) > now and not self.ignore_backoff:
                return PortalGate(portal, False, "paused",
                                  f"until {account.unavailable_until:%Y-%m-%d %H:%M} UTC after: {account.last_error}")
        stored = self.credentials_for(portal)
        if stored is None:
            return PortalGate(portal, False, "no credentials",
                              f"run `portal-worker credentials set {portal}`")
        with session_scope(self.engine) as session:
            account = accounts.get_account(session, portal, config.adapter)
            if waiting_for_new_credentials(account, stored):
                return PortalGate(portal, False, "needs a person", waiting_reason(account, portal))
            if account.state == "needs_attention":
                accounts.clear_attention(session, portal)  # someone stored credentials since the rejection
        return PortalGate(portal, True, "ok")

    def blocked_portals(self, now: datetime) -> set[str]:
        return {name for name in self.settings.portals if not self.gate(name, now).open}

    def usable_credentials(self, portal: str) -> StoredCredentials | None:
        return self.credentials_for(portal) if self.gate(portal, utcnow()).open else None

    def credentials_for(self, portal: str) -> StoredCredentials | None:
        """The stored credentials, decrypted again only when the store changed (or, for an OS keyring that
        cannot say, every CREDENTIALS_TTL_S): decrypting the file costs an Argon2 derivation each time."""
        version = self.credentials.version()
        with self._lock:
            loaded = self._loaded.get(portal)
            fresh = loaded is not None and (
                loaded.version == version if version is not None
                else time.monotonic() - loaded.at < CREDENTIALS_TTL_S)
            if not fresh:
                loaded = _Loaded(time.monotonic(), version, self.credentials.load(portal))
                self._loaded[portal] = loaded
            assert loaded is not None
            return loaded.stored

    def forget_credentials(self, portal: str) -> None:
        with self._lock:
            self._loaded.pop(portal, None)

    # --- per portal ---------------------------------------------------------

    def state_file(self, portal: str) -> Path:
        return self.data_dir / "sessions" / f"{portal}.json"

    def timeouts(self, portal: str) -> Timeouts:
        return portal_timeouts(self.settings, portal)

    def save_evidence(self, adapter: PortalAdapter, claim_id: str | None, reason: str,
                      trace: FailureTrace | None = None) -> str | None:
        return save_evidence(self.engine, self.data_dir, adapter, claim_id, reason, trace)

    def layout_changed(self, portal: str, kind: str, message: str, evidence: str | None) -> None:
        self.sync_layout_findings()

    def sync_program_findings(self, kinds: Collection[str]) -> FindingChanges:
        """The authorization and enrollment findings, refreshed after those were read from a portal."""
        rules, today = self.settings.findings, self.clock().astimezone(self.settings.worker.tzinfo).date()
        changes, now = FindingChanges(), utcnow()
        with session_scope(self.engine) as session:
            claims = list_claims(session)
            if "authorization" in kinds:
                drafts = auth_findings(list_authorizations(session), claims, today,
                                       AuthRules(rules.auth_expiry_days, rules.auth_units_threshold))
                changes = merge(changes, sync_findings(session, AUTH_FINDINGS, drafts, now))
            if "enrollment" in kinds:
                drafts = enrollment_findings(all_enrollments(session), list_providers(session), claims, today,
                                             CredentialingRules(rules.revalidation_days, rules.caqh_interval_days,
                                                                rules.caqh_notice_days))
                changes = merge(changes, sync_findings(session, ENROLLMENT_FINDINGS, drafts, now))
        return changes

    def sync_layout_findings(self) -> None:
        """One open finding per paused (portal, kind), for whoever maintains the adapter."""
        now = utcnow()
        with session_scope(self.engine) as session:
            drafts = [FindingDraft(LAYOUT_CHANGED, f"{pause.portal}:{pause.kind}", None,
                                   f"{pause.portal}: the {pause.kind.replace('_', ' ')} pages changed "
                                   f"({pause.reason}); that work is paused until {pause.until:%Y-%m-%d %H:%M} UTC "
                                   f"or `portal-worker resume {pause.portal}`. The adapter needs updating"
                                   + (f"; evidence {Path(pause.evidence).name}" if pause.evidence else ""))
                      for pause in health.active_pauses(session, now)]
            sync_findings(session, [LAYOUT_CHANGED], drafts, now)


def portal_timeouts(settings: Settings, portal: str) -> Timeouts:
    config, browser = settings.portals[portal], settings.browser
    navigation = config.navigation_timeout_s or browser.navigation_timeout_s
    element = config.element_timeout_s or browser.element_timeout_s
    return Timeouts(navigation_ms=int(navigation * 1000), element_ms=int(element * 1000))


def save_evidence(engine: Engine, data_dir: Path, adapter: PortalAdapter, claim_id: str | None,
                  reason: str, trace: FailureTrace | None = None) -> str | None:
    """Screenshot and HTML of the page in hand (passwords blanked), and the task's trace if one is
    recording, listed in the store."""
    snapshot = adapter.snapshot()
    if not snapshot.html and not snapshot.screenshot_png:
        return None
    evidence = save_snapshot(data_dir, snapshot, portal=adapter.portal, claim_id=claim_id, reason=reason,
                             at=utcnow(), trace=trace)
    with session_scope(engine) as session:
        add_evidence(session, evidence)
    return evidence.screenshot_path or evidence.html_path
