"""One `check` run: pick due claims, drive each portal once per batch, decide what to do on errors."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

import structlog
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from flows.claim_states import ClaimState
from flows.claim_status import BatchOutcome, Plan, check_batch, due_reason, plan_batches
from flows.remittances import RemittanceSource, fetch_new_remittances
from portals.base import PortalAdapter, Timeouts
from portals.errors import (
    LayoutChanged,
    LoginRejected,
    MfaRejected,
    MfaRequired,
    PortalError,
    PortalUnavailable,
    RateLimited,
)
from portals.registry import ADAPTERS
from store import accounts
from store.claims import list_claims
from store.db import create_schema, make_engine, session_scope
from store.evidence import add_evidence
from store.models import Claim
from store.runs import finish_run, start_run
from worker.browser import account_context, find_chromium, open_browser
from worker.credentials import CredentialStore, StoredCredentials, open_store
from worker.evidence import save_snapshot
from worker.logs import register_secret
from worker.settings import PortalSettings, Settings

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


@dataclass
class PortalReport:
    portal: str
    claims: int = 0  # claims this run meant to check on the portal
    states: Counter[str] = field(default_factory=Counter)  # answers recorded, by state
    changed: int = 0
    new_denials: int = 0  # from claim detail pages and ERAs
    eras: int = 0  # ERA files imported
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


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CheckRunner:
    """Wires settings, store, credentials, browser, adapters and the claim-status flow."""

    def __init__(self, settings: Settings, credentials: CredentialStore | None = None,
                 engine: Engine | None = None) -> None:
        self.settings = settings
        self.data_dir = settings.worker.data_dir
        self.engine = engine or make_engine(settings.database_url())
        create_schema(self.engine)
        self._credentials = credentials

    @property
    def credentials(self) -> CredentialStore:
        if self._credentials is None:
            self._credentials = open_store(self.data_dir)
        return self._credentials

    def run(self, *, portals: Sequence[str] = (), claim_ids: Sequence[str] = (), force: bool = False,
            progress: Progress = NoProgress()) -> RunReport:
        started, run_id = time.monotonic(), uuid.uuid4().hex[:12]
        structlog.contextvars.bind_contextvars(run_id=run_id)
        with session_scope(self.engine) as session:
            start_run(session, run_id, utcnow())
        try:
            claims, unknown = self._select(claim_ids, force or bool(claim_ids))
            plan = plan_batches(claims, self._portal_for_payer(portals))
            plan.batches.pop(SKIPPED, None)
            progress.start(sum(len(batch) for batch in plan.batches.values()))
            reports = self._run_batches(plan, run_id, force, progress)
        finally:
            structlog.contextvars.unbind_contextvars("run_id")
        report = RunReport(run_id, reports, dict(Counter(c.payer_id for c in plan.unrouted)), unknown,
                           time.monotonic() - started)
        with session_scope(self.engine) as session:
            finish_run(session, run_id, utcnow(), [_summary_row(r) for r in reports])
        log.info("check_finished", run_id=run_id, seconds=round(report.seconds, 1),
                 portals=[_summary_row(r) for r in reports])
        return report

    # --- choosing work ---------------------------------------------------

    def _select(self, claim_ids: Sequence[str], ignore_cadence: bool) -> tuple[list[Claim], list[str]]:
        with session_scope(self.engine) as session:
            claims = list_claims(session, claim_ids=list(claim_ids) or None)
        unknown = sorted(set(claim_ids) - {c.claim_id for c in claims})
        if ignore_cadence:
            return claims, unknown
        now = utcnow()
        return [c for c in claims if due_reason(c, now) is not None], unknown

    def _portal_for_payer(self, only: Sequence[str]):  # type: ignore[no-untyped-def]
        def route(payer_id: str) -> str | None:
            portal = self.settings.portal_for_payer(payer_id)
            if portal is None or not self.settings.portals[portal].enabled:
                return None
            return portal if not only or portal in only else SKIPPED
        return route

    # --- driving portals -------------------------------------------------

    def _run_batches(self, plan: Plan, run_id: str, force: bool, progress: Progress) -> list[PortalReport]:
        reports: list[PortalReport] = []
        ready: list[tuple[PortalReport, list[Claim], StoredCredentials]] = []
        for portal in [p for p in self.settings.portals if p in plan.batches]:
            batch = plan.batches[portal]
            report = PortalReport(portal, claims=len(batch))
            reports.append(report)
            stored = self._gate(portal, report, force)
            if stored is None:
                report.errors = len(batch)
                progress.advance(portal, len(batch))
            else:
                ready.append((report, batch, stored))
        if not ready:
            return reports
        choice = find_chromium(self.settings.browser.executable_path or None)
        with open_browser(choice, headless=self.settings.browser.headless,
                          extra_args=tuple(self.settings.browser.extra_args)) as browser:
            for report, batch, stored in ready:
                started = time.monotonic()
                structlog.contextvars.bind_contextvars(portal=report.portal)
                try:
                    self._check_portal(browser, report, batch, stored, run_id, progress)
                finally:
                    structlog.contextvars.unbind_contextvars("portal")
                    report.seconds = time.monotonic() - started
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
            if account.state == "needs_attention":
                if account.rejected_credentials_stamp == stored.updated_at:
                    report.problem = (f"waiting for a person: {account.attention_reason}. Not retried until its "
                                      f"credentials change (`portal-worker credentials set {portal}`)")
                    return None
                accounts.clear_attention(session, portal)
            if account.unavailable_until and account.unavailable_until > utcnow() and not force:
                report.problem = (f"backing off until {account.unavailable_until:%Y-%m-%d %H:%M} UTC after: "
                                  f"{account.last_error}")
                return None
        for secret in (stored.credentials.password, stored.credentials.totp_secret,
                       *stored.credentials.security_answers.values()):
            register_secret(secret)
        return stored

    def _check_portal(self, browser: Browser, report: PortalReport, batch: list[Claim],
                      stored: StoredCredentials, run_id: str, progress: Progress) -> None:
        settings = self.settings.portals[report.portal]
        state_file = self.data_dir / "sessions" / f"{report.portal}.json"
        with account_context(browser, state_file) as context:
            page = context.new_page()
            adapter = ADAPTERS[settings.adapter](page, portal=report.portal, base_url=settings.base_url,
                                                 credentials=stored.credentials, timeouts=self._timeouts(settings))
            outcome = check_batch(adapter, batch, self.engine, run_id=run_id, now=utcnow,
                                  on_claim=lambda _claim: progress.advance(report.portal))
            progress.advance(report.portal, len(outcome.unchecked))
            for recorded in outcome.recorded:
                report.states[recorded.status.value] += 1
                report.changed += bool(recorded.changes)
                report.new_denials += recorded.new_denials
            report.errors = len(batch) - len(outcome.recorded)
            if outcome.error is None and isinstance(adapter, RemittanceSource):
                outcome.error = self._fetch_remittances(adapter, report)
            report.logins = adapter.logins
            if outcome.error is not None:
                self._handle_error(adapter, report, outcome, stored)
            else:
                with session_scope(self.engine) as session:
                    accounts.mark_success(session, report.portal, utcnow())
        if isinstance(outcome.error, NEEDS_A_PERSON):
            state_file.unlink(missing_ok=True)  # after the context saved it: no session to resume

    def _fetch_remittances(self, source: RemittanceSource, report: PortalReport) -> Exception | None:
        """New ERA files from this portal; a failing portal is handled like a failing claim batch."""
        try:
            fetched = fetch_new_remittances(source, self.engine, utcnow)
        except Exception as exc:  # noqa: BLE001  (PortalError or a browser failure: _handle_error decides)
            return exc
        report.eras = len(fetched.imported)
        report.new_denials += sum(era.new_denials for era in fetched.imported)
        if fetched.rejected:
            report.problem = "; ".join(f"ERA {file_id} rejected: {why}" for file_id, why in fetched.rejected)
        return None

    def _timeouts(self, portal: PortalSettings) -> Timeouts:
        browser = self.settings.browser
        navigation = portal.navigation_timeout_s or browser.navigation_timeout_s
        element = portal.element_timeout_s or browser.element_timeout_s
        return Timeouts(navigation_ms=int(navigation * 1000), element_ms=int(element * 1000))

    def _handle_error(self, adapter: PortalAdapter, report: PortalReport, outcome: BatchOutcome,
                      stored: StoredCredentials) -> None:
        error, portal, now = outcome.error, report.portal, utcnow()
        assert error is not None
        message = error.message if isinstance(error, PortalError) else f"{type(error).__name__} in the browser"
        if isinstance(error, NEEDS_A_PERSON):
            evidence = self._save_evidence(adapter, None, f"{type(error).__name__}: {message}")
            with session_scope(self.engine) as session:
                accounts.mark_needs_attention(session, portal, f"{type(error).__name__}: {message}", now,
                                              stored.updated_at)
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
        snapshot = adapter.snapshot()
        if not snapshot.html and not snapshot.screenshot_png:
            return None
        evidence = save_snapshot(self.data_dir, snapshot, portal=adapter.portal, claim_id=claim_id,
                                 reason=reason, at=utcnow())
        with session_scope(self.engine) as session:
            add_evidence(session, evidence)
        return evidence.screenshot_path or evidence.html_path


def _evidence_note(path: str | None) -> str:
    return f". Evidence: {Path(path).name}" if path else ""


def _summary_row(report: PortalReport) -> dict[str, object]:
    return {"portal": report.portal, "claims": report.claims, "checked": report.checked,
            "states": dict(report.states), "changed": report.changed, "new_denials": report.new_denials,
            "eras": report.eras, "errors": report.errors,
            "logins": report.logins, "problem": report.problem, "seconds": round(report.seconds, 2)}


STATE_COLUMNS = (
    ("Paid", (ClaimState.PAID,)),
    ("Partial", (ClaimState.PARTIALLY_PAID,)),
    ("Pending", (ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.INFO_REQUESTED)),
    ("Denied", (ClaimState.DENIED,)),
    ("Rejected", (ClaimState.REJECTED,)),
    ("Not on file", (ClaimState.NOT_ON_FILE,)),
)
