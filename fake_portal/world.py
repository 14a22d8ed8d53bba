"""The fake portal's mutable state: clock, faults, accounts and sessions.

Tests drive all of it through the admin endpoints (see `fake_portal.admin`).
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from fake_portal.appointments import Schedule, generate_schedule
from fake_portal.data import Dataset
from fake_portal.filed_appeals import AppealBook
from fake_portal.filed_requests import FiledRequest
from fake_portal.id_drift import check_id_drift
from fake_portal.page_drift import NO_PAGE_DRIFT, PageDrift
from fake_portal.programs import Programs, generate_programs

PORTALS = ("clearinghouse", "commercial", "medicaid")


@dataclass
class Faults:
    """Faults injected into one portal. All off by default."""

    latency_ms: int = 0  # extra delay on every request
    error_rate: float = 0.0  # share of requests answered with HTTP 500 (seeded, repeatable)
    rate_limited: bool = False  # every request answered with HTTP 429
    maintenance: bool = False  # the portal's maintenance page
    session_ttl_requests: int = 0  # a session expires after this many pages (0: never)
    lockout_after: int = 3  # wrong passwords in a row before the account locks
    layout: int = 1  # 2 renames ids/classes and moves table columns
    # Seconds a throttled or maintenance answer asks the client to wait (Retry-After), in place of the
    # portal's own figure (60 s, 120 s, 30 minutes); 0 keeps the portal's. Lets a compressed test day back off.
    retry_after_s: int = 0
    # An origin ("http://host:port") the sign-in page redirects to, as a hijacked or misconfigured
    # portal would; that origin serves the same pages, so only the address bar tells.
    login_redirect: str = ""
    # A claim detail page that drifts: "unbalanced", "signs", "sections", "paged" or "more" (see page_drift).
    page_drift: PageDrift = NO_PAGE_DRIFT
    # Identifiers that drift (fake_portal/id_drift.py): "separators", "renumber", "vanish" or "vanish:ID1,ID2".
    id_drift: str = ""
    # After a prior-auth request is filed (fake_portal/auth_requests.py): "hang" holds the confirmation back
    # auth_request_hang_s seconds, "error" answers HTTP 500 in its place; either way the request is on file.
    auth_request_after_filing: str = ""
    auth_request_hang_s: float = 60.0
    # The same after an appeal is filed (fake_portal/appeals.py): the appeal is on file either way.
    appeal_after_filing: str = ""
    appeal_hang_s: float = 60.0

    def update(self, values: dict[str, object]) -> None:
        known = {f.name: f.type for f in fields(self)}
        if "id_drift" in values:
            check_id_drift(values["id_drift"])
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}; known: {sorted(known)}")
            current = getattr(self, key)
            setattr(self, key, type(current)(value))


@dataclass
class Account:
    portal: str
    username: str
    password: str
    totp_secret: str | None = None
    security_question: str | None = None
    security_answer: str | None = None
    failed_logins: int = 0
    locked: bool = False
    last_totp: str | None = None  # a TOTP code is accepted once
    password_expired: bool = False  # the right password then leads to the portal's "choose a new one" page


@dataclass
class Session:
    portal: str
    username: str
    stage: str  # portal-specific: "mfa", "terms", "security", "in"
    requests: int = 0
    last_seen: float = field(default_factory=time.monotonic)


@dataclass
class SessionUse:
    """Every request that carried one session's cookie, counted from its sign-in on, after it ended too."""

    number: int  # sign-ins in the order they happened, from 1 (the cookie itself stays secret)
    portal: str
    username: str
    requests: int = 0  # requests carrying its cookie, static files and the ones after it ended included
    after_end: int = 0  # of those, the ones made once it had ended (stale)
    ended: str | None = None  # "signed out", "displaced by a new sign-in", "expired"
    first_request_at: str | None = None  # real (not portal) time, UTC, ISO 8601
    last_request_at: str | None = None


# Accounts that exist from the start, so the demo and tests can log in. Synthetic. The clearinghouse has
# two, as a practice with a login per payer would (the bench gives each payer its own session, so one
# runner per payer can work at once); tests pick the first of each portal.
DEFAULT_ACCOUNTS: tuple[Account, ...] = (
    Account("clearinghouse", "demo.biller", "Clear-Demo-Pass-1", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    Account("clearinghouse", "demo.biller2", "Clear-Demo-Pass-2", totp_secret="GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
    Account("commercial", "demo.biller", "Unity-Demo-Pass-1"),
    Account(
        "medicaid",
        "DEMOBILL01",
        "Lake-Demo-Pass-1",
        security_question="What was the name of your first practice?",
        security_answer="Maple Clinic",
    ),
)


class World:
    """Everything the portals share, guarded by one lock (uvicorn serves from threads too)."""

    def __init__(
        self, dataset: Dataset, *, seed: int = 7, medicaid_idle_timeout_s: float = 300.0, medicaid_latency_ms: int = 150
    ) -> None:
        self.lock = threading.RLock()
        self.dataset = dataset
        self.programs: Programs = generate_programs(dataset, seed)
        self.schedule: Schedule = generate_schedule(dataset, self.programs, seed)
        self.seed = seed
        self.offset = timedelta(0)
        self.medicaid_idle_timeout_s = medicaid_idle_timeout_s
        self.base_latency_ms = {"clearinghouse": 0, "commercial": 0, "medicaid": medicaid_latency_ms}
        self.resets = 0  # how many times `reset` ran: a request that arrived before the last one is not counted
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.resets += 1
            self.offset = timedelta(0)
            self.faults = {p: Faults() for p in PORTALS}
            self.accounts = {(a.portal, a.username): Account(**asdict(a)) for a in DEFAULT_ACCOUNTS}
            self.sessions: dict[str, Session] = {}
            self.session_uses: dict[str, SessionUse] = {}  # by cookie, kept once the session ended
            # Sessions a newer sign-in of the same account ended, and the requests made with them since
            # (each one lands on the sign-in page, as after a timeout).
            self.displaced: set[str] = set()
            self.stale_session_requests = dict.fromkeys(PORTALS, 0)
            self.logins = dict.fromkeys(PORTALS, 0)
            self.sign_in_attempts = dict.fromkeys(PORTALS, 0)  # passwords submitted on a sign-in page
            self.password_change_attempts = dict.fromkeys(PORTALS, 0)  # "choose a new password" forms submitted
            self.rng = random.Random(self.seed)
            self.requests = dict.fromkeys(PORTALS, 0)
            # The same requests by path under the portal ("claims/detail/UHP1001"), for tests that count pages.
            self.requests_by_path: dict[str, dict[str, int]] = {p: {} for p in PORTALS}
            # Requests being answered right now (a slow page keeps one here for its whole delay).
            self.in_flight = dict.fromkeys(PORTALS, 0)
            # Prior-auth requests filed online, and the authorizations they became, go with the rest.
            for filed in getattr(self, "auth_requests", ()):
                self.programs.authorizations.pop(filed.reference, None)
            self.auth_requests: list[FiledRequest] = []
            # Appeals filed online, and the payments their overturns put on claims, go too.
            previous: AppealBook | None = getattr(self, "appeals", None)
            if previous is not None:
                previous.undo(self.dataset)
            self.appeals = AppealBook()

    # --- clock ---------------------------------------------------------

    def now(self) -> datetime:
        """Portal time: the data set's start day at noon, plus whatever tests advanced."""
        return datetime.combine(self.dataset.start, dtime(12, 0)) + self.offset

    def today(self) -> date:
        return self.now().date()

    def advance(self, *, days: float = 0, hours: float = 0) -> None:
        with self.lock:
            self.offset += timedelta(days=days, hours=hours)

    # --- accounts ------------------------------------------------------

    def add_account(self, account: Account) -> None:
        with self.lock:
            self.accounts[(account.portal, account.username)] = account

    def check_password(self, portal: str, username: str, password: str) -> str:
        """'ok', 'expired', 'wrong' or 'locked'. Wrong passwords in a row lock the account; the right one
        of an account whose password expired is 'expired' (the portal then demands a new one)."""
        with self.lock:
            self.sign_in_attempts[portal] += 1
            return self._verify(portal, username, password)

    def change_password(self, portal: str, username: str, current: str, new: str, confirm: str) -> str:
        """A submitted "choose a new password" form: 'changed', 'mismatch', 'weak', or the current
        password's 'wrong'/'locked' (counted toward lockout, as at sign-in)."""
        with self.lock:
            self.password_change_attempts[portal] += 1
            if new != confirm:
                return "mismatch"
            verdict = self._verify(portal, username, current)
            if verdict not in ("ok", "expired"):
                return verdict
            if len(new) < 8 or new == current:
                return "weak"
            account = self.accounts[(portal, username)]
            account.password, account.password_expired = new, False
            return "changed"

    def _verify(self, portal: str, username: str, password: str) -> str:
        account = self.accounts.get((portal, username))
        if account is None:
            return "wrong"
        if account.locked:
            return "locked"
        if not secrets.compare_digest(account.password, password):
            account.failed_logins += 1
            if account.failed_logins >= self.faults[portal].lockout_after:
                account.locked = True
                return "locked"
            return "wrong"
        account.failed_logins = 0
        return "expired" if account.password_expired else "ok"

    def account(self, portal: str, username: str) -> Account | None:
        return self.accounts.get((portal, username))

    # --- sessions ------------------------------------------------------

    def start_session(self, portal: str, username: str, stage: str) -> str:
        """A new sign-in; like most payer portals, it ends the account's other sessions."""
        sid = secrets.token_urlsafe(24)
        with self.lock:
            for other, session in list(self.sessions.items()):
                if (session.portal, session.username) == (portal, username):
                    del self.sessions[other]
                    self.displaced.add(other)
                    self._ended(other, "displaced by a new sign-in")
            self.sessions[sid] = Session(portal, username, stage)
            self.session_uses[sid] = SessionUse(len(self.session_uses) + 1, portal, username)
            self.logins[portal] += 1
        return sid

    def session(self, portal: str, sid: str | None) -> Session | None:
        """The live session for this cookie, counting the request; None once it expired."""
        if not sid:
            return None
        with self.lock:
            if sid in self.displaced:
                self.stale_session_requests[portal] += 1
                return None
            session = self.sessions.get(sid)
            if session is None or session.portal != portal:
                return None
            ttl = self.faults[portal].session_ttl_requests
            idle = time.monotonic() - session.last_seen
            if (ttl and session.requests >= ttl) or (portal == "medicaid" and idle > self.medicaid_idle_timeout_s):
                del self.sessions[sid]
                self._ended(sid, "expired")
                return None
            session.requests += 1
            session.last_seen = time.monotonic()
            return session

    def end_session(self, sid: str | None) -> None:
        with self.lock:
            if self.sessions.pop(sid or "", None) is not None:
                self._ended(sid or "", "signed out")

    def expire_sessions(self, portal: str | None = None) -> None:
        with self.lock:
            for sid in [s for s, v in self.sessions.items() if portal in (None, v.portal)]:
                del self.sessions[sid]
                self._ended(sid, "expired")

    def _ended(self, sid: str, why: str) -> None:
        use = self.session_uses.get(sid)
        if use is not None and use.ended is None:
            use.ended = why

    def count_session_request(self, sid: str) -> None:
        """A request arrived carrying this session cookie (counted whatever the portal then answers)."""
        with self.lock:
            use = self.session_uses.get(sid)
            if use is None:  # a cookie this world never issued (or issued before a reset)
                return
            at = datetime.now(UTC).isoformat()
            use.requests += 1
            if use.ended is not None:
                use.after_end += 1
            use.first_request_at = use.first_request_at or at
            use.last_request_at = at

    def session_report(self) -> dict[str, object]:
        """Requests by session, in sign-in order, and by account."""
        accounts: dict[str, dict[str, int]] = {}
        with self.lock:
            uses = sorted(self.session_uses.items(), key=lambda item: item[1].number)
            sessions = [{**asdict(use), "live": sid in self.sessions} for sid, use in uses]
            for _, use in uses:
                totals = accounts.setdefault(
                    f"{use.portal}/{use.username}", {"sessions": 0, "requests": 0, "after_end": 0}
                )
                totals["sessions"] += 1
                totals["requests"] += use.requests
                totals["after_end"] += use.after_end
        return {"sessions": sessions, "accounts": accounts}

    # --- faults --------------------------------------------------------

    def begin_request(self, portal: str) -> int:
        """Note a request being answered; returns the reset it arrived under, for `roll_error`."""
        with self.lock:
            self.in_flight[portal] += 1
            return self.resets

    def end_request(self, portal: str, arrived_under: int) -> None:
        with self.lock:
            if arrived_under == self.resets:  # the reset already emptied the count
                self.in_flight[portal] -= 1

    def roll_error(self, portal: str, path: str, arrived_under: int) -> bool:
        """Count the request and roll whether it fails. One that arrived before a reset and was still being
        delayed (a slow page the client gave up on) belongs to the world before it: neither counted nor rolled,
        so the next test's counts and its seeded errors are its own."""
        with self.lock:
            if arrived_under != self.resets:
                return False
            self.requests[portal] += 1
            paths = self.requests_by_path[portal]
            paths[path] = paths.get(path, 0) + 1
            rate = self.faults[portal].error_rate
            return rate > 0 and self.rng.random() < rate

    def in_nightly_maintenance(self, portal: str) -> bool:
        """The Medicaid portal is down every night from 23:00 to 01:00 portal time."""
        hour = self.now().hour
        return portal == "medicaid" and (hour >= 23 or hour < 1)
