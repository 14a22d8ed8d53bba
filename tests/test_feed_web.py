"""The Today page shows admins each feed channel's backlog and last error; other roles do not see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.feed_support import AT, findings
from tests.test_feed_alert import FEED, Receiver
from tests.test_web_alerts import logged_in
from tests.web_support import MovableClock, RunningWorkspace, _workspace_in, serve
from worker.feed.pump import FeedPump

HEADING = "Feed to the PM system"
SHOTS = Path("test-results/screenshots")


@pytest.fixture
def feed_web(tmp_path: Path) -> Iterator[RunningWorkspace]:
    settings, engine, config_path = _workspace_in(tmp_path, tmp_path / "data", FEED)
    yield from serve(settings, engine, MovableClock(), config_path)
    engine.dispose()


def test_an_admin_sees_the_backlog_and_the_receivers_words_and_billing_does_not(feed_web: RunningWorkspace) -> None:
    findings(feed_web.engine)  # two events
    pump = FeedPump(feed_web.settings, feed_web.engine, "test", opener=lambda name, config: Receiver(), now=lambda: AT)
    pump.deliver("pm")
    admin, _ = logged_in(feed_web, "admin")
    shown = admin.get("/").text
    section = shown[shown.index(HEADING) :]
    assert "failing since" in section and "(1 failure in a row)" in section
    assert '<td class="num" data-label="Waiting">2</td>' in section
    assert "HTTP 503 from pm.example.org: down for maintenance" in section
    billing, _ = logged_in(feed_web, "billing")
    assert HEADING not in billing.get("/").text


def test_a_delivering_channel_says_so(feed_web: RunningWorkspace) -> None:
    admin, _ = logged_in(feed_web, "admin")
    section = admin.get("/").text.split(HEADING, 1)[1]
    assert "delivering" in section and '<td class="num" data-label="Waiting">0</td>' in section


@pytest.mark.browser
def test_the_feed_section_reads_at_desktop_and_phone_widths(feed_web: RunningWorkspace, page: Page) -> None:
    findings(feed_web.engine)
    pump = FeedPump(feed_web.settings, feed_web.engine, "test", opener=lambda name, config: Receiver(), now=lambda: AT)
    pump.deliver("pm")
    feed_web.login(page, "admin")
    page.goto(feed_web.url + "/")
    section = page.get_by_role("table", name=HEADING)
    expect(section).to_contain_text("HTTP 503 from pm.example.org")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        section.scroll_into_view_if_needed()
        expect(section.get_by_text("pm", exact=True)).to_be_visible()
        page.screenshot(path=str(SHOTS / f"today-feed-{width}.png"), full_page=True)
        # The table sits in a scrolling box: a row wider than the phone is cut off there, not seen on the page.
        overflow = section.evaluate("table => table.parentElement.scrollWidth - table.parentElement.clientWidth")
        assert overflow <= 0, f"the feed's table is {overflow}px wider than its box at {width}px"
