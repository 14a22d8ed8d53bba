"""Where credentials may go: not into a run without a safe store, a page of another origin, or a trace."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page

from fake_portal import data
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import PortalAdapter
from portals.errors import LayoutChanged
from portals.registry import adapter_class
from portals.types import ClaimQuery, Credentials
from portals.unity_health import UnityHealthAdapter
from tests.cli_support import portal_worker_process
from tests.conftest import ADAPTER_OF, PORTAL_NAMES, write_config
from worker.runtime.evidence import FailureTrace, save_snapshot
from worker.security.credentials import KEY_ENV, KEY_FILE_ENV

TODAY = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATASET = data.generate(seed=7, start=TODAY)


def credentials_of(prefix: str) -> Credentials:
    account = next(a for a in DEFAULT_ACCOUNTS if a.portal == prefix)
    answers = (
        {account.security_question: account.security_answer}
        if account.security_question and account.security_answer is not None
        else {}
    )
    return Credentials(account.username, account.password, account.totp_secret, answers)


def failed_logins(portal: RunningPortal) -> dict[str, int]:
    return {a["portal"]: int(a["failed_logins"]) for a in portal.admin("state")["accounts"]}


# --- start-up without a safe credential store ----------------------------------------------------------


@pytest.mark.slow  # a real process: `run` installs signal handlers and runs until stopped
def test_run_without_a_usable_keyring_stops_at_start_up_saying_what_to_set(tmp_path: Path) -> None:
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data")
    no_backend = {
        KEY_ENV: "",
        KEY_FILE_ENV: "",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # what keyring itself would use
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus",
    }  # and no Secret Service to find

    result = portal_worker_process("-c", str(config), "run", env=no_backend)

    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert KEY_FILE_ENV in said and KEY_ENV in said and "Plaintext storage is refused" in said
    assert "Traceback" not in result.stderr
    log = tmp_path / "data" / "logs" / "portal-worker.jsonl"
    assert not log.exists() or "worker_started" not in log.read_text()


# --- a login page on another origin ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("prefix", sorted(PORTAL_NAMES))
def test_a_login_redirected_to_another_origin_gets_no_credentials(
    page: Page, fake_portal: RunningPortal, prefix: str
) -> None:
    assert "127.0.0.1" in fake_portal.url
    foreign = fake_portal.url.replace("127.0.0.1", "localhost")  # the same pages, another origin
    fake_portal.admin(f"faults/{prefix}", {"login_redirect": foreign})
    name = PORTAL_NAMES[prefix]
    adapter: PortalAdapter = adapter_class(ADAPTER_OF[name])(
        page, portal=name, base_url=f"{fake_portal.url}/{prefix}", credentials=credentials_of(prefix)
    )

    with pytest.raises(LayoutChanged, match="refusing to type credentials"):
        adapter.ensure_logged_in()

    assert page.url.startswith(f"{foreign}/{prefix}/login")  # the browser did follow the redirect
    typed = page.locator("input[type=text], input[type=password], input:not([type])").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )
    assert typed and not any(typed)  # the form was there, and nothing was typed into it
    assert adapter.logins == 0 and failed_logins(fake_portal)[prefix] == 0


# --- a trace never spans a login ----------------------------------------------------------------------------


def unity_query(index: int) -> ClaimQuery:
    payers = {p.id for p in data.PAYERS if p.portal == "commercial"}
    claim = [c for c in DATASET.claims_for(payers) if c.status_on(TODAY) is not None][index]
    return ClaimQuery(
        claim.claim_id, claim.payer_id, claim.member_id, claim.dos_from, claim.dos_to, claim.billed, claim.rendering_npi
    )


def trace_text(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(member) for member in archive.namelist())


@pytest.mark.browser
def test_a_trace_stops_before_a_relogin_so_it_never_holds_the_password(
    page: Page, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    secret = credentials_of("commercial").password
    adapter = UnityHealthAdapter(
        page, portal="unity", base_url=f"{fake_portal.url}/commercial", credentials=credentials_of("commercial")
    )
    trace = FailureTrace(page.context)

    # What the runner must avoid: a trace running through a login holds the typed password.
    trace.start()
    adapter.ensure_logged_in()
    spanning = trace.save(tmp_path / "spanning.zip")
    assert spanning is not None and secret.encode() in trace_text(spanning)

    # The runner's wiring: tracing starts after the login, and every login (a re-login too) ends it first.
    adapter.on_login = trace.discard
    trace.start()
    fake_portal.admin("sessions/expire", {"portal": "commercial"})
    adapter.claim_status(unity_query(0))  # the session is gone: one re-login, then the answer
    assert adapter.logins == 2 and not trace.recording
    trace.start()  # the next task
    adapter.claim_status(unity_query(1))
    kept = trace.save(tmp_path / "failed-task.zip")
    assert kept is not None and oct(kept.stat().st_mode & 0o777) == oct(0o600)
    recorded = trace_text(kept)
    assert unity_query(1).claim_id.encode() in recorded  # the task is in it
    assert secret.encode() not in recorded


# --- evidence of a page with a password typed in it -----------------------------------------------------------


@pytest.mark.browser
def test_evidence_of_a_page_with_a_typed_password_holds_no_password(
    page: Page, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    typed = "Typed-But-Unregistered-4411"  # not registered with the log scrubber: only the blanking hides it
    adapter = UnityHealthAdapter(
        page, portal="unity", base_url=f"{fake_portal.url}/commercial", credentials=credentials_of("commercial")
    )
    page.goto(f"{fake_portal.url}/commercial/login")
    page.locator("input[type=password]").fill(typed)

    snapshot = adapter.snapshot()
    evidence = save_snapshot(tmp_path, snapshot, portal="unity", claim_id=None, reason="test", at=datetime.now(UTC))

    assert typed not in snapshot.html and evidence.html_path is not None
    assert typed.encode() not in Path(evidence.html_path).read_bytes()
    # The field was blanked in the page itself before the screenshot was taken.
    assert page.locator("input[type=password]").input_value() == ""
    assert snapshot.screenshot_png.startswith(b"\x89PNG")
