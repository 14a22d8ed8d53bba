"""Credential storage: encrypted file on a headless box, explicit refusal otherwise."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from portals.types import Credentials
from tests.cli_support import portal_worker_process
from worker.runtime.gates import PortalGate
from worker.security.credentials import KEY_ENV, KEY_FILE_ENV, CredentialStoreUnavailable, open_store

CANARY = "Canary-Pa55word-7781"


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)


def test_headless_without_a_key_refuses_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CredentialStoreUnavailable) as error:
        open_store(tmp_path)
    assert KEY_FILE_ENV in str(error.value) and "Plaintext storage is refused" in str(error.value)


def test_encrypted_file_round_trip_is_private_and_holds_no_plaintext(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("a-long-random-test-key-123456")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    store = open_store(tmp_path / "data")
    saved = store.save("unity", Credentials("biller", CANARY, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", {"q?": "a"}))

    loaded = store.load("unity")
    assert loaded is not None and loaded.credentials == saved.credentials
    assert loaded.updated_at == saved.updated_at
    encrypted = tmp_path / "data" / "credentials.cfg"
    assert CANARY not in encrypted.read_text()
    assert stat.S_IMODE(encrypted.stat().st_mode) == 0o600
    assert CANARY not in repr(loaded)
    assert store.load("nobody") is None
    assert store.delete("unity") and store.load("unity") is None


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("a-long-random-test-key-123456")
    key_file.chmod(0o644)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    with pytest.raises(CredentialStoreUnavailable, match="chmod 600"):
        open_store(tmp_path)


def test_a_wrong_key_cannot_read_the_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "first-key-0123456789")
    open_store(tmp_path).save("unity", Credentials("biller", CANARY))
    written = (tmp_path / "credentials.cfg").read_bytes()
    monkeypatch.setenv(KEY_ENV, "other-key-0123456789")
    with pytest.raises(CredentialStoreUnavailable, match="does not open") as error:
        open_store(tmp_path).load("unity")
    assert CANARY not in str(error.value)
    with pytest.raises(CredentialStoreUnavailable, match="does not open"):
        open_store(tmp_path).save("lakeshore", Credentials("biller", "another-password"))
    assert (tmp_path / "credentials.cfg").read_bytes() == written  # nothing written under the wrong key


def test_a_wrong_key_on_a_file_with_no_credentials_yet_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "first-key-0123456789")
    store = open_store(tmp_path)
    store.save("unity", Credentials("biller", CANARY))
    store.delete("unity")
    written = (tmp_path / "credentials.cfg").read_bytes()
    monkeypatch.setenv(KEY_ENV, "other-key-0123456789")
    with pytest.raises(CredentialStoreUnavailable, match="does not open"):
        open_store(tmp_path).save("unity", Credentials("biller", "another-password"))
    assert (tmp_path / "credentials.cfg").read_bytes() == written


def derivations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the Argon2 key derivations keyrings.cryptfile makes from here on (one per encrypt or decrypt)."""
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    counted: list[int] = []
    derive = ArgonAESEncryption._create_cipher

    def counting(self: object, *args: object) -> object:
        counted.append(1)
        return derive(self, *args)

    monkeypatch.setattr(ArgonAESEncryption, "_create_cipher", counting)
    return counted


PORTALS = ("summit", "unity", "lakeshore")


@pytest.mark.slow
def test_a_process_decrypts_the_credential_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    open_store(tmp_path).save_all({portal: Credentials(f"biller-{portal}", CANARY) for portal in PORTALS})
    program = f"""
import sys
from keyrings.cryptfile.cryptfile import ArgonAESEncryption
from worker.security.credentials import open_store
counted = []
derive = ArgonAESEncryption._create_cipher
ArgonAESEncryption._create_cipher = lambda self, *args: counted.append(1) or derive(self, *args)
for _ in range(3):
    for portal in {PORTALS!r}:
        stored = open_store(__import__("pathlib").Path({str(tmp_path)!r})).load(portal)
        assert stored.credentials.username == "biller-" + portal
print(len(counted))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # not one per portal, not one to check the key and one to read


@pytest.mark.slow
def test_a_running_worker_sees_new_credentials_as_soon_as_they_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`credentials set` in another process changes the file: the worker decrypts it again, once."""
    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    config = tmp_path / "portal-worker.toml"
    config.write_text(
        f'[worker]\ndata_dir = "{tmp_path / "data"}"\n\n[portals.unity]\nadapter = "unity_health"\n'
        'base_url = "http://localhost:1/commercial"\npayers = ["UHP"]\n'
    )
    store = open_store(tmp_path / "data")
    first = store.save("unity", Credentials("biller", "first-password"))
    counted = derivations(monkeypatch)
    assert store.load("unity") == first and store.load("unity") == first
    assert counted == []  # the file did not change since this process wrote it: nothing to decrypt
    done = portal_worker_process(
        "-c",
        str(config),
        "credentials",
        "set",
        "unity",
        "--stdin",
        stdin=json.dumps({"username": "biller", "password": "second-password"}),
    )
    assert done.returncode == 0, done.stderr
    second = store.load("unity")
    assert second is not None and second.credentials.password == "second-password"
    assert store.load("unity") == second
    assert len(counted) == 1


def test_credentials_stored_one_entry_per_portal_by_an_earlier_version_move_into_the_one_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.security.credentials import SERVICE, VAULT

    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    store = open_store(tmp_path)
    store.save("summit", Credentials("biller-summit", "summit-password"))
    earlier = {
        "username": "biller-unity",
        "password": CANARY,
        "totp_secret": None,
        "security_answers": {"q?": "a"},
        "updated_at": "2026-11-30T08:00:00+00:00",
    }
    store.backend.set_password(SERVICE, "unity", json.dumps(earlier))  # what versions before 0.2 wrote

    loaded = store.load("unity")
    assert loaded is not None and loaded.credentials == Credentials("biller-unity", CANARY, None, {"q?": "a"})
    assert loaded.updated_at == earlier["updated_at"]  # a rejection before the move still counts against it
    assert store.backend.get_password(SERVICE, "unity") is None
    assert set(json.loads(store.backend.get_password(SERVICE, VAULT) or "{}")) == {"summit", "unity"}
    assert store.load("summit") is not None and store.delete("unity") and store.load("unity") is None


@pytest.mark.production_kdf
def test_the_credential_file_keeps_the_production_argon2_cost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests lower the cost (tests/conftest.py, cheap_argon2); the product never does."""
    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    backend: Any = open_store(tmp_path).backend  # keyrings.cryptfile's backend, which ships no types
    assert (backend.time_cost, backend.memory_cost, backend.parallelism) == (15, 2**16, 2)  # 64 MiB, 15 passes
    assert "cheap_kdf" not in os.environ.get("PYTHONPATH", "")


def test_a_rejected_login_is_not_retried_from_another_host_with_the_old_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two hosts share one database, each with its own keyring: a rejection on one pauses both, and
    each host works again only once a person has stored credentials on it after the rejection."""
    from datetime import datetime

    from store import accounts
    from store.db import create_schema, make_engine, session_scope
    from worker.runtime.browser import ChromiumChoice
    from worker.runtime.context import WorkerContext
    from worker.settings import Settings

    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(database)
    create_schema(engine)

    def host(name: str) -> WorkerContext:
        config = tmp_path / f"{name}.toml"
        config.write_text(
            f'[worker]\ndata_dir = "{tmp_path / name}"\n\n[database]\nurl = "{database}"\n\n'
            '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://localhost:1/commercial"\n'
            'payers = ["UHP"]\n'
        )
        settings = Settings.load(config)
        open_store(settings.worker.data_dir).save("unity", Credentials("biller", "the-old-password"))
        return WorkerContext(
            settings,
            engine,
            open_store(settings.worker.data_dir),
            clock=lambda: datetime.now(UTC),
            chromium=ChromiumChoice(None, "not used"),
            worker_id=name,
        )

    def gate(ctx: WorkerContext) -> PortalGate:
        return ctx.gate("unity", datetime.now(UTC))

    host_a, host_b = host("host-a"), host("host-b")
    assert gate(host_a).open and gate(host_b).open
    with session_scope(engine) as session:  # what a runner on host A records when the portal says no
        accounts.mark_needs_attention(
            session, "unity", "LoginRejected: the password was not accepted", datetime.now(UTC)
        )

    for ctx in (host_a, host_b):
        closed = gate(ctx)
        assert not closed.open and closed.state == "needs a person"
        assert "credentials set unity" in (closed.detail or "") and "old-password" not in (closed.detail or "")

    open_store(host_b.data_dir).save("unity", Credentials("biller", "the-new-password"))
    assert gate(host_b).open  # the person stored the new password on host B: B tries it
    with session_scope(engine) as session:
        assert accounts.get_account(session, "unity", "unity_health").state == "active"
    still = gate(host_a)  # host A still holds the rejected password: no second strike from it
    assert not still.open and "credentials on this host are older" in (still.detail or "")

    open_store(host_a.data_dir).save("unity", Credentials("biller", "the-new-password"))
    assert gate(host_a).open
