"""Portal credentials in the OS keyring, or an encrypted file on a headless server. Never plaintext.

All portals' credentials are one keyring entry (service "portal-worker", username "portals"): a JSON
object holding, per portal, the username, password, TOTP secret, security answers and when they were
last set. One entry is one decryption, and with the encrypted file every decryption derives its key
with Argon2 (seconds, by design): a process reads the entry once, and again only when the file changed.
Entries of one portal each, as earlier versions wrote them, move into it the first time they are read.

`updated_at` lets the worker tell credentials a person stored after a rejected login from the ones the
portal rejected, on every host, without keeping any trace of the password. Commands that only read the
store never open this: they see when each host last stored credentials in the database (`host_credentials`).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portals.types import Credentials
from worker.clock import aware

if TYPE_CHECKING:
    import keyring.backend

    from store.models import PortalAccount

SERVICE = "portal-worker"
VAULT = "portals"  # the one entry's username
KEY_ENV = "PORTAL_WORKER_KEYRING_KEY"
KEY_FILE_ENV = "PORTAL_WORKER_KEYRING_KEY_FILE"
ENCRYPTED_FILE_NAME = "credentials.cfg"
CREDENTIALS_TTL_S = 30.0  # an OS keyring cannot say it changed: a new password is seen within this

# Backends that keep secrets in an OS-protected store.
OS_BACKEND_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
)


FEED_PREFIX = "feed:"  # entry keys of the feed's secrets: no portal name has a colon (settings.PORTAL_NAME)


class CredentialStoreUnavailable(RuntimeError):
    """No secure place to keep passwords, or it cannot be opened: the message says what to do."""


@dataclass(frozen=True)
class StoredCredentials:
    credentials: Credentials
    updated_at: str  # ISO time the credentials were last set

    @property
    def stored_at(self) -> datetime:
        """When they were set; credentials with no readable time count as the oldest."""
        try:
            return aware(datetime.fromisoformat(self.updated_at))
        except ValueError:
            return datetime.min.replace(tzinfo=UTC)


def waiting_for_new_credentials(account: PortalAccount, stored_at: datetime) -> bool:
    """Credentials stored before the portal last rejected the account's login are not tried again, on any
    host: a person fixes the account, then stores its credentials again (on every host that has them)."""
    rejected = account.credentials_rejected_at
    return rejected is not None and stored_at <= aware(rejected)


def waiting_reason(account: PortalAccount, portal: str) -> str:
    """Why the account waits, and the command that ends the wait, for `status`, `check` and `credentials test`."""
    if account.state == "needs_attention" or account.credentials_rejected_at is None:
        return f"{account.attention_reason}; fix it, then `portal-worker credentials set {portal}` on each host"
    return (
        f"the portal rejected a login at {aware(account.credentials_rejected_at):%Y-%m-%d %H:%M} UTC and the "
        f"credentials on this host are older: store the new ones here too with "
        f"`portal-worker credentials set {portal}`"
    )


class CredentialStore:
    """Reads and writes portal credentials in one explicitly chosen keyring backend, decrypting as seldom
    as it can: once per process, and again when another process changed them."""

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend,
        *,
        lock_path: Path | None = None,
        verify_key: Callable[[], None] | None = None,
    ) -> None:
        self.backend = backend
        self._file_path: str | None = getattr(backend, "file_path", None)  # only the encrypted file has one
        self._lock_path = lock_path  # serialises writers across processes (the encrypted file's case)
        self._verify_key = verify_key
        self._lock = threading.RLock()
        self._entry_cache: dict[str, dict[str, Any]] | None = None
        self._read_mark: tuple[int, int] | float = 0.0  # the file's (mtime, size), or monotonic time, when read
        self._legacy_checked: set[str] = set()

    @property
    def description(self) -> str:
        backend = type(self.backend)
        return f"{backend.__module__}.{backend.__name__}"

    def load(self, portal: str) -> StoredCredentials | None:
        with self._lock:
            blob = self._entry().get(portal)
            if blob is None and portal not in self._legacy_checked:
                self._legacy_checked.add(portal)
                blob = self._adopt_legacy_entry(portal)
        return _parse(portal, blob) if blob is not None else None

    def stored_at(self, portal: str) -> datetime | None:
        stored = self.load(portal)
        return stored.stored_at if stored is not None else None

    def save(self, portal: str, credentials: Credentials) -> StoredCredentials:
        return self.save_all({portal: credentials})[portal]

    def save_all(self, credentials: Mapping[str, Credentials]) -> dict[str, StoredCredentials]:
        """Several portals in one write: each write derives a new key, so the demo and tests write once."""
        stamp = datetime.now(UTC).isoformat()
        with self._writing() as entry:
            for portal, creds in credentials.items():
                entry[portal] = {
                    "username": creds.username,
                    "password": creds.password,
                    "totp_secret": creds.totp_secret,
                    "security_answers": creds.security_answers,
                    "updated_at": stamp,
                }
        return {portal: StoredCredentials(creds, stamp) for portal, creds in credentials.items()}

    def delete(self, portal: str) -> bool:
        self.load(portal)  # an entry of the old kind moves in first, so it is deleted too
        with self._writing() as entry:
            return entry.pop(portal, None) is not None

    # --- the feed's signing secrets, in the same entry under "feed:NAME" ----------------------------------

    def load_feed_secret(self, channel: str) -> str | None:
        """The webhook channel's signing secret (docs/feed.md), or None when none is stored."""
        with self._lock:
            blob = self._entry().get(FEED_PREFIX + channel)
        secret = blob.get("signing_secret") if isinstance(blob, dict) else None
        return secret if isinstance(secret, str) and secret else None

    def save_feed_secret(self, channel: str, secret: str) -> None:
        with self._writing() as entry:
            entry[FEED_PREFIX + channel] = {"signing_secret": secret, "updated_at": datetime.now(UTC).isoformat()}

    def delete_feed_secret(self, channel: str) -> bool:
        with self._writing() as entry:
            return entry.pop(FEED_PREFIX + channel, None) is not None

    def forget(self) -> None:
        """Read again next time: after a portal rejected a login, a person may have just stored new ones."""
        with self._lock:
            self._entry_cache = None

    # --- the one entry ------------------------------------------------------------------------------

    def _entry(self) -> dict[str, dict[str, Any]]:
        if self._entry_cache is None or not self._still_fresh():
            mark = self._mark()
            self._entry_cache, self._read_mark = self._read(), mark
        return self._entry_cache

    def _mark(self) -> tuple[int, int] | float:
        """The encrypted file's (mtime, size), which changes whenever any credential does; for an OS keyring,
        which does not say, the time it was read."""
        if self._file_path is None:
            return time.monotonic()
        try:
            status = os.stat(self._file_path)
        except OSError:
            return (0, 0)  # not written yet
        return (status.st_mtime_ns, status.st_size)

    def _still_fresh(self) -> bool:
        if isinstance(self._read_mark, tuple):
            return self._mark() == self._read_mark
        return time.monotonic() - self._read_mark < CREDENTIALS_TTL_S

    def _read(self) -> dict[str, dict[str, Any]]:
        raw = self._get(VAULT)
        if raw is None:
            return {}
        try:
            entry = json.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError:
            raise CredentialStoreUnavailable(
                "the stored credentials are unreadable; set them again with `portal-worker credentials set PORTAL`"
            ) from None
        return entry

    def _get(self, username: str) -> str | None:
        try:
            return self.backend.get_password(SERVICE, username)
        except ValueError:  # AES-GCM refused: the file was written under another key
            raise _wrong_key(self._file_path) from None

    @contextmanager
    def _writing(self) -> Iterator[dict[str, dict[str, Any]]]:
        """Read, change and write the entry while holding the file lock: two `credentials set` at once on one
        host must not lose each other's portal."""
        with self._lock, _file_lock(self._lock_path):
            if self._file_path is None:
                self._entry_cache = None  # an OS keyring: read what is there now
            before = self._entry()
            if not before and self._verify_key is not None:
                try:
                    self._verify_key()  # nothing decrypted yet: never add an entry under a wrong key
                except ValueError:
                    raise _wrong_key(self._file_path) from None
            entry = json.loads(json.dumps(before))
            yield entry
            if entry != before:
                self.backend.set_password(SERVICE, VAULT, json.dumps(entry))
                self._entry_cache, self._read_mark = entry, self._mark()
        if self._file_path and Path(self._file_path).exists():
            os.chmod(self._file_path, 0o600)  # encrypted, and still nobody else's business

    def _adopt_legacy_entry(self, portal: str) -> dict[str, Any] | None:
        """An entry of one portal, as versions before the single entry wrote: moved into the entry."""
        raw = self._get(portal)
        if raw is None:
            return None
        try:
            blob: dict[str, Any] = json.loads(raw)
            _parse(portal, blob)
        except (ValueError, CredentialStoreUnavailable):
            raise CredentialStoreUnavailable(
                f"the stored credentials for portal {portal!r} are unreadable; "
                f"set them again with `portal-worker credentials set {portal}`"
            ) from None
        with self._writing() as entry:
            entry.setdefault(portal, blob)
        import keyring.errors

        with suppress(keyring.errors.PasswordDeleteError):
            self.backend.delete_password(SERVICE, portal)
        return blob


def _wrong_key(file_path: str | None) -> CredentialStoreUnavailable:
    return CredentialStoreUnavailable(
        f"the key in {KEY_FILE_ENV} (or {KEY_ENV}) does not open {file_path}: it was written with another key. "
        "Use that key, or move the file aside and store each portal's credentials again"
    )


def _parse(portal: str, blob: Any) -> StoredCredentials:
    try:
        credentials = Credentials(
            username=blob["username"],
            password=blob["password"],
            totp_secret=blob.get("totp_secret"),
            security_answers=dict(blob.get("security_answers") or {}),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CredentialStoreUnavailable(
            f"the stored credentials for portal {portal!r} are unreadable; "
            f"set them again with `portal-worker credentials set {portal}`"
        ) from None
    return StoredCredentials(credentials, str(blob.get("updated_at", "")))


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


_OPEN: dict[tuple[str, str | None], CredentialStore] = {}
_OPEN_LOCK = threading.Lock()


def open_store(data_dir: Path) -> CredentialStore:
    """The credential store to use here, chosen on purpose, never a plaintext file; one per process and key,
    so everything in the process shares its one decryption.

    1. A key in $PORTAL_WORKER_KEYRING_KEY or in the file named by
       $PORTAL_WORKER_KEYRING_KEY_FILE: an encrypted file (keyrings.cryptfile,
       Argon2 + AES) in the data directory. This is the headless-server choice.
    2. Otherwise the OS keyring (Secret Service, KWallet, macOS Keychain, Windows).
    """
    key = _key_from_environment()
    path = data_dir / ENCRYPTED_FILE_NAME
    with _OPEN_LOCK:
        opened = _OPEN.get((str(path.resolve()), key))
        if opened is None:
            opened = _open(path, key)
            _OPEN[(str(path.resolve()), key)] = opened
        return opened


def _open(path: Path, key: str | None) -> CredentialStore:
    if key:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        backend = _encrypted_file_backend(path, key)
        return CredentialStore(backend, lock_path=path.with_suffix(".lock"), verify_key=backend.verify_key)
    import keyring.backend

    for backend in keyring.backend.get_all_keyring():
        if type(backend).__module__ in OS_BACKEND_MODULES and backend.priority > 0:
            return CredentialStore(backend)
    raise CredentialStoreUnavailable(
        "no secure credential store on this machine (no OS keyring such as GNOME Keyring/KWallet). "
        f"On a headless server, put a long random key in a file only the service user can read and set "
        f"{KEY_FILE_ENV}=/path/to/that/file (or {KEY_ENV}); credentials are then kept encrypted in "
        f"{path}. Plaintext storage is refused."
    )


def _key_from_environment() -> str | None:
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    key_file = os.environ.get(KEY_FILE_ENV)
    if not key_file:
        return None
    path = Path(key_file)
    try:
        mode = path.stat().st_mode & 0o777
        key = path.read_text().strip()
    except OSError as exc:
        raise CredentialStoreUnavailable(f"{KEY_FILE_ENV}={key_file} cannot be read: {exc.strerror}") from None
    if mode & 0o077:
        raise CredentialStoreUnavailable(
            f"{KEY_FILE_ENV}={key_file} is readable by other users (mode {mode:o}); run `chmod 600 {key_file}`"
        )
    if len(key) < 16:
        raise CredentialStoreUnavailable(f"the key in {key_file} is too short: use at least 16 random characters")
    return key


def _encrypted_file_backend(path: Path, key: str) -> Any:
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    class KeyCheckedOnRead(CryptFileKeyring):  # type: ignore[misc]  # keyrings.cryptfile ships no types
        """keyrings.cryptfile proves the key when it is set by decrypting a reference entry: one more Argon2
        derivation per process. Reading the entry proves it just as well (AES-GCM is authenticated), so
        that check waits until a write that would otherwise come first."""

        def _unlock(self) -> None:
            pass

        def verify_key(self) -> None:
            if self._check_file():
                super()._unlock()  # ValueError("Incorrect Password") on a wrong key

    backend = KeyCheckedOnRead()
    backend.file_path = str(path)
    backend.keyring_key = key  # a new file gets its reference entry here; an existing one is not read yet
    return backend
