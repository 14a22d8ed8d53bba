"""One `check` run: pick due claims, drive each portal once per batch, decide what to do on errors."""

from __future__ import annotations

import contextvars
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from flows.authorizations import AUTH_FINDINGS, AuthRules, auth_findings, check_authorizations
from flows.claim_states import ClaimState
from flows.cadence import due_claims
from flows.claim_status import BatchOutcome, Plan, check_batch, plan_batches
from flows.deadlines import load_payer_rules
from flows.credentialing import (
    ENROLLMENT_FINDINGS,
    CredentialingRules,
    EnrollmentSource,
    check_enrollments,
    enrollment_findings,
    offers_enrollment,
)
from flows.findings import FindingChanges, merge, sync_findings
from flows.remittances import fetch_new_remittances
from portals.base import PortalAdapter, Timeouts
from portals.capabilities import (
    AuthorizationLookup,
    AuthorizationPortal,
    EnrollmentLookup,
    PayerEnrollments,
    RemittanceFiles,
    RemittancePortal,
    offers,
)
from portals.errors import (
    LayoutChanged,
    LoginRejected,
    MfaRejected,
    MfaRequired,
    PortalError,
    PortalUnavailable,
    RateLimited,
)
from portals.registry import adapter_class
from store import accounts
from store.authorizations import list_authorizations
from store.claims import list_claims
from store.denials import OPEN_STATES, list_denials
from store.db import create_schema, make_engine, session_scope
from store.models import Claim
from store.observations import all_enrollments
from store.providers import list_providers
from store.runs import finish_run, start_run
from worker.runtime.browser import account_context, find_chromium, open_browser
from worker.clock import utcnow
from worker.security.credentials import CredentialStore, StoredCredentials, open_store, waiting_for_new_credentials, \
    waiting_reason
from worker.security.redaction import register_credentials
from worker.settings import Settings
from worker.runtime.context import portal_timeouts, save_evidence

log = structlog.get_logger(__name__)

NEEDS_A_PERSON = (LoginRejected, MfaRequired, MfaRejected)
SKIPPED = "\0skipped"  # claims of portals left out with --portal


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, portal: str, claims: int = 1) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, portal: str, claims: int = 1) -> None:
        pass


WORK_KINDS = ("claims", "auths", "providers")


@dataclass
class PortalWork:
    """What one portal is asked in a run."""

    claims: list[Claim] = field(default_factory=list)
    auths: list[str] = field(default_factory=list)  # authorization numbers
    npis: list[str] = field(default_factory=list)  # providers whose enrollment to read

    @property
    def size(self) -> int:
        return len(self.claims) + len(self.auths) + len(self.npis)


@dataclass
class PortalReport:
    portal: str
    claims: int = 0  # claims this run meant to check on the portal
    states: Counter[str] = field(default_factory=Counter)  # answers recorded, by state
    changed: int = 0
    new_denials: int = 0  # from claim detail pages and ERAs
    eras: int = 0  # ERA files imported
    auths_checked: int = 0
    auths_changed: int = 0
    enrollments_checked: int = 0
    enrollments_changed: int = 0
    errors: int = 0  # claims left without an answer
    logins: int = 0
    problem: str | None = None  # what went wrong, what the worker did, what a person should do
    seconds: float = 0.0

    @property
    def checked(self) -> int:
        return sum(self.states.values())


@dataclass
class RunReport:
    run_id: str
    portals: list[PortalReport]
    unrouted: dict[str, int]  # payer id -> claims no configured portal answers for
    unknown_claims: list[str]
    seconds: float
    findings: FindingChanges = field(default_factory=FindingChanges)


class CheckRunner:
    """Wires settings, store, credentials, browser, adapters and the claim-status flow."""

    def __init__(self, settings: Settings, credentials: CredentialStore | None = None,
                 engine: Engine | None = None, today: Callable[[], date] | None = None) -> None:
        self.settings = settings
        # The practice's date decides deadlines and findings; tests pass the fake portal's.
        self.today = today or (lambda: datetime.now(settings.worker.tzinfo).date())
        self.data_dir = settings.worker.data_dir
        self.engine = engine or make_engine(settings.database_url())
        create_schema(self.engine)
        self._credentials = credentials
        self.rules = load_payer_rules()

    @property
    def credentials(self) -> CredentialStore:
        if self._credentials is None:
            self._credentials = open_store(self.data_dir)
        return self._credentials

    def run(self, *, portals: Sequence[str] = (), claim_ids: Sequence[str] = (), force: bool = False,
            what: Sequence[str] = WORK_KINDS, progress: Progress = NoProgress()) -> RunReport:
        """Check `what` (claims, auths, providers) on the configured portals, then refresh the findings."""
        started, run_id = time.monotonic(), uuid.uuid4().hex[:12]
        structlog.contextvars.bind_contextvars(run_id=run_id)
        with session_scope(self.engine) as session:
            start_run(session, run_id, utcnow())
        try:
            claims, unknown = self._select(claim_ids, force or bool(claim_ids)) if "claims" in what else ([], [])
            plan = plan_batches(claims, self._portal_for_payer(portals))
            plan.batches.pop(SKIPPED, None)
            work = self._plan_work(plan, portals, what if not claim_ids else ("claims",))
            progress.start(sum(w.size for w in work.values()))
            reports = self._run_batches(work, run_id, force, progress)
            findings = self._sync_findings(what)
        finally:
            structlog.contextvars.unbind_contextvars("run_id")
        report = RunReport(run_id, reports, dict(Counter(c.payer_id for c in plan.unrouted)), unknown,
                           time.monotonic() - started, findings)
        summary = [_summary_row(r) for r in reports]
        with session_scope(self.engine) as session:
            finish_run(session, run_id, utcnow(), summary)
        log.info("check_finished", run_id=run_id, seconds=round(report.seconds, 1), portals=summary)
        return report

    # --- choosing work ---------------------------------------------------

    def _select(self, claim_ids: Sequence[str], ignore_cadence: bool) -> tuple[list[Claim], list[str]]:
        with session_scope(self.engine) as session:
            claims = list_claims(session, claim_ids=list(claim_ids) or None)
        unknown = sorted(set(claim_ids) - {c.claim_id for c in claims})
        if ignore_cadence:
            return claims, unknown
        with session_scope(self.engine) as session:
            denials = list_denials(session, statuses=list(OPEN_STATES))
        due = {item.target for item in due_claims(claims, denials, self.rules, utcnow(),
                                                  tz=self.settings.worker.tzinfo)}
        return [c for c in claims if c.claim_id in due], unknown

    def _portal_for_payer(self, only: Sequence[str]):  # type: ignore[no-untyped-def]
        def route(payer_id: str) -> str | None:
            portal = self.settings.portal_for_payer(payer_id)
            if portal is None or not self.settings.portals[portal].enabled:
                return None
            return portal if not only or portal in only else SKIPPED
        return route

    def _plan_work(self, plan: Plan, only: Sequence[str], what: Sequence[str]) -> dict[str, PortalWork]:
        """Per portal: its due claims, the authorizations it answers for, and every provider's enrollment."""
        work = {portal: PortalWork(claims=batch) for portal, batch in plan.batches.items()}
        with session_scope(self.engine) as session:
            auths = list_authorizations(session) if "auths" in what else []
            npis = [p.npi for p in list_providers(session)] if "providers" in what else []
        route = self._portal_for_payer(only)
        for auth in auths:
            portal = route(auth.payer_id)
            if portal and portal != SKIPPED and offers(adapter_class(self.settings.portals[portal].adapter),
                                                       AuthorizationLookup):
                work.setdefault(portal, PortalWork()).auths.append(auth.auth_number)
        for portal, config in self.settings.portals.items():
            if npis and config.enabled and (not only or portal in only) \
                    and offers_enrollment(adapter_class(config.adapter)):
                work.setdefault(portal, PortalWork()).npis = list(npis)
        return work

    def _sync_findings(self, what: Sequence[str]) -> FindingChanges:
        rules = self.settings.findings
        today = self.today()
        with session_scope(self.engine) as session:
            claims = list_claims(session)
            changes = FindingChanges()
            if "auths" in what:
                drafts = auth_findings(list_authorizations(session), claims, today,
                                       AuthRules(rules.auth_expiry_days, rules.auth_units_threshold))
                changes = merge(changes, sync_findings(session, AUTH_FINDINGS, drafts, utcnow()))
            if "providers" in what:
                drafts = enrollment_findings(all_enrollments(session), list_providers(session), claims, today,
                                             CredentialingRules(rules.revalidation_days, rules.caqh_interval_days,
                                                                rules.caqh_notice_days))
                changes = merge(changes, sync_findings(session, ENROLLMENT_FINDINGS, drafts, utcnow()))
        return changes

    # --- driving portals -------------------------------------------------

    def _run_batches(self, work: dict[str, PortalWork], run_id: str, force: bool,
                     progress: Progress) -> list[PortalReport]:
        reports: list[PortalReport] = []
        ready: list[tuple[PortalReport, PortalWork, StoredCredentials]] = []
        for portal in [p for p in self.settings.portals if p in work and work[p].size]:
            todo = work[portal]
            report = PortalReport(portal, claims=len(todo.claims))
            reports.append(report)
            stored = self._gate(portal, report, force)
            if stored is None:
                report.errors = len(todo.claims)
                progress.advance(portal, todo.size)
            else:
                ready.append((report, todo, stored))
        if not ready:
            return reports
        choice = find_chromium(self.settings.browser.executable_path or None)

        def drive() -> None:
            with open_browser(choice, headless=self.settings.browser.headless,
                              extra_args=tuple(self.settings.browser.extra_args)) as browser:
                for report, todo, stored in ready:
                    started = time.monotonic()
                    structlog.contextvars.bind_contextvars(portal=report.portal)
                    try:
                        self._check_portal(browser, report, todo, stored, run_id, progress)
                    finally:
                        structlog.contextvars.unbind_contextvars("portal")
                        report.seconds = time.monotonic() - started

        # Sync Playwright gets a thread of its own (never a thread with a running event loop),
        # carrying this run's log context with it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser") as pool:
            pool.submit(contextvars.copy_context().run, drive).result()
        return reports

    def _gate(self, portal: str, report: PortalReport, force: bool) -> StoredCredentials | None:
        """Credentials to use, or None (with the reason in the report) when the portal must wait."""
        settings = self.settings.portals[portal]
        stored = self.credentials.load(portal)
        with session_scope(self.engine) as session:
            account = accounts.get_account(session, portal, settings.adapter)
            if stored is None:
                report.problem = f"no credentials stored: run `portal-worker credentials set {portal}`"
                return None
            if waiting_for_new_credentials(account, stored):
                report.problem = f"waiting for a person: {waiting_reason(account, portal)}"
                return None
            if account.state == "needs_attention":
                accounts.clear_attention(session, portal)  # someone stored credentials since the rejection
            if account.unavailable_until and account.unavailable_until > utcnow() and not force:
                report.problem = (f"backing off until {account.unavailable_until:%Y-%m-%d %H:%M} UTC after: "
                                  f"{account.last_error}")
                return None
        register_credentials(stored.credentials)
        return stored

    def _check_portal(self, browser: Browser, report: PortalReport, todo: PortalWork,
                      stored: StoredCredentials, run_id: str, progress: Progress) -> None:
        settings = self.settings.portals[report.portal]
        state_file = self.data_dir / "sessions" / f"{report.portal}.json"
        with account_context(browser, state_file) as context:
            page = context.new_page()
            adapter = adapter_class(settings.adapter)(page, portal=report.portal, base_url=settings.base_url,
                                                      credentials=stored.credentials,
                                                      timeouts=self._timeouts(report.portal))
            batch = todo.claims
            outcome = check_batch(adapter, batch, self.engine, run_id=run_id, now=utcnow,
                                  on_claim=lambda _claim: progress.advance(report.portal))
            progress.advance(report.portal, len(outcome.unchecked))
            for recorded in outcome.recorded:
                report.states[recorded.status.value] += 1
                report.changed += bool(recorded.changes)
                report.new_denials += recorded.new_denials
            report.errors = len(batch) - len(outcome.recorded)
            if outcome.error is None and batch and isinstance(adapter, RemittanceFiles):
                outcome.error = self._guarded(lambda: self._fetch_remittances(adapter, report))
            if outcome.error is None and todo.auths and isinstance(adapter, AuthorizationLookup):
                outcome.error = self._guarded(lambda: self._check_auths(adapter, todo, report, run_id))
            progress.advance(report.portal, len(todo.auths))
            if outcome.error is None and todo.npis and isinstance(adapter, (EnrollmentLookup, PayerEnrollments)):
                outcome.error = self._guarded(lambda: self._check_enrollments(adapter, todo, report, run_id))
            progress.advance(report.portal, len(todo.npis))
            report.logins = adapter.logins
            if outcome.error is not None:
                self._handle_error(adapter, report, outcome, stored)
            else:
                with session_scope(self.engine) as session:
                    accounts.mark_success(session, report.portal, utcnow())
        if isinstance(outcome.error, NEEDS_A_PERSON):
            state_file.unlink(missing_ok=True)  # after the context saved it: no session to resume

    @staticmethod
    def _guarded(step: Callable[[], None]) -> Exception | None:
        """Run one more step on the portal; its failure is handled like a failing claim batch."""
        try:
            step()
        except Exception as exc:  # noqa: BLE001  (PortalError or a browser failure: _handle_error decides)
            return exc
        return None

    def _check_auths(self, adapter: AuthorizationPortal, todo: PortalWork, report: PortalReport, run_id: str) -> None:
        report.auths_checked, report.auths_changed = check_authorizations(
            adapter, todo.auths, self.engine, run_id=run_id, now=utcnow)

    def _check_enrollments(self, adapter: EnrollmentSource, todo: PortalWork, report: PortalReport,
                           run_id: str) -> None:
        payers = set(self.settings.portals[report.portal].payers)
        report.enrollments_checked, report.enrollments_changed = check_enrollments(
            adapter, todo.npis, payers, self.engine, run_id=run_id, now=utcnow)

    def _fetch_remittances(self, source: RemittancePortal, report: PortalReport) -> None:
        """New ERA files from this portal; files that do not parse are reported, the others imported."""
        fetched = fetch_new_remittances(source, self.engine, utcnow)
        report.eras = len(fetched.imported)
        report.new_denials += sum(era.new_denials for era in fetched.imported)
        if fetched.rejected:
            report.problem = "; ".join(f"ERA {file_id} rejected: {why}" for file_id, why in fetched.rejected)

    def _timeouts(self, portal: str) -> Timeouts:
        return portal_timeouts(self.settings, portal)

    def _handle_error(self, adapter: PortalAdapter, report: PortalReport, outcome: BatchOutcome,
                      stored: StoredCredentials) -> None:
        error, portal, now = outcome.error, report.portal, utcnow()
        assert error is not None
        message = error.message if isinstance(error, PortalError) else f"{type(error).__name__} in the browser"
        if isinstance(error, NEEDS_A_PERSON):
            evidence = self._save_evidence(adapter, None, f"{type(error).__name__}: {message}")
            with session_scope(self.engine) as session:
                accounts.mark_needs_attention(session, portal, f"{type(error).__name__}: {message}", now)
            report.problem = (f"login failed ({message}); the account is paused so it cannot be locked out. "
                              f"Fix the password/MFA, then run `portal-worker credentials set {portal}`"
                              f"{_evidence_note(evidence)}")
            log.error("account_needs_attention", error=type(error).__name__, detail=message)
        elif isinstance(error, PortalUnavailable):
            until = self._back_off(portal, error, now)
            kind = "rate limited" if isinstance(error, RateLimited) else "unavailable"
            report.problem = f"portal {kind} ({message}); backing off until {until:%Y-%m-%d %H:%M} UTC"
            log.warning("portal_unavailable", error=type(error).__name__, detail=message, until=until.isoformat())
        elif isinstance(error, LayoutChanged):
            evidence = self._save_evidence(adapter, outcome.failed_claim, f"LayoutChanged: {message}")
            with session_scope(self.engine) as session:
                accounts.note_error(session, portal, f"LayoutChanged: {message}")
            where = f"for claim {outcome.failed_claim}" if outcome.failed_claim else "from that page"
            report.problem = (f"the portal's pages changed ({message}); nothing was recorded {where}. "
                              f"The adapter needs updating{_evidence_note(evidence)}")
            log.error("layout_changed", claim_id=outcome.failed_claim, detail=message, evidence=evidence)
        else:
            evidence = self._save_evidence(adapter, outcome.failed_claim, f"{type(error).__name__}: {message}")
            with session_scope(self.engine) as session:
                accounts.note_error(session, portal, f"{type(error).__name__}: {message}")
            report.problem = f"{type(error).__name__}: {message}; will retry next run{_evidence_note(evidence)}"
            log.error("batch_failed", claim_id=outcome.failed_claim, exc_info=error)

    def _back_off(self, portal: str, error: PortalUnavailable, now: datetime) -> datetime:
        check = self.settings.check
        with session_scope(self.engine) as session:
            failures = (accounts.get_account(session, portal, self.settings.portals[portal].adapter)
                        .consecutive_failures + 1)
            minutes = min(check.backoff_minutes * 2 ** (failures - 1), check.max_backoff_minutes)
            until = max(error.retry_after or now, now + timedelta(minutes=minutes))
            accounts.mark_unavailable(session, portal, until, f"{type(error).__name__}: {error.message}")
        return until

    def _save_evidence(self, adapter: PortalAdapter, claim_id: str | None, reason: str) -> str | None:
        return save_evidence(self.engine, self.data_dir, adapter, claim_id, reason)

def _evidence_note(path: str | None) -> str:
    return f". Evidence: {Path(path).name}" if path else ""


def _summary_row(report: PortalReport) -> dict[str, object]:
    return {"portal": report.portal, "claims": report.claims, "checked": report.checked,
            "states": dict(report.states), "changed": report.changed, "new_denials": report.new_denials,
            "eras": report.eras, "auths_checked": report.auths_checked, "auths_changed": report.auths_changed,
            "enrollments_checked": report.enrollments_checked, "enrollments_changed": report.enrollments_changed,
            "errors": report.errors,
            "logins": report.logins, "problem": report.problem, "seconds": round(report.seconds, 2)}


STATE_COLUMNS = (
    ("Paid", (ClaimState.PAID,)),
    ("Partial", (ClaimState.PARTIALLY_PAID,)),
    ("Pending", (ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.INFO_REQUESTED)),
    ("Denied", (ClaimState.DENIED,)),
    ("Rejected", (ClaimState.REJECTED,)),
    ("Not on file", (ClaimState.NOT_ON_FILE,)),
)
