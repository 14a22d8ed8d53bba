"""What every runner of one worker process shares: settings, store, credentials, clock, and the gates
(worker/runtime/gates.py: whether a login may be attempted on a portal now)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.alerts import LAYOUT_CHANGED
from flows.authorizations import AUTH_FINDINGS, AuthRules, auth_findings
from flows.claim_listing import ClaimLists
from flows.credentialing import ENROLLMENT_FINDINGS, CredentialingRules, enrollment_findings
from flows.eligibility_check import sync_eligibility_findings
from flows.findings import FindingChanges, FindingDraft, merge, sync_findings
from flows.kept_evidence import KeptEvidence
from portals.base import PortalAdapter, Timeouts
from portals.types import PageSnapshot
from store import health
from store.authorizations import list_authorizations
from store.claims import list_claims
from store.db import session_scope
from store.evidence import add_evidence
from store.observations import all_enrollments
from store.providers import list_providers
from worker.clock import utcnow
from worker.runtime.browser import ChromiumChoice
from worker.runtime.browser_host import BrowserHost, RecyclePolicy
from worker.runtime.evidence import FailureTrace, save_confirmation, save_snapshot
from worker.runtime.evidence_printer import IdlePrinter
from worker.runtime.gates import PortalGate, PortalGates, record_credentials
from worker.security.credentials import CredentialStore, StoredCredentials
from worker.settings import Settings


class WorkerContext:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        credentials: CredentialStore,
        *,
        clock: Callable[[], datetime],
        chromium: ChromiumChoice,
        worker_id: str,
    ) -> None:
        self.settings, self.engine, self.credentials = settings, engine, credentials
        self.clock, self.chromium, self.worker_id = clock, chromium, worker_id
        self.data_dir: Path = settings.worker.data_dir
        self.stop = threading.Event()
        self.claim_lists = ClaimLists(clock)  # each portal's claim list by month, read once for every runner
        self.open_every_claim = False  # `check --claim`: a person who names claims wants their own pages read
        self.gates = PortalGates(settings, engine, credentials, clock=clock)
        self.printer = IdlePrinter(engine, self.data_dir)  # claims' pages kept mid-check, printed when idle
        run = settings.run
        # One browser for every runner of this process, launched on first use; the owner closes it at the end.
        self.browser_host = BrowserHost(
            chromium,
            data_dir=self.data_dir,
            # The limits are per runner, as when each had its own browser: in the shared one, their tasks and
            # contexts add up (four runners at 200 would recycle it every 50 tasks each, draining all four).
            policy=RecyclePolicy(run.browser_recycle_tasks * run.runners, run.browser_max_rss_mb * run.runners),
            headless=settings.browser.headless,
            extra_args=tuple(settings.browser.extra_args),
        )

    # --- gates and credentials --------------------------------------------------

    def gate(self, portal: str, now: datetime) -> PortalGate:
        return self.gates.gate(portal, now)

    def blocked_portals(self, now: datetime) -> set[str]:
        return self.gates.blocked_portals(now)

    def usable_credentials(self, portal: str) -> StoredCredentials | None:
        return self.credentials.load(portal) if self.gate(portal, utcnow()).open else None

    def forget_credentials(self) -> None:
        self.credentials.forget()

    def record_credentials(self) -> None:
        record_credentials(self.settings, self.engine, self.credentials)

    # --- per portal ---------------------------------------------------------

    def state_file(self, portal: str) -> Path:
        return self.data_dir / "sessions" / f"{portal}.json"

    def timeouts(self, portal: str) -> Timeouts:
        return portal_timeouts(self.settings, portal)

    def save_evidence(
        self, adapter: PortalAdapter, claim_id: str | None, reason: str, trace: FailureTrace | None = None
    ) -> str | None:
        return save_evidence(self.engine, self.data_dir, adapter, claim_id, reason, trace)

    def keep_evidence(self, snapshot: PageSnapshot, *, portal: str, subject: str, reason: str) -> KeptEvidence:
        """A confirmation page (an eligibility response) kept with its PDF; the flow stores the row with its record."""
        evidence, pdf_path = save_confirmation(
            self.data_dir, snapshot, portal=portal, subject=subject, reason=reason, at=utcnow()
        )
        return KeptEvidence(evidence, pdf_path)

    def layout_changed(self, portal: str, kind: str, message: str, evidence: str | None) -> None:
        self.sync_layout_findings()

    def sync_program_findings(self, kinds: Collection[str]) -> FindingChanges:
        """The authorization, enrollment and eligibility findings, refreshed after those were read from a portal."""
        rules, today = self.settings.findings, self.clock().astimezone(self.settings.worker.tzinfo).date()
        changes, now = FindingChanges(), utcnow()
        if "eligibility" in kinds:
            changes = sync_eligibility_findings(self.engine, today, now)
        with session_scope(self.engine) as session:
            claims = list_claims(session)
            if "authorization" in kinds:
                drafts = auth_findings(
                    list_authorizations(session),
                    claims,
                    today,
                    AuthRules(rules.auth_expiry_days, rules.auth_units_threshold),
                )
                changes = merge(changes, sync_findings(session, AUTH_FINDINGS, drafts, now))
            if "enrollment" in kinds:
                drafts = enrollment_findings(
                    all_enrollments(session),
                    list_providers(session),
                    claims,
                    today,
                    CredentialingRules(rules.revalidation_days, rules.caqh_interval_days, rules.caqh_notice_days),
                )
                changes = merge(changes, sync_findings(session, ENROLLMENT_FINDINGS, drafts, now))
        return changes

    def sync_layout_findings(self) -> None:
        """One open finding per paused (portal, kind), for whoever maintains the adapter."""
        now = utcnow()
        with session_scope(self.engine) as session:
            drafts = [
                FindingDraft(
                    LAYOUT_CHANGED,
                    f"{pause.portal}:{pause.kind}",
                    None,
                    f"{pause.portal}: the {pause.kind.replace('_', ' ')} pages changed "
                    f"({pause.reason}); that work is paused until {pause.until:%Y-%m-%d %H:%M} UTC "
                    f"or `portal-worker resume {pause.portal}`. The adapter needs updating"
                    + (f"; evidence {Path(pause.evidence).name}" if pause.evidence else ""),
                )
                for pause in health.active_pauses(session, now)
            ]
            sync_findings(session, [LAYOUT_CHANGED], drafts, now)


def portal_timeouts(settings: Settings, portal: str) -> Timeouts:
    config, browser = settings.portals[portal], settings.browser
    navigation = config.navigation_timeout_s or browser.navigation_timeout_s
    element = config.element_timeout_s or browser.element_timeout_s
    return Timeouts(navigation_ms=int(navigation * 1000), element_ms=int(element * 1000))


def save_evidence(
    engine: Engine,
    data_dir: Path,
    adapter: PortalAdapter,
    claim_id: str | None,
    reason: str,
    trace: FailureTrace | None = None,
) -> str | None:
    """Screenshot and HTML of the page in hand (passwords blanked), and the task's trace if one is
    recording, listed in the store."""
    snapshot = adapter.snapshot()
    if not snapshot.html and not snapshot.screenshot_png:
        return None
    evidence = save_snapshot(
        data_dir, snapshot, portal=adapter.portal, claim_id=claim_id, reason=reason, at=utcnow(), trace=trace
    )
    with session_scope(engine) as session:
        add_evidence(session, evidence)
    return evidence.screenshot_path or evidence.html_path
