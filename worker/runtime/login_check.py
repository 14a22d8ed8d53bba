"""`credentials test`: a real login per portal, reported in words a person can act on."""

from __future__ import annotations

from collections.abc import Sequence

from portals.errors import LoginRejected, MfaRejected, MfaRequired, PortalError
from portals.registry import adapter_class
from store import accounts
from store.db import create_schema, make_engine, session_scope
from worker.runtime.browser import account_context, find_chromium, open_browser
from worker.security.redaction import register_credentials
from worker.clock import utcnow
from worker.security.credentials import open_store, waiting_for_new_credentials, waiting_reason
from worker.settings import Settings


def check_logins(settings: Settings, portals: Sequence[str]) -> dict[str, tuple[bool, str]]:
    """portal -> (ok, what happened). A rejected login pauses the account, as in a check run."""
    store = open_store(settings.worker.data_dir)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    results: dict[str, tuple[bool, str]] = {}
    to_try = {}
    for portal in portals:
        stored = store.load(portal)
        if stored is None:
            results[portal] = (False, f"no credentials stored; run `portal-worker credentials set {portal}`")
            continue
        with session_scope(engine) as session:
            account = accounts.get_account(session, portal, settings.portals[portal].adapter)
            if waiting_for_new_credentials(account, stored):
                results[portal] = (False, f"not tried: {waiting_reason(account, portal)}")
                continue
        register_credentials(stored.credentials)
        to_try[portal] = stored
    if not to_try:
        return results
    with open_browser(find_chromium(settings.browser.executable_path or None),
                      headless=settings.browser.headless) as browser:
        for portal, stored in to_try.items():
            config = settings.portals[portal]
            with account_context(browser, None) as context:
                adapter = adapter_class(config.adapter)(context.new_page(), portal=portal, base_url=config.base_url,
                                                        credentials=stored.credentials)
                try:
                    adapter.login()
                except (LoginRejected, MfaRequired, MfaRejected) as exc:
                    with session_scope(engine) as session:
                        accounts.mark_needs_attention(session, portal, f"{type(exc).__name__}: {exc.message}",
                                                      utcnow())
                    results[portal] = (False, f"{exc.message}; the account is paused until its credentials change")
                except PortalError as exc:
                    results[portal] = (False, f"{type(exc).__name__}: {exc.message}")
                else:
                    with session_scope(engine) as session:
                        accounts.clear_attention(session, portal)
                    results[portal] = (True, "logged in")
    return {portal: results[portal] for portal in portals}
