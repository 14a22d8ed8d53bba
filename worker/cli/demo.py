"""`portal-worker demo`: the whole worker against the bundled fake portals, in one command."""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy.engine import Engine

from fake_portal import launcher  # the demo may start the fake portal, as tests do
from flows.auth_import import import_auths_file
from flows.claim_import import import_claims_file
from flows.provider_import import import_providers_file
from flows.worklist import load_worklist
from portals.types import Credentials
from store.db import create_schema, make_engine, session_scope
from store.findings import open_findings
from worker import logs
from worker.cli import display as output
from worker.cli.alerts_view import print_preview
from worker.clock import utcnow
from worker.feed.pump import FeedPump
from worker.runtime.check import Check
from worker.security.credentials import KEY_FILE_ENV, open_store
from worker.security.staff import add_user, generated_password
from worker.settings import Settings

DEMO_WORKLIST_ROWS = 8
DEMO_USER = "demo"  # the workspace login the demo adds (role admin), with a password made up per run

# fake portal prefix -> (name in config, adapter, payers, navigation timeout)
DEMO_PORTALS = {
    "clearinghouse": ("summit", "summit_exchange", ["NWM", "BBH"], 30),
    "commercial": ("unity", "unity_health", ["UHP"], 30),
    "medicaid": ("lakeshore", "lakeshore_medicaid", ["LSM"], 60),
}


def demo_config(url: str, data_dir: Path) -> str:
    lines = ["[worker]", f'data_dir = "{data_dir}"', 'log_level = "info"', ""]
    for prefix, (name, adapter, payers, timeout) in DEMO_PORTALS.items():
        lines += [
            f"[portals.{name}]",
            f'adapter = "{adapter}"',
            f'base_url = "{url}/{prefix}"',
            f"payers = {payers!r}".replace("'", '"'),
            f"navigation_timeout_s = {timeout}",
            "",
        ]
    # The feed to the practice's PM system, as a drop folder its import job would read (docs/feed.md).
    lines += ["[feed.channels.pm_import]", 'kind = "csv"', f'folder = "{data_dir / "pm-import"}"', ""]
    return "\n".join(lines)


def run_demo(console: Console, data_dir: Path, claims_per_payer: int) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(mode=0o700, parents=True)
    console.rule("portal-worker demo")
    with console.status("Starting the bundled fake payer portals..."):
        portal = launcher.start("--claims-per-payer", str(claims_per_payer))
    try:
        console.print(
            f"Fake portals at {portal.url} (a clearinghouse, a commercial payer, a state Medicaid).", markup=False
        )
        config_path = data_dir / "portal-worker.toml"
        config_path.write_text(demo_config(portal.url, data_dir))
        settings = Settings.load(config_path)
        logs.configure("info", data_dir / "logs" / "portal-worker.jsonl")

        # A throwaway key for this demo's encrypted credential file; real installs keep theirs
        # outside the data directory (see README, "Credentials").
        key_file = data_dir / "keyring.key"
        key_file.write_text(secrets.token_urlsafe(32))
        key_file.chmod(0o600)
        os.environ[KEY_FILE_ENV] = str(key_file)
        store = open_store(data_dir)
        demo_accounts: dict[str, Credentials] = {}
        for account in httpx.get(f"{portal.url}/admin/demo-accounts", timeout=10).json():
            answers = (
                {account["security_question"]: account["security_answer"]} if account.get("security_question") else {}
            )
            # the portal's first account (the fake clearinghouse has a second, for the bench's fourth runner)
            demo_accounts.setdefault(
                DEMO_PORTALS[account["portal"]][0],
                Credentials(account["username"], account["password"], account.get("totp_secret"), answers),
            )
        store.save_all(demo_accounts)
        console.print(f"Stored the demo accounts' credentials in {store.description}.", markup=False)

        engine = make_engine(settings.database_url())
        create_schema(engine)
        for name, importer in (
            ("claims", import_claims_file),
            ("auths", import_auths_file),
            ("providers", import_providers_file),
        ):
            export = data_dir / f"{name}.csv"
            export.write_bytes(httpx.get(f"{portal.url}/pms/{name}.csv", timeout=10).content)
            counts = importer(engine, export, utcnow())
            console.print(f"Imported {counts.inserted} {name} from the practice-management export.")

        with output.ClaimProgress(console) as progress:
            report = Check(settings, credentials=store, engine=engine).run(progress=progress)
        output.print_report(console, report)
        send_feed(console, settings, engine)
        with session_scope(engine) as session:
            work = load_worklist(session, datetime.now(settings.worker.tzinfo).date())
        console.print(output.worklist_table(work[:DEMO_WORKLIST_ROWS]))
        console.print(f"{len(work)} open denial(s) in all; `portal-worker worklist --csv FILE` exports them.")
        with session_scope(engine) as session:
            console.print(output.findings_table(open_findings(session)))
        console.rule("The daily summary staff would get (portal-worker digest --preview)")
        print_preview(console, settings, engine, utcnow())
        console.print(
            f"Data directory: {data_dir} (database, logs, evidence). Try: portal-worker -c {config_path} alerts",
            highlight=False,
        )
        print_workspace_login(console, settings, engine, config_path)
    finally:
        portal.stop()


def send_feed(console: Console, settings: Settings, engine: Engine) -> None:
    """What the check recorded, sent to the PM system's drop folder as `run` would within seconds."""
    folder = settings.feed.channels["pm_import"].folder
    assert folder is not None
    folder.mkdir(mode=0o750, exist_ok=True)
    pump = FeedPump(settings, engine, "demo")
    try:
        sent = sum(result.sent for result in pump.deliver_all())
    finally:
        pump.close()
    files = len(list(folder.glob("*.csv")))
    console.print(
        f"Sent {sent} change(s) to the practice management feed: {files} CSV file(s) in {folder} "
        "(`portal-worker feed status`; docs/feed.md).",
        highlight=False,
    )


def print_workspace_login(console: Console, settings: Settings, engine: Engine, config_path: Path) -> None:
    """Add the demo's workspace user and say how to open the workspace. The password is printed here,
    once, and goes nowhere else (not the log): it is made up for this demo's store only."""
    password = generated_password()
    with session_scope(engine) as session:
        add_user(session, DEMO_USER, "admin", password, utcnow())
    console.rule("The staff workspace on the demo data")
    # soft_wrap: a long data directory must not break the command in two when it is copied
    console.print(f"Start it:  portal-worker -c {config_path} web", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"Then open http://{settings.web.host}:{settings.web.port}/ and log in as {DEMO_USER} / {password}",
        markup=False,
        highlight=False,
    )
