"""What every portal adapter shares: page fingerprints, fault pages, re-login, evidence.

An adapter module subclasses `PortalAdapter` and holds one page-object class per
portal page (subclasses of `portals.pages.PageObject`). Page objects call `expect_page`
before they read anything, so a page that is not the one expected becomes a typed
error, never a silently wrong value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar, TypeVar
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import APIResponse, CDPSession, Locator, Page, Response
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from portals.errors import (
    LayoutChanged,
    PortalError,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
)
from portals.types import ClaimQuery, ClaimStatusResult, Credentials, PageSnapshot

T = TypeVar("T")
# Blank the value (property and attribute) of every input but the buttons, and every textarea.
BLANK_TYPED_FIELDS = """() => {
  const labels = new Set(['submit', 'button', 'reset', 'image']);
  document.querySelectorAll('input, textarea').forEach(e => {
    if (e.tagName === 'INPUT' && labels.has((e.getAttribute('type') || '').toLowerCase())) return;
    e.value = '';
    if (e.hasAttribute('value')) e.setAttribute('value', '');
    if (e.tagName === 'TEXTAREA') e.textContent = '';
  });
}"""
# The same, then the page's HTML (as page.content() gives it) in the same round trip.
BLANKED_HTML = f"""() => {{
  ({BLANK_TYPED_FIELDS})();
  const doctype = document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '';
  return doctype + document.documentElement.outerHTML;
}}"""
# What portals print in a cell that has no value.
BLANK = frozenset({"", "-", "—", "N/A"})


@dataclass(frozen=True)
class Timeouts:
    """How long to wait, in milliseconds. Slow portals get more in config."""

    navigation_ms: int = 30_000
    element_ms: int = 10_000


@dataclass(frozen=True)
class FaultPage:
    """A page the portal shows instead of the one asked for (maintenance, login, errors)."""

    locator: str  # CSS/text selector that identifies it
    kind: type[PortalError]
    message: str


class PortalAdapter(ABC):
    """One payer portal, driven through one browser page for one account."""

    kind: ClassVar[str]  # the `adapter` value in config, e.g. "clearinghouse"
    # Pages the portal may show instead of the expected one, checked before a
    # page is declared changed. Subclasses list their own.
    fault_pages: ClassVar[tuple[FaultPage, ...]] = ()
    # Called before every login, mid-batch re-logins included: whoever records the page
    # (a Playwright trace) stops here, because a login types the password.
    on_login: Callable[[], None] | None = None
    # Called before every request made outside the page (`fetch`): the browser context's routes never
    # see those, so whoever guards the page's requests (the runner's lease fence) guards these here.
    # It refuses by raising.
    before_fetch: Callable[[], None] | None = None

    def __init__(
        self,
        page: Page,
        *,
        portal: str,
        base_url: str,
        credentials: Credentials,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self.page = page
        self.portal = portal
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeouts = timeouts
        self.logins = 0  # how many times this adapter logged in (a login is costly)
        self._cdp: CDPSession | None = None
        self._navigates_only = False  # once a page written in place carried scripts: see goto_in_place
        self._written_in_place = 0
        page.set_default_navigation_timeout(timeouts.navigation_ms)
        page.set_default_timeout(timeouts.element_ms)

    # --- what flows call -------------------------------------------------

    def ensure_logged_in(self) -> None:
        """Log in unless the session (restored storage state) is still good."""
        if not self.is_logged_in():
            self._login_counted()

    def claim_status(self, query: ClaimQuery) -> ClaimStatusResult:
        """Look one claim up; a session that expired mid-batch gets one fresh login."""
        return self.with_one_relogin(lambda: self.fetch_claim_status(query))

    def with_one_relogin(self, action: Callable[[], T]) -> T:
        """Run `action`; if the portal ended the session, log in once more and run it again."""
        try:
            return action()
        except SessionExpired:
            self._login_counted()
            return action()

    def snapshot(self, *, pdf: bool = False, archive: bool = False) -> PageSnapshot:
        """The current page as evidence, with every field a person types into blanked first (passwords,
        usernames, codes, searches): a login page kept after a failure holds the username in its value.
        Buttons keep their labels, so the evidence still shows what the page offered.

        `pdf` adds the page printed by Chromium, the confirmation a person files (an eligibility response, a
        request's receipt); with the PDF holding the whole page, the screenshot is of what the window shows.
        `archive` takes the page as one MHTML file (Chromium's own, its styles inside) instead of any
        picture: a claim's page is kept every time it first shows something new, in the middle of a check, where
        printing it (a screenshot and a PDF, about 80 ms) cost more than loading it; the archive (about 4 ms) is
        printed later, when the worker has nothing to check."""
        try:
            html = str(self.page.evaluate(BLANKED_HTML))
            if archive:
                return PageSnapshot(url=self.page.url, html=html, screenshot_png=b"", archive=self._mhtml())
            png = self.page.screenshot(full_page=not pdf)
            printed = self.page.pdf(print_background=True) if pdf else b""
        except PlaywrightError:
            html, png, printed = "", b"", b""
        return PageSnapshot(url=self.page.url, html=html, screenshot_png=png, pdf=printed)

    def _mhtml(self) -> bytes:
        return str(self._devtools().send("Page.captureSnapshot", {"format": "mhtml"})["data"]).encode()

    def _devtools(self) -> CDPSession:
        if self._cdp is None:  # one DevTools session per page, kept across its navigations: attaching costs
            self._cdp = self.page.context.new_cdp_session(self.page)
        return self._cdp

    # --- what each portal module implements -----------------------------

    @abstractmethod
    def is_logged_in(self) -> bool:
        """A cheap probe: does the portal still know this session?"""

    @abstractmethod
    def login(self) -> None:
        """Log in from scratch, through every step the portal has (MFA, notices)."""

    @abstractmethod
    def fetch_claim_status(self, query: ClaimQuery) -> ClaimStatusResult:
        """Find the claim and read its status; raise ClaimNotFound if the payer has none."""

    # --- helpers for page objects ---------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def portal_path(self, page_name: str, href: str) -> str:
        """The path under the configured portal a link leads to; a link off the portal is refused."""
        target, prefix = urljoin(self.page.url, href), self.base_url + "/"
        if not target.startswith(prefix):
            raise LayoutChanged(self.portal, page_name, "a link leads outside the configured portal")
        return target[len(prefix) :]

    def goto(self, path: str) -> Response | None:
        """Navigate and turn an HTTP-level fault into a typed error."""
        try:
            response = self.page.goto(self.url(path), wait_until="domcontentloaded")
        except PlaywrightTimeout as exc:
            raise PortalUnavailable(self.portal, f"no answer from {path} in time") from exc
        except PlaywrightError as exc:
            raise PortalUnavailable(self.portal, f"could not load {path}: {_first_line(exc)}") from exc
        self.raise_for_response(response)
        return response

    def goto_in_place(
        self, path: str, *, ahead: Sequence[str] = (), landmark: str = "", landmark_text: str | None = None
    ) -> bool:
        """Open a page the portal's server sends whole, as `goto` does, but without a navigation: the page's
        own `fetch` brings its HTML (same cookies, same routes, so the lease fence sees it) and the HTML is
        written into the current document, whose address becomes the page's. A navigation costs Chromium
        60-100 ms of CPU (a new document in the browser process, its commit, Playwright's bookkeeping), about
        as much as the rest of a claim check together; writing the page in place costs a fraction of it and
        renders the same HTML with the same styles, so landmarks, visibility and evidence read as after `goto`.

        Falls back to `goto` (one real navigation) whenever writing in place might not show what a browser
        would: the current page is not on the portal (no session page to fetch from), the answer is a redirect
        (a login page, a sign-on elsewhere) or not HTML, or the page carries scripts (they may build what the
        adapter reads, or clash with the last page's); after a page with scripts, this adapter navigates.

        `ahead`, the pages the caller will open next the same way, in order, are asked for as soon as this one has
        come: their answers are on their way while this page is read and stored, and a later call takes its page
        from them instead of asking again. Each page is asked for once: one still on its way from an earlier call
        is kept if asked for again, dropped if not. A real navigation in between drops them all. How many pages
        ahead is the caller's rule (flows/claim_listing.py); the adapter asks for what it is given.

        `landmark`, a plain CSS selector (and `landmark_text`, its element's whole text): whether it shows on the
        page written, looked at in the same round trip as `shows_at_once` would. False when it does not, when
        none was given, or after a navigation."""
        if self._navigates_only or _origin(self.page.url) != _origin(self.base_url):
            self.goto(path)
            return False
        try:
            answer = self.page.evaluate(
                WRITE_IN_PLACE_JS,
                [
                    self.url(path),
                    [self.url(later) for later in ahead],
                    self.timeouts.navigation_ms,
                    landmark or None,
                    landmark_text,
                ],
            )
        except PlaywrightError as exc:
            raise PortalUnavailable(self.portal, f"could not load {path}: {_first_line(exc)}") from exc
        if answer.get("timeout"):
            raise PortalUnavailable(self.portal, f"no answer from {path} in time")
        if answer.get("failed"):
            raise PortalUnavailable(self.portal, f"could not load {path}: {answer['failed']}")
        if answer.get("scripts"):
            self._navigates_only = True
        if answer.get("navigate"):
            self.goto(path)
            return False
        self._written_in_place += 1
        if self._written_in_place % PAGES_IN_PLACE_PER_COLLECTION == 0:
            self._collect_garbage()
        self.raise_for_status(int(answer["status"]), answer.get("retryAfter"))
        return bool(answer.get("shows"))

    def _collect_garbage(self) -> None:
        """The pages written over stay in the renderer's heap until a collection, which a page that runs no
        script of its own seldom starts: about 0.6 MB a page, 60 MB over a batch of 100, in each runner's
        renderer. Asked for now and then, the renderer stays within a few MB of where it began. Hygiene
        only: a page that cannot be asked (gone, navigating) is left as it is."""
        with suppress(PlaywrightError):
            self._devtools().send("HeapProfiler.collectGarbage")

    def follow(self, name: str, control: Locator) -> None:
        """Click something that loads a new page, once, and wait for that page; HTTP faults become typed errors.

        After a form's submit button, no answer in time is PortalUnavailable, not a changed page: the portal
        may have taken the form, and whoever submitted it must treat it as ambiguous."""
        try:
            with self.page.expect_navigation(wait_until="domcontentloaded") as navigation:
                try:
                    control.click(no_wait_after=True)  # the navigation is waited for here, once
                except PlaywrightTimeout:
                    raise LayoutChanged(self.portal, name, "its button or link could not be clicked") from None
        except PlaywrightTimeout as exc:
            raise PortalUnavailable(self.portal, f"no answer after submitting the {name} page in time") from exc
        except PlaywrightError as exc:
            raise PortalUnavailable(self.portal, f"could not submit the {name} page") from exc
        self.raise_for_response(navigation.value)

    def fetch(self, url: str, *, timeout: float, max_redirects: int = 20) -> APIResponse:
        """GET `url` with the page's cookies but outside the page, as a file's download link would."""
        if self.before_fetch is not None:
            self.before_fetch()
        return self.page.request.get(url, timeout=timeout, max_redirects=max_redirects)

    def raise_for_response(self, response: Response | None) -> None:
        if response is not None:
            self.raise_for_status(response.status, response.headers.get("retry-after"))

    def raise_for_status(self, status: int, retry_after: str | None) -> None:
        if status == 429:
            raise RateLimited(self.portal, "portal is rate limiting (HTTP 429)", _retry_after(retry_after))
        if status >= 500:
            raise PortalUnavailable(self.portal, f"portal answered HTTP {status}", _retry_after(retry_after))

    def shows_at_once(self, selector: str, text: str | None = None) -> bool:
        """Whether a plain CSS selector's element (with `text`, one whose whole text it is) is on the page and
        visible now, in one evaluate: Playwright's selector engine, injected into each new page on its first
        locator call, costs Chromium more than the page's own parsing. False (absent, or not plain CSS) leaves
        the caller to wait with locators."""
        try:
            return bool(self.page.evaluate(SHOWS_AT_ONCE_JS, [selector, text]))
        except PlaywrightError:
            return False

    def expect_page(self, name: str, fingerprint: Locator) -> None:
        """Wait until `fingerprint` shows; a fault page or a timeout becomes a typed error."""
        faults = [(self.page.locator(f.locator), f) for f in self.fault_pages]
        either = fingerprint.first
        for locator, _ in faults:
            either = either.or_(locator.first)
        try:
            either.first.wait_for(state="visible")
        except PlaywrightTimeout:
            raise LayoutChanged(self.portal, name, "its landmark element never appeared") from None
        if fingerprint.first.is_visible():
            return
        for locator, fault in faults:
            if locator.first.is_visible():
                raise fault.kind(self.portal, fault.message)
        raise LayoutChanged(self.portal, name, "its landmark element disappeared")  # pragma: no cover

    def fill_secret(self, locator: Locator, value: str) -> None:
        """Type a credential, but only into a page of the configured portal's origin."""
        if _origin(self.page.url) != _origin(self.base_url):
            raise LayoutChanged(
                self.portal,
                "login",
                "login form is not on the configured portal's origin; refusing to type credentials",
            )
        locator.fill(value)

    def _login_counted(self) -> None:
        if self.on_login is not None:
            self.on_login()
        self.login()
        self.logins += 1


PAGES_IN_PLACE_PER_COLLECTION = 20  # pages written in place between two of the renderer's garbage collections

# Whether a plain CSS selector's first element (with `text`, any whose whole text it is) shows, as Playwright
# means it: a box with a size, and not `visibility: hidden`.
_SHOWS_JS = """(selector, text) => {
  let found;
  try { found = Array.from(document.querySelectorAll(selector)); } catch (e) { return false; }
  if (text === null) found = found.slice(0, 1);  // as a locator's .first
  const squash = t => t.replace(/\\s+/g, ' ').trim();
  return found.some(el => {
    if (text !== null && squash(el.innerText) !== squash(text)) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  });
}"""
SHOWS_AT_ONCE_JS = f"([selector, text]) => ({_SHOWS_JS})(selector, text)"

# goto_in_place's page side. The answer: {navigate: true} to fall back to a navigation (with scripts: true when
# the page carried any), {timeout: true}, {failed: why}, or {status, retryAfter, shows} once the page is written
# (shows: whether `landmark`, of the whole text `landmarkText` if not null, shows on it).
# The pages asked for ahead wait in the window (by address), which document.open keeps (a navigation does not);
# they are asked for only after a page was written, not after a fault.
# Styles are waited for (as long as a navigation would be), since visibility depends on them.
WRITE_IN_PLACE_JS = """async ([url, ahead, timeoutMs, landmark, landmarkText]) => {
  const load = async target => {
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const answer = await fetch(target, {redirect: 'manual', credentials: 'same-origin', signal});
      if (answer.type === 'opaqueredirect' || !/^text\\/html/i.test(answer.headers.get('content-type') || ''))
        return {navigate: true};
      const html = await answer.text();
      return {html, url: answer.url, status: answer.status, retryAfter: answer.headers.get('retry-after')};
    } catch (e) {
      return e.name === 'TimeoutError' ? {timeout: true} : {failed: String(e.message || e)};
    }
  };
  const asked = window.__portalWorkerAhead || new Map();
  delete window.__portalWorkerAhead;
  const got = await (asked.get(url) || load(url));
  if (got.html === undefined) return got;
  if (/<script[\\s>]/i.test(got.html)) return {navigate: true, scripts: true};
  history.replaceState(null, '', got.url);
  document.open();  // stops what the old document was loading, not the window's fetches: pages asked ahead go on
  document.write(got.html);
  document.close();
  if (ahead.length && got.status < 400)
    window.__portalWorkerAhead = new Map(ahead.map(later => [later, asked.get(later) || load(later)]));
  const styled = Array.from(document.querySelectorAll('link[rel~=stylesheet]'), link => link.sheet ? null
    : new Promise(done => { link.addEventListener('load', done); link.addEventListener('error', done); }));
  await Promise.race([Promise.all(styled), new Promise(done => setTimeout(done, timeoutMs))]);
  const shows = landmark !== null && (SHOWS)(landmark, landmarkText);
  return {status: got.status, retryAfter: got.retryAfter, shows};
}""".replace("SHOWS", _SHOWS_JS)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _retry_after(value: str | None) -> datetime | None:
    if value and value.isdigit():
        return datetime.now(UTC) + timedelta(seconds=int(value))
    return None


def parse_money(text: str) -> Decimal | None:
    """'$1,234.50' -> Decimal('1234.50'); '' or '-' -> None."""
    cleaned = text.replace("$", "").replace(",", "").strip()
    if cleaned in BLANK:
        return None
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    value = Decimal(cleaned.strip("()"))
    return -value if negative else value


def parse_count(text: str) -> int | None:
    """'1,200' -> 1200; blank -> None; anything else is a ValueError."""
    cleaned = text.replace(",", "").strip()
    if cleaned in BLANK:
        return None
    if not cleaned.isdigit():
        raise ValueError(f"not a whole number: {cleaned!r}")
    return int(cleaned)


def date_ranges(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    """`start`..`end` (both included) cut into consecutive ranges of at most `max_days` days, for a portal
    whose search allows no longer range."""
    ranges = []
    while start <= end:
        last = min(end, start + timedelta(days=max_days - 1))
        ranges.append((start, last))
        start = last + timedelta(days=1)
    return ranges


def parse_date(text: str) -> date | None:
    """Dates as portals print them: 2026-03-01, 03/01/2026 or 20260301; blank -> None."""
    cleaned = text.strip()
    if cleaned in BLANK:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unrecognised date {cleaned!r}")
