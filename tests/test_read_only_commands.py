"""Commands that only read the store start lean and need no key: no keyring, no Alembic at head, no Apprise,
no scheduler and no browser. Each runs as a real process, so what it imports is what a person
waits for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_support import portal_worker
from tests.conftest import write_config
from tests.test_import_claims import rows, write_csv
from worker.security.credentials import KEY_FILE_ENV

NEVER = ("keyring", "keyrings", "alembic", "apprise", "apscheduler.schedulers")
READ_ONLY = (
    *(("claims",), ("worklist",), ("auths",), ("providers",), ("findings",), ("report", "denials")),
    *(("appeal", "list"), ("feed", "status"), ("feed", "preview")),
    *(("status",), ("schedule",), ("alerts",), ("digest", "--preview")),  # these ask what each portal can do
)

PROGRAM = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {top}
                                                or m in {never})), file=sys.stderr))
from worker.cli import main
sys.argv = ["portal-worker", *sys.argv[1:]]
main()
"""


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    config = tmp_path / "portal-worker.toml"
    feed = f'\n[feed.channels.pm]\nkind = "csv"\nfolder = "{tmp_path / "drop"}"\n'  # `status` shows the feed too
    write_config(config, "http://127.0.0.1:9", tmp_path / "data", extra=feed)
    claims = write_csv(tmp_path / "claims.csv", [{**rows()[0], "claim_id": "PW-A", "payer_id": "UHP"}])
    for command in (("import", "claims", str(claims)), ("credentials", "set", "unity", "--stdin")):
        done = portal_worker("-c", str(config), *command, stdin='{"username": "u", "password": "synthetic-pass"}')
        assert done.returncode == 0, done.stderr
    monkeypatch.delenv(KEY_FILE_ENV)  # what follows runs as a billing lead would: without the service's key
    return config


def loaded_by(config: Path, *command: str) -> set[str]:
    program = PROGRAM.format(top=set(NEVER) | {"playwright"}, never=set(NEVER))
    done = subprocess.run(
        [sys.executable, "-c", program, "-c", str(config), *command],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.slow
@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_a_read_only_command_loads_no_keyring_no_migrations_no_scheduler_and_no_browser(
    install: Path, command: tuple[str, ...]
) -> None:
    loaded = loaded_by(install, *command)
    assert not {m for m in loaded if m.split(".")[0] in (*NEVER, "playwright") or m in NEVER}, loaded
