"""A portal that demands a new password: the worker stops the account and alerts, never choosing one itself."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from sqlmodel import select

from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS, Account
from portals.base import PortalAdapter, Timeouts
from portals.errors import PasswordChangeRequired
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import Credentials
from portals.unity_health import UnityHealthAdapter
from store.models import Alert, PortalAccount
from tests.conftest import Workspace
from tests.run_support import configure, import_claims, running, session, settled, tasks, wait_until
from worker.clock import utcnow
from worker.delivery.notify import refresh_alerts

pytestmark = pytest.mark.browser

ADAPTERS: dict[str, type[SummitExchangeAdapter | UnityHealthAdapter | LakeshoreMedicaidAdapter]] = {
    "clearinghouse": SummitExchangeAdapter,
    "commercial": UnityHealthAdapter,
    "medicaid": LakeshoreMedicaidAdapter,
}
WORKER_NAMES = {"clearinghouse": "summit", "commercial": "unity", "medicaid": "lakeshore"}
# Each portal's sign-in and change-password forms, as a person's browser posts them.
FORMS = {
    "clearinghouse": (
        "login",
        ("username", "password"),
        "password/change",
        ("username", "current_password", "new_password", "confirm_password"),
    ),
    "commercial": (
        "login",
        ("username", "password"),
        "password",
        ("username", "current_password", "new_password", "confirm_password"),
    ),
    "medicaid": (
        "login",
        ("userId", "password"),
        "password/change",
        ("userId", "currentPassword", "newPassword", "confirmPassword"),
    ),
}


def default_account(prefix: str) -> Account:
    return next(a for a in DEFAULT_ACCOUNTS if a.portal == prefix)


def expire_password(portal: RunningPortal, prefix: str) -> Account:
    account = default_account(prefix)
    portal.admin("accounts", {**asdict(account), "password_expired": True})
    return account


def account_state(portal: RunningPortal, prefix: str) -> dict[str, Any]:
    return next(
        a
        for a in portal.admin("state")["accounts"]
        if a["portal"] == prefix and a["username"] == default_account(prefix).username
    )


def make_adapter(page: Page, portal: RunningPortal, prefix: str) -> PortalAdapter:
    account = default_account(prefix)
    answers = {str(account.security_question): str(account.security_answer)} if account.security_question else {}
    credentials = Credentials(account.username, account.password, account.totp_secret, answers)
    return ADAPTERS[prefix](
        page,
        portal=WORKER_NAMES[prefix],
        base_url=f"{portal.url}/{prefix}",
        credentials=credentials,
        timeouts=Timeouts(element_ms=3000),
    )


# --- each adapter --------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["clearinghouse", "commercial", "medicaid"])
def test_an_expired_password_stops_the_login_without_touching_the_change_form(
    page: Page, fake_portal: RunningPortal, prefix: str
) -> None:
    account = expire_password(fake_portal, prefix)
    adapter = make_adapter(page, fake_portal, prefix)

    with pytest.raises(PasswordChangeRequired) as caught:
        adapter.ensure_logged_in()

    message = str(caught.value)
    assert "new password" in message and f"portal-worker credentials set {WORKER_NAMES[prefix]}" in message
    assert account.password not in message and account.username not in message
    assert all(field.input_value() == "" for field in page.locator("input[type=password]").all())
    state = fake_portal.admin("state")
    assert state["password_change_attempts"][prefix] == 0 and state["sign_in_attempts"][prefix] == 1
    assert account_state(fake_portal, prefix) == {
        "portal": prefix,
        "username": account.username,
        "locked": False,
        "failed_logins": 0,
        "password_expired": True,
    }
    assert adapter.logins == 0


# --- the fake portals' change form, as a person uses it ---------------------------------


@pytest.mark.parametrize("prefix", ["clearinghouse", "commercial", "medicaid"])
def test_a_person_can_choose_the_new_password_on_each_fake_portal(fake_portal: RunningPortal, prefix: str) -> None:
    account = expire_password(fake_portal, prefix)
    login_path, (user_field, password_field), change_path, (who, current, new, confirm) = FORMS[prefix]
    base = f"{fake_portal.url}/{prefix}"
    with httpx.Client(base_url=base, timeout=10) as client:
        shown = client.post(login_path, data={user_field: account.username, password_field: account.password})
        assert shown.status_code == 200 and "expired" in shown.text.lower()
        choice = {who: account.username, current: account.password, new: "Brand-New-Pass-2"}
        refused = client.post(change_path, data={**choice, confirm: "Something-Else-3"})
        assert refused.status_code == 200 and "expired" in refused.text.lower()
        changed = client.post(change_path, data={**choice, confirm: "Brand-New-Pass-2"})
        assert changed.status_code == 303 and changed.headers["location"].startswith(f"/{prefix}/login")
        signed_in = client.post(login_path, data={user_field: account.username, password_field: "Brand-New-Pass-2"})
        assert signed_in.status_code == 303  # on to the next sign-in step, not the change page again

    state = fake_portal.admin("state")
    assert state["password_change_attempts"][prefix] == 2
    assert not account_state(fake_portal, prefix)["password_expired"]


# --- the unattended worker -------------------------------------------------------------


def worker_account(ws: Workspace, portal: str) -> PortalAccount:
    with session(ws) as s:
        found = s.get(PortalAccount, portal)
        assert found is not None, portal
        return found


def done_everywhere_but(ws: Workspace, portal: str) -> bool:
    others = {t.portal for t in tasks(ws)} - {portal}
    return bool(others) and all(t.state == "done" for t in tasks(ws) if t.portal in others)


def test_a_demanded_new_password_pauses_the_account_and_raises_an_alert(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    expire_password(workspace.portal, "commercial")

    with running(workspace):
        wait_until(lambda: done_everywhere_but(workspace, "unity"), "summit and lakeshore are done")
        wait_until(lambda: worker_account(workspace, "unity").state == "needs_attention", "unity needs a person")
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark, {"summit", "lakeshore"}), "a few more scheduler rounds")

    state = workspace.portal.admin("state")
    assert state["sign_in_attempts"]["commercial"] == 1  # one sign-in, never retried
    assert state["password_change_attempts"]["commercial"] == 0
    assert account_state(workspace.portal, "commercial")["locked"] is False
    unity = tasks(workspace, portal="unity")
    assert unity and {t.state for t in unity} == {"queued"}  # waiting for the person, not failed
    reason = worker_account(workspace, "unity").attention_reason or ""
    assert reason.startswith("PasswordChangeRequired:") and "demands a new password" in reason

    refresh_alerts(workspace.settings, workspace.engine, utcnow())
    with session(workspace) as s:
        alert = s.exec(select(Alert).where(Alert.key == "account_needs_attention|unity")).one()
    assert alert.status == "open" and "demands a new password" in alert.title
    assert "credentials set unity" in alert.action
    assert default_account("commercial").password not in alert.title + alert.action
