"""Search: each of the five ways finds a claim, filters narrow, sorting and paging, bad input said plainly."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect
from sqlmodel import select

from flows.claim_import import ClaimRecord
from store.claims import upsert_claims
from store.db import session_scope
from store.models import AuditEntry, Claim, ClaimStatusObservation, EraClaim, EraFile
from store.observations import record_observation
from tests.web_support import PASSWORDS, USER_OF_ROLE, RunningWorkspace

SCREENSHOTS = Path("test-results/screenshots")
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def logged_in(workspace: RunningWorkspace, role: str = "billing") -> httpx.Client:
    """An httpx client logged in through the login form, as a browser would be."""
    client = httpx.Client(base_url=workspace.url, follow_redirects=False, timeout=10)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login",
        data={"name": USER_OF_ROLE[role], "password": PASSWORDS[role], "csrf_token": token.group(1), "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    return client


def browser_login(workspace: RunningWorkspace, page: Page, role: str, next_path: str) -> None:
    """Log in through the form, landing on `next_path` (this part of the workspace does not own Today)."""
    page.goto(f"{workspace.url}/login?next={next_path}")
    page.get_by_label("Login name").fill(USER_OF_ROLE[role])
    page.get_by_label("Password").fill(PASSWORDS[role])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def csrf_of(client: httpx.Client, path: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert token
    return token.group(1)


def add_claims(workspace: RunningWorkspace, count: int = 30) -> None:
    """`count` claims PW9000.. of two payers, one paid with a check and an ERA."""
    records = [
        ClaimRecord(
            claim_id=f"PW9{n:04d}",
            payer_id="UHP" if n % 2 else "NWM",
            member_id=f"M{n:05d}",
            patient_name="Ortega, Lucia" if n == 7 else f"Patient{n}, Test",
            dos_from=date(2026, 10, 1 + n % 28),
            dos_to=date(2026, 10, 1 + n % 28),
            billed_amount=Decimal(100 + n * 10),
            submitted_date=date(2026, 10, 5 + n % 20),
            rendering_npi="1234567893",
            procedure_codes=("99213",),
        )
        for n in range(count)
    ]
    with session_scope(workspace.engine) as session:
        upsert_claims(session, records, AT)
        session.flush()
        record_observation(
            session,
            ClaimStatusObservation(
                claim_id="PW90003",
                observed_at=AT,
                portal="unity",
                run_id="r1",
                status="paid",
                payer_claim_number="UHP-77001",
                paid_amount=Decimal("95.00"),
                check_number="CHK-4410",
                payment_date=date(2026, 11, 18),
                changes="status: unchecked -> paid",
            ),
        )
        era_file = EraFile(
            sha256="x" * 64, source="file", file_id="era-1.835", trace_number="EFT-88123", imported_at=AT
        )
        session.add(era_file)
        session.flush()
        assert era_file.id is not None
        session.add(
            EraClaim(
                era_file_id=era_file.id,
                reported_claim_id="PW90011",
                claim_id="PW90011",
                status_code="1",
                billed=Decimal("210.00"),
                paid=Decimal("150.00"),
                payer_claim_number="ERA-CLM-55",
            )
        )


def found_ids(html: str) -> list[str]:
    return re.findall(r'<td class="id" data-label="Claim"><a href="/claims/[^"]+">([^<]+)</a>', html)


def test_search_by_every_way_filters_sort_and_pages_over_http(empty_web: RunningWorkspace) -> None:
    add_claims(empty_web)
    client = logged_in(empty_web)
    empty = client.get("/search")
    assert empty.status_code == 200 and "Type a claim id" in empty.text

    # an exact claim id goes straight to the claim; part of one lists the claims it starts
    exact = client.get("/search", params={"q": "pw90007"})
    assert exact.status_code == 303 and exact.headers["location"] == "/claims/PW90007"
    assert set(found_ids(client.get("/search", params={"q": "PW9001"}).text)) == {f"PW9001{n}" for n in range(10)}
    for text, claim_id in (
        ("ortega", "PW90007"),  # patient name, any case, any part
        ("m00012", "PW90012"),  # member id
        ("uhp-77001", "PW90003"),  # payer claim number, from a portal
        ("ERA-CLM-55", "PW90011"),  # payer claim number, from an ERA
        ("chk-4410", "PW90003"),  # check number, from a portal
        ("EFT-88123", "PW90011"),  # EFT trace number, from an ERA
    ):
        assert found_ids(client.get("/search", params={"q": text}).text) == [claim_id], text

    # filters narrow; a search with no match says what was searched
    uhp = found_ids(
        client.get("/search", params={"payer": "UHP", "billed_min": "300", "sort": "billed", "dir": "asc"}).text
    )
    assert uhp == [f"PW9{n:04d}" for n in range(21, 30, 2)]
    paid = client.get("/search", params={"status": "paid"}).text
    assert found_ids(paid) == ["PW90003"]
    dos = found_ids(client.get("/search", params={"dos_from": "2026-10-03", "dos_to": "2026-10-04"}).text)
    assert sorted(dos) == ["PW90002", "PW90003"]
    none = client.get("/search", params={"q": "Nobody", "payer": "NWM"}).text
    assert "No claim matches “Nobody”, payer NWM." in none

    # 30 claims, 25 a page: the second page holds the rest, sorted as asked
    first = client.get("/search", params={"q": "PW9", "sort": "claim", "dir": "asc"}).text
    assert found_ids(first)[:2] == ["PW90000", "PW90001"] and len(found_ids(first)) == 25
    assert "25 of 30 claims" in first
    second = client.get("/search", params={"q": "PW9", "sort": "claim", "dir": "asc", "page": "2"}).text
    assert found_ids(second) == [f"PW9{n:04d}" for n in range(25, 30)]

    # htmx asks for the results only
    partial = client.get("/search", params={"q": "ortega"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and found_ids(partial.text) == ["PW90007"]


def test_bad_search_input_is_named_and_nothing_is_searched(empty_web: RunningWorkspace) -> None:
    add_claims(empty_web)
    client = logged_in(empty_web)
    bad = client.get(
        "/search",
        params={
            "q": "PW9",
            "dos_from": "2026-13-01",
            "billed_min": "lots",
            "submitted_from": "2026-11-02",
            "submitted_to": "2026-11-01",
        },
    )
    assert bad.status_code == 400
    assert "Date of service from: “2026-13-01” is not a date (YYYY-MM-DD)." in bad.text
    assert "Billed at least: “lots” is not an amount in dollars" in bad.text
    assert "The submitted date range ends before it starts." in bad.text
    assert found_ids(bad.text) == []
    assert client.get("/search", params={"q": "x" * 101}).status_code == 400


def test_search_needs_a_login(empty_web: RunningWorkspace) -> None:
    anonymous = httpx.get(f"{empty_web.url}/search", params={"q": "PW9"}, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=/search")
    with session_scope(empty_web.engine) as session:
        assert not session.exec(select(AuditEntry).where(AuditEntry.action == "view_claim")).all()


def test_staff_find_claims_every_way_in_the_browser(web: RunningWorkspace, page: Page) -> None:
    with session_scope(web.engine) as session:
        claims = list(session.exec(select(Claim).order_by(Claim.claim_id)))
        paid = session.exec(
            select(ClaimStatusObservation).where(ClaimStatusObservation.check_number.is_not(None))  # type: ignore[union-attr]
        ).first()
    assert paid is not None and paid.payer_claim_number and paid.check_number
    someone = claims[3]
    browser_login(web, page, "billing", "/search")
    expect(page.get_by_text("Type a claim id")).to_be_visible()
    box = page.get_by_label("Find a claim")

    # typing narrows the results as you go (htmx), and the address keeps the search
    surname = someone.patient_name.split(",")[0].split()[0]
    box.fill(surname.lower())
    expect(page.locator("table.results").get_by_role("link", name=someone.claim_id)).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=" + surname.lower()))
    for text, claim_id in (
        (someone.member_id, someone.claim_id),
        (paid.payer_claim_number, paid.claim_id),
        (paid.check_number, paid.claim_id),
    ):
        box.fill(text)
        expect(page.locator("table.results").get_by_role("link", name=claim_id)).to_be_visible()

    # a filter narrows: one payer only
    box.fill("")
    page.get_by_label("Payer").select_option(someone.payer_id)
    expect(page.locator("#results")).to_contain_text(f"matching payer {someone.payer_id}")
    payers = page.locator("table.results td[data-label='Payer']").all_inner_texts()
    assert payers and set(payers) == {someone.payer_id}

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "search-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "search-390.png"), full_page=True)

    # the claim id, typed and entered, opens the claim
    box.fill(someone.claim_id.lower())
    box.press("Enter")
    expect(page).to_have_url(re.compile(f"/claims/{someone.claim_id}$"))
    expect(page.get_by_role("heading", name=f"Claim {someone.claim_id}")).to_be_visible()
