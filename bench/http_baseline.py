"""The lower bound: the requests a browser makes for a login and each claim check, with no browser.

    python -m bench.http_baseline --portal-url URL --claims-csv FILE --out result.json

One httpx session per portal account logs in once (the clearinghouse's TOTP code is usable
once, so once is all it gets) and then asks for every claim of that portal, one after the
other, exactly as the portal adapters' pages do: the search page, the search (the JSON API on
the clearinghouse, a GET or POST form elsewhere) and the claim's detail page. Redirects are
followed as a browser follows them. Styles and scripts are not fetched: nothing is rendered.
It writes the requests of its login and first claim per portal, to compare with the browser's.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyotp

from bench.fake import PORTAL_OF_PAYER, PORTALS, PortalAccount, base_url, credentials
from flows.claim_import import ClaimRecord, read_claims_csv

RequestLine = tuple[str, str]  # (method, path)
US_DATE = "%m/%d/%Y"
TIMEOUT_S = 30


class Session:
    """One portal account's HTTP session; `check` returns the detail page's path, or None (not on file)."""

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

    def login(self) -> None:
        login, creds = LOGINS[self.account.name], credentials(self.account)
        login(
            self,
            creds.username,
            creds.password,
            creds.totp_secret or "",
            next(iter(creds.security_answers.values()), ""),
        )

    def check(self, record: ClaimRecord) -> str | None:
        detail = SEARCHES[self.account.name](self, record)
        if detail is None:
            return None
        page = self.client.get(httpx.URL(self.base).join(detail)).raise_for_status()
        if record.claim_id not in page.text:
            raise RuntimeError(f"{self.account.name}: the detail page of {record.claim_id} does not show it")
        return detail


# --- per portal: the login and the search, as the adapters' pages do them -----------------------


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


def _summit_search(s: Session, r: ClaimRecord) -> str | None:
    s.get("claim-status")
    found = s.get(
        "api/claim-status/search",
        payerId=r.payer_id,
        memberId=r.member_id,
        serviceFrom=r.dos_from.isoformat(),
        serviceTo=r.dos_to.isoformat(),
        providerNpi=r.rendering_npi,
        patientControlNumber="",
    ).json()
    return next((c["detailUrl"] for c in found["claims"] if c["patientControlNumber"] == r.claim_id), None)


def _unity_search(s: Session, r: ClaimRecord) -> str | None:
    s.get("claims")
    results = s.get(
        "claims/results",
        dos_from=r.dos_from.strftime(US_DATE),
        dos_to=r.dos_to.strftime(US_DATE),
        status="",
        account=r.claim_id,
        member_id="",
    )
    return _detail_link(results.text, r.claim_id)


def _lakeshore_search(s: Session, r: ClaimRecord) -> str | None:
    s.get("claims/inquiry")
    results = s.post(
        "claims/inquiry",
        {
            "providerNpi": r.rendering_npi,
            "recipientId": r.member_id,
            "dosFrom": r.dos_from.strftime(US_DATE),
            "dosTo": r.dos_to.strftime(US_DATE),
            "patientControlNo": r.claim_id,
            "tcn": "",
        },
    )
    return _detail_link(results.text, r.claim_id)


def _detail_link(page: str, claim_id: str) -> str | None:
    """The detail link in the results row that shows `claim_id` as its own cell."""
    for row in page.split("<tr")[1:]:
        if re.search(rf">\s*{re.escape(claim_id)}\s*<", row):
            link = re.search(r'href="([^"]*detail[^"]*)"', row)
            if link:
                return html.unescape(link.group(1))
    return None


LOGINS = {"summit": _summit_login, "unity": _unity_login, "lakeshore": _lakeshore_login}
SEARCHES = {"summit": _summit_search, "unity": _unity_search, "lakeshore": _lakeshore_search}


# --- the run --------------------------------------------------------------------------------------


def run(portal_url: str, records: list[ClaimRecord]) -> dict[str, object]:
    """Every claim, portal by portal; the requests of each portal's login and first claim are kept."""
    first_claim: dict[str, list[RequestLine]] = {}
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    for account in PORTALS:
        session = Session(portal_url, account)
        with session.client:
            session.login()
            for record in (r for r in records if PORTAL_OF_PAYER[r.payer_id] is account):
                outcomes["found" if session.check(record) else "not on file"] += 1
                if session.recorded is not None:
                    first_claim[account.name], session.recorded = session.recorded, None
    return {
        "claims": len(records),
        "seconds": time.monotonic() - started,
        "outcomes": dict(outcomes),
        "errors": 0,
        "requests": first_claim,
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
