"""Summit Exchange's claim list (claim status results) against the fake clearinghouse, through a real Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, Request, Response, Route

from fake_portal import launcher
from fake_portal.data import Claim, Dataset, generate
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import ClaimNotFound, LayoutChanged
from portals.summit_claims import ClaimListPage
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import Adjustment, ClaimQuery, ClaimStatusResult, Credentials, ListedClaim

pytestmark = pytest.mark.browser

START = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATA = generate(seed=7, start=START)
PAYERS = {"NWM", "BBH"}
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "clearinghouse")
DEMO = Credentials(ACCOUNT.username, ACCOUNT.password, totp_secret=ACCOUNT.totp_secret)
EVERY_DOS = (START - timedelta(days=92), START)  # every claim of the data set, in one range the portal allows
LIST_PATH = "claim-status/results"
SHOWN = {"category_code", "payer_claim_number", "billed_amount", "status_date", "paid_amount", "check_number"}


def on_file(dataset: Dataset = DATA, today: date = START) -> dict[str, Claim]:
    return {c.claim_id: c for c in dataset.claims_for(PAYERS) if c.status_on(today) is not None}


def query_for(claim: Claim) -> ClaimQuery:
    return ClaimQuery(
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        dos_to=claim.dos_to,
        billed_amount=claim.billed,
        rendering_npi=claim.rendering_npi,
    )


def expected_result(claim: Claim, today: date = START) -> ClaimStatusResult:
    """What the detail page shows, built from the data set the portal serves."""
    status = claim.status_on(today)
    assert status is not None
    procedures: dict[int | None, str] = {line.line_no: line.procedure for line in claim.lines}
    return ClaimStatusResult(
        claim_id=claim.claim_id,
        category_code=status.category,
        status_code=status.status_code,
        status_text=status.text,
        status_date=status.effective,
        payer_claim_number=claim.payer_claim_number,
        billed_amount=claim.billed,
        allowed_amount=status.allowed,
        paid_amount=status.paid,
        check_number=status.check_number,
        payment_date=status.payment_date,
        adjustments=tuple(
            Adjustment(a.group_code, a.carc, a.amount, a.rarcs, procedures.get(a.line_no)) for a in status.adjustments
        ),
    )


def assert_lists_as_its_detail_page(row: ListedClaim, detail: ClaimStatusResult) -> None:
    assert row.shows == SHOWN
    assert {name: getattr(row.result, name) for name in SHOWN} == {name: getattr(detail, name) for name in SHOWN}
    assert row.result.adjustments == () and row.result.status_code is None and row.result.allowed_amount is None
    assert row.detail_path == f"claims/{detail.payer_claim_number}"


def make_adapter(page: Page, portal: RunningPortal) -> SummitExchangeAdapter:
    adapter = SummitExchangeAdapter(
        page,
        portal="summit-exchange",
        base_url=f"{portal.url}/clearinghouse",
        credentials=DEMO,
        timeouts=Timeouts(element_ms=3000),
    )
    adapter.ensure_logged_in()
    return adapter


def pages_read(portal: RunningPortal, path: str = LIST_PATH) -> int:
    return int(portal.admin("state")["requests_by_path"]["clearinghouse"].get(path, 0))


@pytest.fixture(scope="module")
def bigger_portal() -> Iterator[tuple[RunningPortal, Dataset]]:
    """A practice with more claims than one page of the list shows (78 on file, 50 a page)."""
    server = launcher.start("--seed", "7", "--start-date", START.isoformat(), "--claims-per-payer", "40")
    try:
        yield server, generate(seed=7, start=START, claims_per_payer=40)
    finally:
        server.stop()


# --- what the list shows ------------------------------------------------------------


def test_the_list_shows_every_claim_on_file_as_its_detail_page_does(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    listed = adapter.list_claims(*EVERY_DOS)

    truth = on_file()
    assert sorted(r.claim_id for r in listed) == sorted(truth)
    assert [(truth[r.claim_id].dos_from, r.claim_id) for r in listed] == sorted(
        (c.dos_from, c.claim_id) for c in truth.values()
    )
    assert {r.result.category_code for r in listed} >= {"A7", "P1", "P3", "F1", "F2"}
    for row in listed:
        assert_lists_as_its_detail_page(row, expected_result(truth[row.claim_id]))
    # the detail page a row links to reads the same figures the row shows
    paid = next(r for r in listed if r.result.category_code == "F1" and r.result.paid_amount)
    detail = adapter.claim_status(replace(query_for(truth[paid.claim_id]), detail_path=paid.detail_path))
    assert_lists_as_its_detail_page(paid, detail)

    dos_from, dos_to = date(2026, 9, 1), date(2026, 9, 30)
    in_september = {c.claim_id for c in truth.values() if dos_from <= c.dos_from <= dos_to}
    assert {r.claim_id for r in adapter.list_claims(dos_from, dos_to)} == in_september
    assert adapter.list_claims(START - timedelta(days=10), START) == []
    assert adapter.logins == 1


def test_a_range_longer_than_93_days_is_listed_in_parts(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    before = pages_read(fake_portal)
    listed = adapter.list_claims(START - timedelta(days=200), START)
    assert sorted(r.claim_id for r in listed) == sorted(on_file())
    assert pages_read(fake_portal) - before == 3  # 201 days in ranges of at most 93, each one page


def test_the_portal_refuses_a_range_longer_than_93_days(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    with pytest.raises(LayoutChanged) as caught:
        ClaimListPage(adapter).listed(START - timedelta(days=93), START)  # 94 days: the adapter never asks this
    assert caught.value.page == "claim list" and "refused" in caught.value.detail


def test_every_page_of_a_long_list_is_read(page: Page, bigger_portal: tuple[RunningPortal, Dataset]) -> None:
    portal, dataset = bigger_portal
    adapter = make_adapter(page, portal)
    before = pages_read(portal)
    listed = adapter.list_claims(*EVERY_DOS)

    truth = on_file(dataset)
    assert len(truth) > 50
    assert sorted(r.claim_id for r in listed) == sorted(truth)  # no claim twice, none missed
    assert pages_read(portal) - before == 2  # 50 a page
    for row in listed:
        assert_lists_as_its_detail_page(row, expected_result(truth[row.claim_id]))


def test_a_claims_state_changes_in_the_list_when_the_clock_moves(page: Page, fake_portal: RunningPortal) -> None:
    claim = next(
        c
        for c in on_file().values()
        if c.outcome == "paid" and (s := c.status_on(START)) is not None and s.category == "P1"
    )
    adapter = make_adapter(page, fake_portal)
    by_id = {r.claim_id: r for r in adapter.list_claims(*EVERY_DOS)}
    assert by_id[claim.claim_id].result.category_code == "P1" and by_id[claim.claim_id].result.paid_amount is None

    days = (claim.adjudicated - START).days
    fake_portal.admin("clock", {"days": days})
    later = START + timedelta(days=days)
    by_id = {r.claim_id: r for r in adapter.list_claims(*EVERY_DOS)}
    assert by_id[claim.claim_id].result.category_code == "F1"
    assert_lists_as_its_detail_page(by_id[claim.claim_id], expected_result(claim, later))


# --- a claim the list linked ------------------------------------------------------------


def test_a_listed_claim_is_read_from_its_detail_page_without_a_search(page: Page, fake_portal: RunningPortal) -> None:
    truth = on_file()
    adapter = make_adapter(page, fake_portal)
    denied = next(r for r in adapter.list_claims(*EVERY_DOS) if r.result.category_code == "F2")
    claim = truth[denied.claim_id]
    searched = adapter.claim_status(query_for(claim))

    searches = pages_read(fake_portal, "claim-status"), pages_read(fake_portal, "api/claim-status/search")
    direct = adapter.claim_status(replace(query_for(claim), detail_path=denied.detail_path))
    assert direct == searched == expected_result(claim)
    assert (pages_read(fake_portal, "claim-status"), pages_read(fake_portal, "api/claim-status/search")) == searches

    other = next(r for r in truth.values() if r.claim_id != claim.claim_id)
    with pytest.raises(LayoutChanged) as caught:  # a link that leads to another claim's page is refused
        adapter.claim_status(replace(query_for(other), detail_path=denied.detail_path))
    assert caught.value.page == "claim detail"

    fake_portal.admin("faults/clearinghouse", {"id_drift": f"vanish:{claim.claim_id}"})
    with pytest.raises(ClaimNotFound):  # the portal no longer has the claim its list linked
        adapter.claim_status(replace(query_for(claim), detail_path=denied.detail_path))


# --- a list that cannot be trusted, and an ended session -----------------------------------


def test_layout_2_moves_the_lists_columns_and_is_refused(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    fake_portal.admin("faults/clearinghouse", {"layout": 2})
    with pytest.raises(LayoutChanged) as caught:
        adapter.list_claims(*EVERY_DOS)
    assert caught.value.page == "claim list" and "columns" in caught.value.detail


def _next_link_to_itself(request: Request, body: str) -> str:
    path = request.url.split("/clearinghouse", 1)[1]
    return body.replace(
        "</table>", f'</table><p><a class="sx-pager-next" href="/clearinghouse{path}">Next page</a></p>'
    )


# what the page shows -> (how the fake's page is changed, what the refusal says)
DRIFTS: dict[str, tuple[Callable[[Request, str], str], str]] = {
    "a status without a 277 code": (
        lambda _r, body: body.replace('<span class="sx-code">P1</span>', "Pending", 1),
        "no 277 category code",
    ),
    "an amount that is none": (
        lambda _r, body: body.replace('<td class="sx-num">$', '<td class="sx-num">USD ', 1),
        "is not an amount",
    ),
    "a date that is none": (lambda _r, body: body.replace("/2026</td>", "/2026 (est.)</td>", 1), "not a date"),
    "a missing landmark": (lambda _r, body: body.replace('id="claim-list"', 'id="claims-overview"'), "landmark"),
    "a row with a cell too many": (lambda _r, body: body.replace("</tr>", "<td>x</td></tr>", 2), "number of cells"),
    "a pager that leads back to itself": (_next_link_to_itself, "round in circles"),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_a_list_page_that_reads_as_nonsense_is_refused(page: Page, fake_portal: RunningPortal, drift: str) -> None:
    adapter = make_adapter(page, fake_portal)

    def drifted(route: Route, request: Request) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=DRIFTS[drift][0](request, response.text()))

    page.route(lambda url: f"/clearinghouse/{LIST_PATH}?" in url, drifted)
    with pytest.raises(LayoutChanged) as caught:
        adapter.list_claims(*EVERY_DOS)
    assert caught.value.page == "claim list" and DRIFTS[drift][1] in caught.value.detail


def test_a_session_that_ends_mid_list_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    ended: list[str] = []

    def end_the_session_after_the_first_list_page(response: Response) -> None:
        if LIST_PATH in response.url and not ended:
            ended.append(response.url)
            fake_portal.admin("sessions/expire", {})

    page.on("response", end_the_session_after_the_first_list_page)
    listed = adapter.list_claims(START - timedelta(days=200), START)  # three ranges: the session ends after one
    assert ended and sorted(r.claim_id for r in listed) == sorted(on_file())
    assert adapter.logins == 2
