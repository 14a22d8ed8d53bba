"""Detail pages read in place (PortalAdapter.goto_in_place): the page's own fetch and the HTML written into the
document, with a navigation whenever that might not show what a browser would. Real Chromium, fake Unity portal."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Page, Request, Route

from fake_portal.launcher import RunningPortal
from portals.base import PAGES_IN_PLACE_PER_COLLECTION, Timeouts
from portals.errors import PortalUnavailable, RateLimited
from portals.types import ClaimQuery, Credentials, ListedClaim
from portals.unity_health import UnityHealthAdapter
from tests.test_portal_unity_health import (
    ACCOUNT,
    DATASET,
    EVERY_DOS,
    UNITY_PAYERS,
    MakeAdapter,
    assert_matches,
    query,
)

pytestmark = pytest.mark.browser

TRUTH = {c.claim_id: c for c in DATASET.claims_for(UNITY_PAYERS)}
ACCOUNT_CREDENTIALS = Credentials(ACCOUNT.username, ACCOUNT.password)


@pytest.fixture
def make_adapter(page: Page, fake_portal: RunningPortal) -> MakeAdapter:
    def make(navigation_ms: int = 30_000) -> UnityHealthAdapter:
        return UnityHealthAdapter(
            page,
            portal="unity_health",
            base_url=f"{fake_portal.url}/commercial",
            credentials=ACCOUNT_CREDENTIALS,
            timeouts=Timeouts(navigation_ms=navigation_ms, element_ms=3000),
        )

    return make


def listed(adapter: UnityHealthAdapter, count: int) -> list[ListedClaim]:
    adapter.ensure_logged_in()
    rows = [r for r in adapter.list_claims(*EVERY_DOS) if r.detail_path]
    assert len(rows) >= count
    return rows[:count]


def detail_query(row: ListedClaim, *ahead: ListedClaim) -> ClaimQuery:
    return replace(
        query(TRUTH[row.claim_id]),
        detail_path=row.detail_path,
        next_detail_paths=tuple(later.detail_path for later in ahead if later.detail_path),
    )


def requests_for(fake_portal: RunningPortal, row: ListedClaim) -> int:
    assert row.detail_path
    return int(fake_portal.admin("state")["requests_by_path"]["commercial"].get(row.detail_path, 0))


def kinds_of_requests(page: Page) -> list[str]:
    """The resource type of every request the page makes to the portal's pages from now on (styles left out)."""
    kinds: list[str] = []

    def note(request: Request) -> None:
        if "/static/" not in request.url:
            kinds.append(request.resource_type)

    page.on("request", note)
    return kinds


def test_detail_pages_come_by_fetch_each_asked_for_once_the_next_one_ahead(
    make_adapter: MakeAdapter, page: Page, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    rows = listed(adapter, 3)
    kinds = kinds_of_requests(page)

    results = [adapter.claim_status(detail_query(row, *rows[i + 1 : i + 2])) for i, row in enumerate(rows)]

    for row, result in zip(rows, results, strict=True):
        assert_matches(result, TRUTH[row.claim_id])
        assert requests_for(fake_portal, row) == 1  # the ones asked for ahead were not asked for again
    assert kinds == ["fetch", "fetch", "fetch"]  # no document loaded: no navigation
    assert rows[-1].detail_path and page.url.endswith(rows[-1].detail_path)  # the address is the page's
    assert page.locator("h1, h2").first.is_visible()  # a page with its styles, as a person would see it


def test_pages_asked_for_two_ahead_are_each_asked_for_once_and_kept_until_opened(
    make_adapter: MakeAdapter, page: Page, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    rows = listed(adapter, 5)
    kinds = kinds_of_requests(page)
    # Slow answers: a page asked for two ahead is still on its way while the page before it is written over.
    fake_portal.admin("faults/commercial", {"latency_ms": 300})

    # As a batch asks: the next two each time, so every page but the first two was asked for twice ahead.
    results = [adapter.claim_status(detail_query(row, *rows[i + 1 : i + 3])) for i, row in enumerate(rows)]

    for row, result in zip(rows, results, strict=True):
        assert_matches(result, TRUTH[row.claim_id])
        assert requests_for(fake_portal, row) == 1
    assert kinds == ["fetch"] * len(rows)


def test_a_page_asked_for_ahead_but_not_opened_next_is_dropped(
    make_adapter: MakeAdapter, page: Page, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    first, ahead, other = listed(adapter, 3)

    adapter.claim_status(detail_query(first, ahead))
    result = adapter.claim_status(detail_query(other))

    assert_matches(result, TRUTH[other.claim_id])  # not the page asked for ahead
    assert requests_for(fake_portal, other) == 1


def test_a_session_the_portal_ended_is_a_fresh_login_and_the_right_page(
    make_adapter: MakeAdapter, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    first, second = listed(adapter, 2)
    adapter.claim_status(detail_query(first))

    fake_portal.admin("sessions/expire", {"portal": "commercial"})
    result = adapter.claim_status(detail_query(second))

    assert_matches(result, TRUTH[second.claim_id])
    assert adapter.logins == 2


def test_a_page_with_scripts_is_navigated_to_and_so_is_every_page_after_it(
    make_adapter: MakeAdapter, page: Page
) -> None:
    adapter = make_adapter()
    first, second = listed(adapter, 2)

    def with_a_script(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, body=answer.text().replace("</body>", "<script>1</script></body>"))

    page.route("**/commercial/claims/detail/**", with_a_script)
    kinds = kinds_of_requests(page)

    assert_matches(adapter.claim_status(detail_query(first)), TRUTH[first.claim_id])
    assert_matches(adapter.claim_status(detail_query(second)), TRUTH[second.claim_id])

    # the first page: fetched, seen to carry a script, loaded by a navigation; the second: navigated to at once
    assert kinds == ["fetch", "document", "document"]


def test_a_portal_fault_in_place_is_typed_and_its_page_replaces_the_last_one(
    make_adapter: MakeAdapter, page: Page, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    first, second, third = listed(adapter, 3)
    adapter.claim_status(detail_query(first))

    fake_portal.admin("faults/commercial", {"maintenance": True, "retry_after_s": 90})
    with pytest.raises(PortalUnavailable):
        adapter.claim_status(detail_query(second))
    assert first.claim_id not in page.content()  # evidence taken now shows the portal's answer, not the last claim

    fake_portal.admin("faults/commercial", {"maintenance": False, "rate_limited": True})
    with pytest.raises(RateLimited) as limited:
        adapter.claim_status(detail_query(third))
    assert limited.value.retry_after is not None


def test_no_answer_in_time_is_portal_unavailable(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(navigation_ms=1500)
    first, second = listed(adapter, 2)
    adapter.claim_status(detail_query(first))

    fake_portal.admin("faults/commercial", {"latency_ms": 5000})
    with pytest.raises(PortalUnavailable, match="in time"):
        adapter.claim_status(detail_query(second))


def test_pages_written_over_do_not_pile_up_in_the_renderer(make_adapter: MakeAdapter, page: Page) -> None:
    """Each page written in place leaves the last one as garbage, which a page running no script of its own
    seldom collects: left alone, a batch of 100 claims grew a runner's renderer by about 60 MB."""
    adapter = make_adapter()
    rows = listed(adapter, 2)
    devtools = page.context.new_cdp_session(page)
    devtools.send("Performance.enable")

    def dom_nodes() -> int:  # live and not yet collected
        return next(int(m["value"]) for m in devtools.send("Performance.getMetrics")["metrics"] if m["name"] == "Nodes")

    adapter.claim_status(detail_query(rows[0]))
    one_page = dom_nodes()
    for n in range(3 * PAGES_IN_PLACE_PER_COLLECTION):
        adapter.claim_status(detail_query(rows[n % 2]))

    assert dom_nodes() < 3 * one_page  # without collections: 60 pages' worth
