"""Credential storage: encrypted file on a headless box, explicit refusal otherwise."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portals.types import Credentials
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


def test_encrypted_file_round_trip_is_private_and_holds_no_plaintext(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
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
    monkeypatch.setenv(KEY_ENV, "other-key-0123456789")
    with pytest.raises(Exception) as error:
        open_store(tmp_path).load("unity")
    assert CANARY not in str(error.value)


def test_a_running_worker_sees_new_credentials_as_soon_as_they_are_stored(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.runtime.browser import ChromiumChoice
    from worker.settings import Settings
    from worker.runtime.context import WorkerContext

    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    config = tmp_path / "portal-worker.toml"
    config.write_text(f'[worker]\ndata_dir = "{tmp_path / "data"}"\n\n[portals.unity]\nadapter = "unity_health"\n'
                      'base_url = "http://localhost:1/commercial"\npayers = ["UHP"]\n')
    settings = Settings.load(config)
    store = open_store(settings.worker.data_dir)
    first = store.save("unity", Credentials("biller", "first-password"))
    ctx = WorkerContext(settings, None, open_store(settings.worker.data_dir),  # type: ignore[arg-type]
                        clock=lambda: None, chromium=ChromiumChoice(None, "not used"), worker_id="t")  # type: ignore
    decrypted: list[str] = []
    load = ctx.credentials.load
    monkeypatch.setattr(ctx.credentials, "load", lambda portal: decrypted.append(portal) or load(portal))
    assert ctx.credentials_for("unity") == first
    assert ctx.credentials_for("unity") == first
    assert decrypted == ["unity"]  # the file did not change: decrypted once
    second = store.save("unity", Credentials("biller", "second-password"))
    assert ctx.credentials_for("unity") == second
    assert decrypted == ["unity", "unity"]


def test_a_rejected_login_is_not_retried_from_another_host_with_the_old_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two hosts share one database, each with its own keyring: a rejection on one pauses both, and
    each host works again only once a person has stored credentials on it after the rejection."""
    from datetime import datetime, timezone

    from store import accounts
    from store.db import create_schema, make_engine, session_scope
    from worker.runtime.browser import ChromiumChoice
    from worker.settings import Settings
    from worker.runtime.context import WorkerContext

    monkeypatch.setenv(KEY_ENV, "a-long-random-test-key-123456")
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(database)
    create_schema(engine)

    def host(name: str) -> WorkerContext:
        config = tmp_path / f"{name}.toml"
        config.write_text(f'[worker]\ndata_dir = "{tmp_path / name}"\n\n[database]\nurl = "{database}"\n\n'
                          '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://localhost:1/commercial"\n'
                          'payers = ["UHP"]\n')
        settings = Settings.load(config)
        open_store(settings.worker.data_dir).save("unity", Credentials("biller", "the-old-password"))
        return WorkerContext(settings, engine, open_store(settings.worker.data_dir),
                             clock=lambda: datetime.now(timezone.utc), chromium=ChromiumChoice(None, "not used"),
                             worker_id=name)

    def gate(ctx: WorkerContext):  # type: ignore[no-untyped-def]
        return ctx.gate("unity", datetime.now(timezone.utc))

    host_a, host_b = host("host-a"), host("host-b")
    assert gate(host_a).open and gate(host_b).open
    with session_scope(engine) as session:  # what a runner on host A records when the portal says no
        accounts.mark_needs_attention(session, "unity", "LoginRejected: the password was not accepted",
                                      datetime.now(timezone.utc))

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
