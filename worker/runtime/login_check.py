"""`credentials test`: a real login per portal, reported in words a person can act on.

A test login is a portal session like any other, so it keeps the rules runners keep: it takes
the account's lease (never a second live session beside a running worker's), its requests go
through the lease fence, and a rejected login is handled by the failure policy: the account
stops everywhere until new credentials are stored.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta

from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from portals.errors import PortalError
from portals.registry import adapter_class
from store import accounts, tasks
from store.db import create_schema, make_engine, session_scope
from worker.clock import utcnow
from worker.runtime import failures
from worker.runtime.browser import account_context, find_chromium, in_a_thread_of_its_own, open_browser
from worker.runtime.failures import Outcome
from worker.runtime.fence import LeaseFence, LeaseLost
from worker.runtime.gates import record_credentials
from worker.security.credentials import StoredCredentials, open_store, waiting_for_new_credentials, waiting_reason
from worker.security.redaction import register_credentials
from worker.settings import Settings

TEST_LEASE = timedelta(minutes=5)  # longer than any login; released as soon as the login is done


def check_logins(settings: Settings, portals: Sequence[str]) -> dict[str, tuple[bool, str]]:
    """portal -> (ok, what happened). A rejected login pauses the account, as in a check run."""
    store = open_store(settings.worker.data_dir)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    record_credentials(settings, engine, store)
    results: dict[str, tuple[bool, str]] = {}
    to_try = {}
    for portal in portals:
        stored = store.load(portal)
        if stored is None:
            results[portal] = (False, f"no credentials stored; run `portal-worker credentials set {portal}`")
            continue
        with session_scope(engine) as session:
            account = accounts.get_account(session, portal, settings.portals[portal].adapter)
            if waiting_for_new_credentials(account, stored.stored_at):
                results[portal] = (False, f"not tried: {waiting_reason(account, portal)}")
                continue
        register_credentials(stored.credentials)
        to_try[portal] = stored
    if to_try:
        results.update(in_a_thread_of_its_own(lambda: _log_in(settings, engine, to_try)))
    return {portal: results[portal] for portal in portals}


def _log_in(settings: Settings, engine: Engine, to_try: dict[str, StoredCredentials]) -> dict[str, tuple[bool, str]]:
    owner = f"credentials-test:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    results: dict[str, tuple[bool, str]] = {}
    with open_browser(
        find_chromium(settings.browser.executable_path or None), headless=settings.browser.headless
    ) as browser:
        for portal, stored in to_try.items():
            with session_scope(engine) as session:
                lease = tasks.lease_account(session, portal=portal, owner=owner, now=utcnow(), lease_for=TEST_LEASE)
            if lease is None:
                results[portal] = (
                    False,
                    "not tried: a running worker is signed in to this account now (one "
                    "session per account); its next batch will show whether the login works",
                )
                continue
            try:
                results[portal] = _log_in_once(
                    settings, engine, browser, portal, stored, LeaseFence(engine, lease, lease_for=TEST_LEASE)
                )
            finally:
                with session_scope(engine) as session:
                    tasks.release_account(session, portal, owner=owner, generation=lease.generation)
    return results


def _log_in_once(
    settings: Settings, engine: Engine, browser: Browser, portal: str, stored: StoredCredentials, fence: LeaseFence
) -> tuple[bool, str]:
    config = settings.portals[portal]
    with account_context(browser, None) as context:
        fence.guard(context)
        adapter = adapter_class(config.adapter)(
            context.new_page(), portal=portal, base_url=config.base_url, credentials=stored.credentials
        )
        adapter.before_fetch = fence.ensure_held
        try:
            adapter.login()
        except PortalError as exc:
            if fence.lost:
                return False, "stopped: another worker took the account over during the test"
            if failures.classify(exc) is Outcome.NEEDS_A_PERSON:
                with session_scope(engine) as session:
                    accounts.mark_needs_attention(session, portal, failures.error_text(exc), utcnow())
                return False, f"{exc.message}; the account is paused until its credentials change"
            return False, failures.error_text(exc)
        except LeaseLost:
            return False, "stopped: another worker took the account over during the test"
    with session_scope(engine) as session:
        accounts.clear_attention(session, portal)
    return True, "logged in"
