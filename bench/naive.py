"""The naive script a billing team would write: for each claim a fresh browser, a login, one check.

    python -m bench.naive --portal-url URL --claims-csv FILE --sample 30 --out result.json

checks an evenly spread sample of the export (each payer gets its share) with the same portal
adapters the worker uses, one new Chromium per claim, searching for it as a person would. The
bench measures its process tree. With --record it checks the first claim of each portal account
instead and writes the requests the browser made, its login's apart from its claim's: the bench
compares the login's with bench.http_baseline's (which reads claim lists, not searches, so only
the login is the same work).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Playwright, Request, sync_playwright

from bench.fake import PORTAL_OF_PAYER, PORTALS, base_url, credentials
from flows.claim_import import ClaimRecord, read_claims_csv
from portals.errors import ClaimNotFound, PortalError
from portals.registry import adapter_class
from portals.types import ClaimQuery
from worker.runtime.browser import ChromiumChoice, find_chromium, launch_options

RequestLine = tuple[str, str]  # (method, path)


def sample_claims(records: list[ClaimRecord], size: int) -> list[ClaimRecord]:
    """`size` claims spread evenly over the export, which lists claims payer by payer."""
    size = min(size, len(records))
    return [records[i * len(records) // size] for i in range(size)]


def query_of(record: ClaimRecord) -> ClaimQuery:
    """What flows.claim_status.query_for asks for a claim never checked (no payer claim number yet)."""
    return ClaimQuery(
        claim_id=record.claim_id,
        payer_id=record.payer_id,
        member_id=record.member_id,
        dos_from=record.dos_from,
        dos_to=record.dos_to,
        billed_amount=record.billed_amount,
        rendering_npi=record.rendering_npi,
        payer_claim_number=None,
    )


def check_one(
    playwright: Playwright,
    chromium: ChromiumChoice,
    portal_url: str,
    record: ClaimRecord,
    on_request: Callable[[Request], None] | None = None,
    on_login: Callable[[], None] | None = None,
) -> str:
    """A fresh browser, a login, one claim, the browser closed; returns the 277 category found."""
    account = PORTAL_OF_PAYER[record.payer_id]
    browser = playwright.chromium.launch(**launch_options(chromium))
    try:
        page = browser.new_context().new_page()
        if on_request is not None:
            page.on("request", on_request)
        adapter = adapter_class(account.adapter)(
            page, portal=account.name, base_url=base_url(portal_url, account), credentials=credentials(account)
        )
        adapter.login()  # a fresh browser has no session: probing for one first could only fail
        if on_login is not None:
            on_login()
        try:
            return adapter.claim_status(query_of(record)).category_code
        except ClaimNotFound:
            return "not on file"
    finally:
        browser.close()


def counted_request(portal_url: str, request: Request) -> RequestLine | None:
    """The request as the fake portal counts it (portal pages and API calls), or None (static files)."""
    parts = urlsplit(request.url)
    if f"{parts.scheme}://{parts.netloc}" != portal_url or "/static/" in parts.path:
        return None
    return request.method, parts.path


def run_sample(portal_url: str, records: list[ClaimRecord]) -> dict[str, object]:
    outcomes: Counter[str] = Counter()
    chromium = find_chromium()
    started = time.monotonic()
    with sync_playwright() as playwright:
        for record in records:
            try:
                outcomes[check_one(playwright, chromium, portal_url, record)] += 1
            except PortalError as error:
                outcomes[f"error: {type(error).__name__}"] += 1
    seconds = time.monotonic() - started
    return {
        "claims": len(records),
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "errors": sum(n for outcome, n in outcomes.items() if outcome.startswith("error")),
        "claims_by_account": dict(Counter(PORTAL_OF_PAYER[r.payer_id].name for r in records)),
    }


def record_requests(portal_url: str, records: list[ClaimRecord]) -> dict[str, object]:
    """The requests of a login and of one claim check on each portal account (its first claim in the export)."""
    chromium = find_chromium()
    recorded: dict[str, dict[str, list[RequestLine]]] = {}
    with sync_playwright() as playwright:
        for account in PORTALS:
            first = next(r for r in records if PORTAL_OF_PAYER[r.payer_id] is account)
            lines: list[RequestLine] = []
            logged_in: list[int] = []  # how many requests the login made

            def note(request: Request, lines: list[RequestLine] = lines) -> None:
                line = counted_request(portal_url, request)
                if line is not None:
                    lines.append(line)

            def login_done(lines: list[RequestLine] = lines, logged_in: list[int] = logged_in) -> None:
                logged_in.append(len(lines))

            check_one(playwright, chromium, portal_url, first, note, login_done)
            split = logged_in[0] if logged_in else len(lines)
            recorded[account.name] = {"login": lines[:split], "claim": lines[split:]}
    return {"requests": recorded}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portal-url", required=True)
    parser.add_argument("--claims-csv", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--record", action="store_true", help="record the requests of one claim per portal")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    records = read_claims_csv(args.claims_csv)
    result = (
        record_requests(args.portal_url, records)
        if args.record
        else run_sample(args.portal_url, sample_claims(records, args.sample))
    )
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
