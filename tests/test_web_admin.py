"""The admin pages as an admin uses them, in Chromium: add a user (the generated password is shown once),
the new user logs in and, not being an admin, finds no way into the admin pages; the audit log says who
did it. Screenshots of every admin page at 1280 and 390 px go to test-results/screenshots/admin-*.png."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from store import staff as staff_store
from store.db import session_scope
from tests.web_support import PASSWORDS, USER_OF_ROLE, RunningWorkspace
from web.app import create_app
from worker.settings import Settings

SCREENSHOTS = Path("test-results/screenshots")
PAGES = {
    "overview": "/admin",
    "users": "/admin/users",
    "audit": "/admin/audit",
    "accounts": "/admin/accounts",
    "schedule": "/admin/schedule",
    "settings": "/admin/settings",
}


def log_in(page: Page, url: str, name: str, password: str, next_path: str) -> None:
    page.goto(f"{url}/login?next={next_path}")
    page.get_by_label("Login name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_an_admin_adds_a_user_who_logs_in_but_cannot_administer(page: Page, web: RunningWorkspace) -> None:
    log_in(page, web.url, USER_OF_ROLE["admin"], PASSWORDS["admin"], "/admin")
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Admin", exact=True)).to_be_visible()

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Users").click()
    adding = page.get_by_role("form", name="Add a user")
    adding.get_by_label("Login name").fill("nina")
    adding.get_by_label("Role").select_option("coding")
    adding.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_have_text("Added nina (coding).")
    password = page.locator("code.secret").inner_text().strip()
    assert len(password) >= 20
    nina = page.get_by_role("row").filter(has_text="nina")
    expect(nina.get_by_label("Role of nina")).to_have_value("coding")
    expect(nina).to_contain_text("never")

    # Shown once: the list again has no password on it, and the store keeps only a hash.
    page.goto(f"{web.url}/admin/users")
    expect(page.get_by_role("row").filter(has_text="nina")).to_be_visible()
    assert password not in page.content()
    with session_scope(web.engine) as session:
        stored = staff_store.get_user(session, "nina")
        assert stored is not None and stored.role == "coding" and password not in stored.password_hash

    # A bad name is refused with the reason, and nothing is added.
    adding.get_by_label("Login name").fill("-x")
    adding.get_by_role("button", name="Add user").click()  # the browser's own pattern check stops this one
    expect(page.get_by_role("alert")).to_have_count(0)
    adding.get_by_label("Login name").evaluate("input => input.removeAttribute('pattern')")
    adding.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("alert")).to_contain_text("Not done: login name '-x' must be 1-64 lower-case")

    for name, path in PAGES.items():
        page.goto(f"{web.url}{path}")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SCREENSHOTS / f"admin-{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{web.url}/admin/audit?action=user_added")
    added = page.get_by_role("row").filter(has_text="nina")
    expect(added).to_contain_text("ada")
    expect(added).to_contain_text("role coding")
    expect(page.get_by_role("row")).to_have_count(2)  # the header and nina's row

    page.goto(f"{web.url}/admin/accounts")
    for portal in web.settings.portals:
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=portal, exact=True))
        expect(row).to_contain_text("working")  # the checked store: every portal had a successful check
    page.get_by_role("button", name="Log out").click()

    log_in(page, web.url, "nina", password, "/admin/users")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Only an admin manages users and settings.")).to_be_visible()
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)


SECRET_URLS = (
    "mailtos://billing:mail-s3cret-pass@mail.example.com?to=lead@example.com",
    "json://hooks.example.com/notify?token=tok3n-s3cret-value",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
)


def test_the_settings_page_shows_the_config_with_every_secret_masked(empty_web: RunningWorkspace) -> None:
    """No browser needed: the loaded config, with notification URLs that hold passwords and tokens, as an
    admin sees it; the schedule and the accounts pages from the same settings."""
    urls = ", ".join(f'"{url}"' for url in SECRET_URLS)
    config = empty_web.config_path
    config.write_text(config.read_text() + f'\n[alerts.channels.billing]\nurls = [{urls}]\nowners = ["billing"]\n')
    settings = Settings.load(config)
    app = create_app(settings, empty_web.engine, clock=empty_web.clock)
    with TestClient(app, follow_redirects=False) as client:
        log_in_client(client, "admin")
        page = client.get("/admin/settings")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "mailtos://billing:****@mail.example.com" in text
        assert "json://hooks.example.com/notify" in text
        for secret in ("mail-s3cret-pass", "tok3n-s3cret-value", "TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD"):
            assert secret not in text
        assert "at 06:00 and 13:00, Monday to Friday" in text  # the claims job's default, in words
        assert str(config) in text and "lockout_attempts" in text

        schedule = html.unescape(client.get("/admin/schedule").text)
        assert "Send the daily summary" in schedule and "the whole worker" in schedule
        rows = dict(SCHEDULE_ROW.findall(schedule))
        sites = {name: portal.adapter for name, portal in settings.portals.items()}
        clearinghouse = next(name for name, adapter in sites.items() if adapter == "summit_exchange")
        assert rows["Fetch remittances (ERAs)"] == clearinghouse  # the only site with remittance files
        assert clearinghouse not in rows["Check authorizations"]  # the clearinghouse has no authorizations
        assert all(name in rows["Check claim statuses"] for name in sites)
        accounts = client.get("/admin/accounts").text
        assert all(portal in accounts for portal in settings.portals) and "not checked yet" in accounts


SCHEDULE_ROW = re.compile(
    r'<td data-label="Job"><strong>([^<]+)</strong>.*?<td data-label="Portals">([^<]*)</td>', re.S
)


def log_in_client(client: TestClient, role: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    sent = client.post(
        "/login",
        data={"name": USER_OF_ROLE[role], "password": PASSWORDS[role], "csrf_token": html.unescape(token.group(1))},
    )
    assert sent.status_code == 303


def test_every_scheduled_job_has_words_on_the_schedule_page() -> None:
    from web.admin_views import JOB_WORDS
    from worker.settings import ScheduleSettings

    assert set(ScheduleSettings().jobs()) == set(JOB_WORDS)
