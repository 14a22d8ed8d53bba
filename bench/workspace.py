"""A fresh portal-worker install for one measurement: config, encrypted credentials, imported claims.

The database is SQLite in the install's data directory, or a throwaway PostgreSQL schema
(store.postgres.fresh_schema: dropped afterwards) on the local server.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.fake import PORTALS, base_url, credentials
from flows.claim_import import import_claims_file
from store.db import create_schema, make_engine, sqlite_url
from worker.clock import utcnow
from worker.security.credentials import KEY_FILE_ENV, open_store

# Only what a benchmark must change from the shipped defaults: the claims job fires once, at
# start-up (it never ran: catch-up), nothing else is scheduled, idle runners look for work twice
# a second instead of every 5 s, and a failed check is retried within seconds, not minutes.
RUN_CONFIG = """
[run]
runners = {runners}
batch_size = {batch_size}
poll_seconds = 0.5
retry_base_seconds = 1
retry_max_seconds = 2

[schedule.claims]
interval_minutes = 600
jitter_seconds = 0
[schedule.remittances]
enabled = false
[schedule.auths]
enabled = false
[schedule.enrollments]
enabled = false
[schedule.purge]
enabled = false
[schedule.digest]
enabled = false
"""


@dataclass(frozen=True)
class Workspace:
    config_path: Path
    database_url: str
    env: dict[str, str]  # for the worker process: its config and the keyring key


def key_file(root: Path) -> Path:
    """One key for the bench's encrypted keyrings (test-only: the accounts are synthetic)."""
    path = root / "keyring.key"
    if not path.exists():
        path.write_text(f"bench-only-key-{uuid.uuid4().hex}")
        path.chmod(0o600)
    return path


def config_text(
    portal_url: str, data_dir: Path, database_url: str, *, runners: int, batch_size: int, pace_seconds: float
) -> str:
    lines = ["[worker]", f'data_dir = "{data_dir}"', ""]
    if not database_url.startswith("sqlite"):
        lines += ["[database]", f'url = "{database_url}"', ""]
    for account in PORTALS:
        payers = ", ".join(f'"{p}"' for p in account.payers)
        lines += [
            f"[portals.{account.name}]",
            f'adapter = "{account.adapter}"',
            f'base_url = "{base_url(portal_url, account)}"',
            f"payers = [{payers}]",
            f"pace_seconds = {pace_seconds}",
            "",
        ]
    return "\n".join(lines) + RUN_CONFIG.format(runners=runners, batch_size=batch_size)


def make_workspace(
    root: Path,
    portal_url: str,
    claims_csv: Path,
    database_url: str | None,
    *,
    runners: int,
    batch_size: int,
    pace_seconds: float,
) -> Workspace:
    """Write the install under `root`, store the accounts' credentials and import the claims."""
    data_dir = root / "data"
    data_dir.mkdir(parents=True, mode=0o700)
    url = database_url or sqlite_url(data_dir)
    config_path = root / "portal-worker.toml"
    config_path.write_text(
        config_text(portal_url, data_dir, url, runners=runners, batch_size=batch_size, pace_seconds=pace_seconds)
    )
    env = {**os.environ, "PORTAL_WORKER_CONFIG": str(config_path), KEY_FILE_ENV: str(key_file(root.parent))}
    os.environ[KEY_FILE_ENV] = env[KEY_FILE_ENV]  # open_store reads the key from the environment
    store = open_store(data_dir)
    for account in PORTALS:
        store.save(account.name, credentials(account))
    engine = make_engine(url)
    try:
        create_schema(engine)
        import_claims_file(engine, claims_csv, utcnow())
    finally:
        engine.dispose()
    return Workspace(config_path, url, env)
