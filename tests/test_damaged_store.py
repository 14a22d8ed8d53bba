"""A damaged or read-only store: every command says what is wrong, where, and what to do; never a traceback.

The damage is done to a real store the way disks and people do it (cut short, overwritten, emptied, a
foreign file in its place), and the commands run as a person runs them. A read-only data directory is
made by taking the write bits away; a test run as root also gives up root's right to ignore them
(CAP_DAC_OVERRIDE), in the child process only, so the permission bits hold as for any other user.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli_support import ENTRY_POINT, Ran, portal_worker, portal_worker_process
from tests.conftest import write_config
from tests.test_import_claims import rows, write_csv
from worker.security.credentials import KEY_FILE_ENV

CLAIMS = ("PW-DMG-1", "PW-DMG-2")


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An install with two imported claims; the config's path. No portal is reached by any test here."""
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    config = tmp_path / "portal-worker.toml"
    write_config(config, "http://127.0.0.1:9", tmp_path / "data")
    exported = [{**rows()[0], "claim_id": claim_id, "payer_id": "UHP"} for claim_id in CLAIMS]
    done = portal_worker("-c", str(config), "import", "claims", str(write_csv(tmp_path / "claims.csv", exported)))
    assert done.returncode == 0, done.stderr
    return config


def database(config: Path) -> Path:
    return config.parent / "data" / "portal-worker.db"


def backup(config: Path, to: Path) -> Path:
    """A backup as the README says to take one: SQLite's online backup, not a copy of a file in use."""
    source, target = sqlite3.connect(database(config)), sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return to


def truncated(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2 + 100)


def overwritten_with_garbage(path: Path) -> None:
    size = path.stat().st_size
    path.write_bytes(bytes((i * 37 + 11) % 256 for i in range(size)))


def emptied(path: Path) -> None:
    path.write_bytes(b"")


def wrong_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"PK\x03\x04 not sqlite"
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncated,
    "overwritten": overwritten_with_garbage,
    "zero bytes": emptied,
    "wrong header": wrong_header,
}
COMMANDS = {
    "status": ("status",),
    "claims": ("claims",),
    "check": ("check",),
    "import claims": ("import", "claims", "claims.csv"),
    "worklist": ("worklist",),
    "alerts": ("alerts",),
}


def damage(config: Path, how: Callable[[Path], None]) -> bytes:
    """Damage the store with no worker holding it (the WAL folded in first, as a closed store is); its bytes."""
    connection = sqlite3.connect(database(config))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    how(database(config))
    return database(config).read_bytes()


def assert_told_damaged(done: Ran, config: Path) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr + done.stdout
    told = " ".join(done.stderr.split())
    assert f"The database {database(config)} is damaged" in told
    assert "copy your latest backup of it to" in told


@pytest.mark.parametrize("command", list(COMMANDS), ids=str)
@pytest.mark.parametrize("how", list(DAMAGE), ids=str)
def test_a_damaged_database_is_named_with_how_to_restore_it_and_left_as_it_was(
    install: Path, how: str, command: str
) -> None:
    before = damage(install, DAMAGE[how])
    done = portal_worker("-c", str(install), *COMMANDS[command], cwd=install.parent)
    assert_told_damaged(done, install)
    assert database(install).read_bytes() == before


def test_a_real_process_on_a_damaged_database_prints_no_traceback(install: Path) -> None:
    before = damage(install, overwritten_with_garbage)
    for command in (("claims",), ("status",)):
        done = portal_worker_process("-c", str(install), *command, env={"COLUMNS": "200"})
        assert_told_damaged(done, install)
        assert len(done.stderr.splitlines()) <= 8, done.stderr
    assert database(install).read_bytes() == before


def test_following_the_restore_steps_brings_the_claims_back(install: Path, tmp_path: Path) -> None:
    kept = backup(install, tmp_path / "nightly-backup.db")
    damage(install, truncated)
    told = portal_worker("-c", str(install), "claims")
    assert_told_damaged(told, install)
    steps = " ".join(told.stderr.split())
    for source, target in re.findall(r"mv (\S+) ([^\s;)]+)", steps):
        if Path(source).exists():
            Path(source).rename(target)
    restore_to = re.search(r"copy your latest backup of it to (\S+?);", steps)
    assert restore_to is not None, steps
    shutil.copyfile(kept, restore_to.group(1))
    assert portal_worker("-c", str(install), "status").returncode == 0
    listed = portal_worker("-c", str(install), "claims")
    assert listed.returncode == 0, listed.stderr
    assert all(claim_id in listed.stdout for claim_id in CLAIMS)
    assert Path(f"{database(install)}.damaged").exists()  # the damaged file is kept, not deleted


# --- a read-only data directory ---------------------------------------------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _without_root_overrides() -> None:
    """In the child before exec: drop root's power to ignore permission bits (no effect for other users)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_a_user(config: Path, *args: str) -> Ran:
    """`portal-worker ARGS` as a real process that the permission bits apply to."""
    done = subprocess.run(
        [str(ENTRY_POINT), "-c", str(config), *args],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=config.parent,
        preexec_fn=_without_root_overrides,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def read_only_data(install: Path) -> Iterator[Path]:
    """The install's data directory with every write bit taken away (given back afterwards)."""
    data = install.parent / "data"
    changed = [data, *data.rglob("*")]
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in changed}
    for path in changed:
        path.chmod(modes[path] & ~0o222)
    try:
        yield install
    finally:
        for path in reversed(changed):
            path.chmod(modes[path])


def test_commands_that_only_read_work_in_a_read_only_data_directory(read_only_data: Path) -> None:
    before = database(read_only_data).read_bytes()
    listed = as_a_user(read_only_data, "claims")
    assert listed.returncode == 0, listed.stderr
    assert all(claim_id in listed.stdout for claim_id in CLAIMS)
    for command in (("status",), ("worklist",), ("auths",), ("report", "denials")):
        done = as_a_user(read_only_data, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr
    assert database(read_only_data).read_bytes() == before


@pytest.mark.parametrize(
    "command",
    [("import", "claims", "new-claims.csv"), ("check",), ("alerts",)],
    ids=" ".join,
)
def test_a_command_that_writes_says_in_one_line_that_the_data_directory_is_not_writable(
    read_only_data: Path, command: tuple[str, ...]
) -> None:
    write_csv(read_only_data.parent / "new-claims.csv", [{**rows()[0], "claim_id": "PW-DMG-3", "payer_id": "UHP"}])
    before = database(read_only_data).read_bytes()
    done = as_a_user(read_only_data, *command)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    told = [line for line in done.stderr.splitlines() if "not writable" in line]
    assert told == [
        f"error: The data directory {read_only_data.parent / 'data'} is not writable by this user: commands that "
        "only read work, this one writes (fix its owner or permissions, or run as the worker's user)."
    ], done.stderr
    assert database(read_only_data).read_bytes() == before
