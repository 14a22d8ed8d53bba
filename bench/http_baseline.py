"""The lower bound: the work the worker does to check every claim, as plain HTTP requests with no browser.

    python -m bench.http_baseline --portal-url URL --claims-csv FILE --out result.json

Per portal account (4: one per payer), one httpx session logs in once (the clearinghouse's TOTP
code is usable once, so once is all it gets), reads the portal's claim list for each calendar
month that holds one of its claims' service dates, every page of it, and then opens each of its
claims' detail page by the link the list gives (a claim the lists do not show is "not on file").
That is what the worker does once it reads claims in bulk (issue 21). Accounts are worked one
after the other: one session at a time. Redirects are followed as a browser follows them;
styles and scripts are not fetched (nothing is rendered).

The lists (a 404 from one stops the run and names the endpoint):
  - Unity: GET claims/export.csv?dos_from&dos_to&status=&account= (CSV; the detail page is
    claims/detail/{Claim Number});
  - Summit: GET claim-status/results?serviceFrom&serviceTo&page=N (HTML, 50 rows a page, a
    `sx-pager-next` link while there are more; each row's "View claim" link is the detail page;
    at most 93 days);
  - Lakeshore: GET claims/list?dosFrom&dosTo&page=N (HTML, 25 rows a page, a "Next" link while
    there are more; the TCN cell links to the detail page; at most 31 days).

Compared with the browser (bench.naive --record): only the login requests. The naive script still
searches claim by claim, and the worker no longer does, so their per-claim requests are not the
same work and comparing them would say nothing; a login is the same work both ways, request for request.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyotp

from bench.fake import PORTAL_OF_PAYER, PORTALS, PortalAccount, base_url, credentials
from flows.claim_import import ClaimRecord, read_claims_csv
from portals.base import date_ranges

RequestLine = tuple[str, str]  # (method, path)
Listed = dict[str, str]  # claim id (patient account / control number) -> its detail page's address
US_DATE = "%m/%d/%Y"
TIMEOUT_S = 30
MAX_PAGES = 1000  # of one list: a pager that never ends is a bug, not a long list
MAX_DAYS = {"summit": 93, "unity": 366, "lakeshore": 31}  # the longest range each list takes
NextLink = Callable[[str], str | None]  # a list page -> its next page's link, or None on the last


class ListMissing(RuntimeError):
    """A portal answered 404 for its claim list: this fake portal does not have it (yet)."""


class Session:
    """One portal account's HTTP session."""

    def __init__(self, portal_url: str, account: PortalAccount) -> None:
        self.account, self.base = account, base_url(portal_url, account)
        self.recorded: list[RequestLine] | None = []  # every request until set to None
        self.client = httpx.Client(follow_redirects=True, timeout=TIMEOUT_S, event_hooks={"request": [self._note]})

    def _note(self, request: httpx.Request) -> None:
        if self.recorded is not None:
            self.recorded.append((request.method, urlsplit(str(request.url)).path))

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.client.get(f"{self.base}/{path}", params=params or None).raise_for_status()

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return self.client.post(f"{self.base}/{path}", data=form).raise_for_status()

    def listing(self, url: str | httpx.URL, params: dict[str, str] | None = None) -> httpx.Response:
        """One page of a claim list; a clear error when the portal has no such list or sent us to sign in."""
        response = self.client.get(url, params=params)
        path = urlsplit(str(response.request.url)).path
        if response.status_code == 404:
            raise ListMissing(
                f"{self.account.name}: GET {path} answered 404: this fake portal has no such claim list "
                "(issue 21 adds it); the lower bound reads claims from the lists only"
            )
        response.raise_for_status()
        if path.endswith("/login"):
            raise RuntimeError(f"{self.account.name}: the claim list {path} sent the session to sign in again")
        return response

    def login(self) -> None:
        login, creds = LOGINS[self.account.site], credentials(self.account)
        login(
            self,
            creds.username,
            creds.password,
            creds.totp_secret or "",
            next(iter(creds.security_answers.values()), ""),
        )

    def list_claims(self, start: date, end: date) -> Listed:
        listed: Listed = {}
        for first, last in date_ranges(start, end, MAX_DAYS[self.account.site]):
            listed.update(LISTS[self.account.site](self, first, last))
        return listed

    def open_detail(self, record: ClaimRecord, address: str) -> None:
        page = self.client.get(address).raise_for_status()
        if record.claim_id not in page.text:
            raise RuntimeError(f"{self.account.name}: the detail page of {record.claim_id} does not show it")


# --- per portal: the login, as the adapters' pages do it --------------------------------------------


def _summit_login(s: Session, username: str, password: str, totp_secret: str, _answer: str) -> None:
    s.get("login")
    s.post("login", {"username": username, "password": password})  # -> GET mfa
    s.post("mfa", {"code": pyotp.TOTP(totp_secret).now()})  # -> GET dashboard


def _unity_login(s: Session, username: str, password: str, _totp: str, _answer: str) -> None:
    s.get("login")
    s.post("login", {"username": username, "password": password})  # -> GET notice
    s.post("notice", {})  # "I acknowledge" -> GET home


def _lakeshore_login(s: Session, username: str, password: str, _totp: str, answer: str) -> None:
    s.get("login")
    s.post("login", {"userId": username, "password": password})  # -> GET security
    s.post("security", {"answer": answer})  # -> GET menu


# --- per portal: one range of its claim list -------------------------------------------------------

UNITY_COLUMNS = ("Claim Number", "Patient Account Number")


def _unity_list(s: Session, start: date, end: date) -> Listed:
    response = s.listing(
        f"{s.base}/claims/export.csv",
        {"dos_from": start.strftime(US_DATE), "dos_to": end.strftime(US_DATE), "status": "", "account": ""},
    )
    reader = csv.DictReader(io.StringIO(response.text))
    missing = [c for c in UNITY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RuntimeError(f"{s.account.name}: the claims CSV has no columns {missing}")
    return {
        row["Patient Account Number"].strip(): f"{s.base}/claims/detail/{row['Claim Number'].strip()}" for row in reader
    }


def _summit_list(s: Session, start: date, end: date) -> Listed:
    first = s.listing(
        f"{s.base}/claim-status/results",
        {"serviceFrom": start.isoformat(), "serviceTo": end.isoformat(), "page": "1"},
    )
    return _paged(s, first, _summit_next, re.compile(r"View claim", re.I))


def _lakeshore_list(s: Session, start: date, end: date) -> Listed:
    first = s.listing(
        f"{s.base}/claims/list",
        {"dosFrom": start.strftime(US_DATE), "dosTo": end.strftime(US_DATE), "page": "1"},
    )
    return _paged(s, first, _lakeshore_next, None)


def _paged(s: Session, response: httpx.Response, next_link: NextLink, link_text: re.Pattern[str] | None) -> Listed:
    """Every page of an HTML list, from the first one, following its next link."""
    listed: Listed = {}
    for _ in range(MAX_PAGES):
        listed.update(
            {claim: str(response.url.join(href)) for claim, href in row_links(response.text, link_text).items()}
        )
        href = next_link(response.text)
        if href is None:
            return listed
        response = s.listing(response.url.join(href))
    raise RuntimeError(f"{s.account.name}: the claim list still had a next page after {MAX_PAGES}")


_TAG = re.compile(r"<[^>]+>")
_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S | re.I)
_LINK = re.compile(r'<a\b[^>]*href="([^"]*)"[^>]*>(.*?)</a>', re.S | re.I)


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment)).strip()


def row_links(page: str, link_text: re.Pattern[str] | None) -> Listed:
    """Per table row: each cell's text -> the row's detail link (the link whose text matches `link_text`,
    else the first link to a detail page). The caller keeps the cells that are claim ids it knows."""
    found: Listed = {}
    for row in re.split(r"<tr\b", page, flags=re.I)[1:]:
        row = row.split("</tr>", 1)[0]
        links = [(html.unescape(href), _text(text)) for href, text in _LINK.findall(row)]
        chosen = next(
            (href for href, text in links if (link_text.search(text) if link_text else "detail" in href.lower())),
            None,
        )
        if chosen is None:
            continue
        for cell in _CELL.findall(row):
            text = _text(cell)
            if text:
                found.setdefault(text, chosen)
    return found


def _summit_next(page: str) -> str | None:
    for tag in re.findall(r"<a\b[^>]*>", page, re.I):
        classes = re.search(r'class="([^"]*)"', tag)
        href = re.search(r'href="([^"]*)"', tag)
        if classes and "sx-pager-next" in classes.group(1).split() and href:
            return html.unescape(href.group(1))
    return None


def _lakeshore_next(page: str) -> str | None:
    for href, text in _LINK.findall(page):
        if re.match(r"next\b", _text(text), re.I):
            return html.unescape(href)
    return None


LOGINS = {"summit": _summit_login, "unity": _unity_login, "lakeshore": _lakeshore_login}
LISTS = {"summit": _summit_list, "unity": _unity_list, "lakeshore": _lakeshore_list}


# --- the run --------------------------------------------------------------------------------------


def months(records: list[ClaimRecord]) -> list[tuple[date, date]]:
    """The calendar months (first day, last day) that hold any of the claims' service dates, in order."""
    found: set[date] = set()
    for record in records:
        month = record.dos_from.replace(day=1)
        while month <= record.dos_to:
            found.add(month)
            month = (month + timedelta(days=32)).replace(day=1)
    return [(m, (m + timedelta(days=32)).replace(day=1) - timedelta(days=1)) for m in sorted(found)]


def check_account(session: Session, records: list[ClaimRecord], outcomes: Counter[str]) -> list[RequestLine]:
    """Log in, read the lists, open each listed claim; returns the login's requests."""
    session.login()
    login = session.recorded or []
    session.recorded = None
    wanted = {r.claim_id for r in records}
    listed: Listed = {}
    for start, end in months(records):
        listed.update({claim: link for claim, link in session.list_claims(start, end).items() if claim in wanted})
    for record in records:
        address = listed.get(record.claim_id)
        if address is None:
            outcomes["not on file"] += 1
            continue
        session.open_detail(record, address)
        outcomes["found"] += 1
    return login


def run(portal_url: str, records: list[ClaimRecord]) -> dict[str, object]:
    """Every claim, account by account; the requests of each account's login are kept."""
    logins: dict[str, list[RequestLine]] = {}
    outcomes: Counter[str] = Counter()
    claims_by_account: Counter[str] = Counter()
    started = time.monotonic()
    for account in PORTALS:
        mine = [r for r in records if PORTAL_OF_PAYER[r.payer_id] is account]
        claims_by_account[account.name] = len(mine)
        session = Session(portal_url, account)
        with session.client:
            logins[account.name] = check_account(session, mine, outcomes)
    return {
        "claims": len(records),
        "seconds": time.monotonic() - started,
        "outcomes": dict(outcomes),
        "errors": 0,
        "claims_by_account": dict(claims_by_account),
        "login_requests": logins,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portal-url", required=True)
    parser.add_argument("--claims-csv", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(run(args.portal_url, read_claims_csv(args.claims_csv)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
