"""Portal credentials in the OS keyring, or an encrypted file on a headless server. Never plaintext.

One keyring entry per portal (service "portal-worker", username = the portal's
name in config) holding a JSON blob: username, password, TOTP secret, security
answers and when it was last set. `updated_at` lets the worker tell credentials a
person stored after a rejected login from the ones the portal rejected, on every host,
without keeping any trace of the password.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors

from portals.types import Credentials
from store.models import PortalAccount
from worker.clock import aware

SERVICE = "portal-worker"
KEY_ENV = "PORTAL_WORKER_KEYRING_KEY"
KEY_FILE_ENV = "PORTAL_WORKER_KEYRING_KEY_FILE"
ENCRYPTED_FILE_NAME = "credentials.cfg"

# Backends that keep secrets in an OS-protected store.
OS_BACKEND_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.macOS",
    "keyring.backends.Windows",
)


class CredentialStoreUnavailable(RuntimeError):
    """No secure place to keep passwords: the message says what to install or set."""


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
            return datetime.min.replace(tzinfo=timezone.utc)


def waiting_for_new_credentials(account: PortalAccount, stored: StoredCredentials) -> bool:
    """Credentials stored before the portal last rejected the account's login are not tried again, on any
    host: a person fixes the account, then stores its credentials again (on every host that has them)."""
    rejected = account.credentials_rejected_at
    return rejected is not None and stored.stored_at <= aware(rejected)


def waiting_reason(account: PortalAccount, portal: str) -> str:
    """Why the account waits, and the command that ends the wait, for `status`, `check` and `credentials test`."""
    if account.state == "needs_attention" or account.credentials_rejected_at is None:
        return f"{account.attention_reason}; fix it, then `portal-worker credentials set {portal}` on each host"
    return (f"the portal rejected a login at {aware(account.credentials_rejected_at):%Y-%m-%d %H:%M} UTC and the "
            f"credentials on this host are older: store the new ones here too with "
            f"`portal-worker credentials set {portal}`")


class CredentialStore:
    """Reads and writes portal credentials in one explicitly chosen keyring backend."""

    def __init__(self, backend: keyring.backend.KeyringBackend) -> None:
        self.backend = backend

    def version(self) -> tuple[int, int] | None:
        """What changes whenever any credential changes: the encrypted file's (mtime, size); None for an OS
        keyring, which does not say."""
        file_path = getattr(self.backend, "file_path", None)
        if not file_path:
            return None
        try:
            status = os.stat(file_path)
        except OSError:
            return (0, 0)  # not written yet
        return (status.st_mtime_ns, status.st_size)

    @property
    def description(self) -> str:
        backend = type(self.backend)
        return f"{backend.__module__}.{backend.__name__}"

    def save(self, portal: str, credentials: Credentials) -> StoredCredentials:
        stamp = datetime.now(timezone.utc).isoformat()
        blob = {
            "username": credentials.username,
            "password": credentials.password,
            "totp_secret": credentials.totp_secret,
            "security_answers": credentials.security_answers,
            "updated_at": stamp,
        }
        self.backend.set_password(SERVICE, portal, json.dumps(blob))
        file_path = getattr(self.backend, "file_path", None)
        if file_path and Path(file_path).exists():
            os.chmod(file_path, 0o600)  # encrypted, and still nobody else's business
        return StoredCredentials(credentials, stamp)

    def load(self, portal: str) -> StoredCredentials | None:
        raw = self.backend.get_password(SERVICE, portal)
        if raw is None:
            return None
        try:
            blob = json.loads(raw)
            credentials = Credentials(
                username=blob["username"],
                password=blob["password"],
                totp_secret=blob.get("totp_secret"),
                security_answers=dict(blob.get("security_answers") or {}),
            )
        except (ValueError, KeyError, TypeError):
            raise CredentialStoreUnavailable(
                f"the stored credentials for portal {portal!r} are unreadable; "
                f"set them again with `portal-worker credentials set {portal}`"
            ) from None
        return StoredCredentials(credentials, str(blob.get("updated_at", "")))

    def delete(self, portal: str) -> bool:
        try:
            self.backend.delete_password(SERVICE, portal)
        except keyring.errors.PasswordDeleteError:
            return False
        return True


def open_store(data_dir: Path) -> CredentialStore:
    """The credential store to use here, chosen on purpose, never a plaintext file.

    1. A key in $PORTAL_WORKER_KEYRING_KEY or in the file named by
       $PORTAL_WORKER_KEYRING_KEY_FILE: an encrypted file (keyrings.cryptfile,
       Argon2 + AES) in the data directory. This is the headless-server choice.
    2. Otherwise the OS keyring (Secret Service, KWallet, macOS Keychain, Windows).
    """
    key = _key_from_environment()
    if key:
        return CredentialStore(_encrypted_file_backend(data_dir / ENCRYPTED_FILE_NAME, key))
    for backend in keyring.backend.get_all_keyring():
        if type(backend).__module__ in OS_BACKEND_MODULES and backend.priority > 0:
            return CredentialStore(backend)
    raise CredentialStoreUnavailable(
        "no secure credential store on this machine (no OS keyring such as GNOME Keyring/KWallet). "
        f"On a headless server, put a long random key in a file only the service user can read and set "
        f"{KEY_FILE_ENV}=/path/to/that/file (or {KEY_ENV}); credentials are then kept encrypted in "
        f"{data_dir / ENCRYPTED_FILE_NAME}. Plaintext storage is refused."
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


def _encrypted_file_backend(path: Path, key: str) -> keyring.backend.KeyringBackend:
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    backend = CryptFileKeyring()
    backend.file_path = str(path)
    backend.keyring_key = key
    return backend
