"""`check` and `run` are one engine: for the same fault they store the same result and raise the same alerts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlmodel import select

from store.db import make_engine
from store.models import Alert, Claim, ClaimStatusObservation, Evidence, Finding, FlowPause, PortalAccount
from tests.conftest import PAYERS_OF, Workspace
from tests.run_support import configure, import_claims, running, session, tasks, wait_until
from worker.clock import utcnow
from worker.delivery.notify import refresh_alerts
from worker.runtime.check import Check
from worker.security.credentials import open_store
from worker.settings import Settings

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Fault:
    portal: str  # the portal's name in the config
    site: str  # the fake portal's part that misbehaves
    faults: dict[str, object]
    wrong_password: bool = False


FAULTS = {
    "layout change": Fault("lakeshore", "medicaid", {"layout": 2}),
    "wrong password": Fault("unity", "commercial", {}, wrong_password=True),
    "HTTP 429": Fault("unity", "commercial", {"rate_limited": True}),
}


@dataclass(frozen=True)
class Outcome:
    """What the worker stored and alerted about the faulty portal."""

    account: tuple[str, bool, bool, str]  # state, backing off, paused by the breaker, error's type
    flow_pauses: set[tuple[str, str]]
    findings: set[tuple[str, str]]
    alerts: set[str]
    claim_states: dict[str, str]
    observations: int
    evidence: bool
    task_states: set[str]


def outcome(settings: Settings, ws: Workspace, portal: str) -> Outcome:
    refresh_alerts(settings, make_engine(settings.database_url()), utcnow())
    task_states = {t.state for t in tasks(ws, portal=portal)}
    with session(ws) as s:
        account = s.get(PortalAccount, portal)
        assert account is not None
        payers = PAYERS_OF[portal]
        return Outcome(
            account=(
                account.state,
                account.unavailable_until is not None,
                account.pauses > 0,
                (account.last_error or "").split(":")[0],
            ),
            flow_pauses={(p.portal, p.kind) for p in s.exec(select(FlowPause))},
            findings={(f.kind, f.subject) for f in s.exec(select(Finding).where(Finding.status == "open"))},
            alerts={a.key for a in s.exec(select(Alert).where(Alert.status == "open")) if portal in a.subject},
            claim_states={c.claim_id: c.status for c in s.exec(select(Claim)) if c.payer_id in payers},
            observations=len(
                s.exec(select(ClaimStatusObservation).where(ClaimStatusObservation.portal == portal)).all()
            ),
            evidence=s.exec(select(Evidence).where(Evidence.portal == portal)).first() is not None,
            task_states=task_states,
        )


def twin(ws: Workspace, root: Path) -> Workspace:
    """A second install of the same practice, with its own data directory (database, keyring, sessions)."""
    root.mkdir()
    config = root / "portal-worker.toml"
    config.write_text(ws.config_path.read_text().replace(str(ws.settings.worker.data_dir), str(root / "data")))
    other = replace(ws, root=root, config_path=config)
    store = open_store(other.settings.worker.data_dir)
    for name in PAYERS_OF:
        store.save(name, ws.default_credentials(name))
    return other


def break_portal(ws: Workspace, fault: Fault) -> None:
    ws.portal.admin("reset", {})
    if fault.faults:
        ws.portal.admin(f"faults/{fault.site}", fault.faults)
    if fault.wrong_password:
        good = ws.default_credentials(fault.portal)
        ws.credentials.save(fault.portal, type(good)(good.username, "not-the-password", None, {}))


def effect_seen(ws: Workspace, fault: Fault) -> Callable[[], bool]:
    def seen() -> bool:
        with session(ws) as s:
            account = s.get(PortalAccount, fault.portal)
            pauses = s.exec(select(FlowPause).where(FlowPause.portal == fault.portal)).all()
        return bool(pauses) or (account is not None and (account.state == "needs_attention" or account.pauses > 0))

    return seen


@pytest.mark.parametrize("name", list(FAULTS))
def test_check_and_run_store_the_same_result_and_raise_the_same_alerts(
    workspace: Workspace, browser: Browser, tmp_path: Path, name: str
) -> None:
    fault = FAULTS[name]
    configure(workspace)
    other = twin(workspace, tmp_path / "unattended")
    for ws in (workspace, other):
        import_claims(ws)

    break_portal(workspace, fault)
    report = Check(workspace.settings, credentials=workspace.credentials, browser=browser).run(
        portals=[fault.portal], what=("claims",)
    )
    by_check = outcome(workspace.settings, workspace, fault.portal)

    break_portal(other, fault)
    with running(other):
        wait_until(effect_seen(other, fault), f"run met the {name}")
    by_run = outcome(other.settings, other, fault.portal)

    assert by_check == by_run
    assert by_check.observations == 0 and set(by_check.claim_states.values()) == {"unchecked"}
    assert by_check.evidence == (not fault.faults.get("rate_limited"))  # a 429 page is no evidence of anything
    assert by_check.alerts or by_check.account[2]  # a person hears of it, or the breaker holds the portal
    assert by_check.task_states == {"queued"}  # nothing lost: waiting for a person, the pause or the fix
    [row] = report.portals
    assert row.problem and row.checked == 0 and row.errors == row.claims > 0
