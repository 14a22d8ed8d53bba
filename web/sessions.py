"""Who is logged in: a signed cookie holding a random token; the store keeps its hash, the user and the CSRF token.

A session ends after `idle_minutes` without a request and after `absolute_hours` in all, and at once
when its user logs out, is disabled or changes password (the row is deleted, the cookie is worthless).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, Signer
from sqlmodel import Session

from store import staff as staff_store
from store.models import StaffUser, WebSession
from worker.clock import aware
from worker.settings import WebSettings

COOKIE = "pw_session"
SECRET_FILE = "web-secret.key"  # noqa: S105  (a file name, not a secret)
# last_seen is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Staff:
    """The logged-in person, as every page and action sees them."""

    name: str
    role: str
    csrf_token: str
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def signing_key(data_dir: Path) -> bytes:
    """The installation's cookie-signing key, made on first start and readable by the service user only."""
    path = data_dir / SECRET_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user: StaffUser, key: bytes, now: datetime, remote_addr: str | None) -> tuple[str, Staff]:
    """A new session for `user`: the cookie value to set, and who they are."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_hashed(token),
        user_name=user.name,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        remote_addr=remote_addr,
    )
    staff_store.add_session(db, row)
    cookie = Signer(key, salt="portal-worker-session").sign(token).decode()
    return cookie, Staff(user.name, user.role, row.csrf_token, row.id)


def resume(db: Session, cookie: str | None, key: bytes, now: datetime, web: WebSettings) -> Staff | None:
    """The staff member behind `cookie`, or None: no cookie, a forged one, or a session that has ended."""
    if not cookie:
        return None
    try:
        token = Signer(key, salt="portal-worker-session").unsign(cookie).decode()
    except BadSignature:
        return None
    row = staff_store.get_session(db, _hashed(token))
    if row is None:
        return None
    idle = now - aware(row.last_seen_at) > timedelta(minutes=web.idle_minutes)
    too_old = now - aware(row.created_at) > timedelta(hours=web.absolute_hours)
    user = staff_store.get_user(db, row.user_name)
    if idle or too_old or user is None or user.disabled:
        staff_store.end_session(db, row.id)
        return None
    if now - aware(row.last_seen_at) >= TOUCH_EVERY:
        staff_store.touch_session(db, row, now)
    return Staff(user.name, user.role, row.csrf_token, row.id)


def end(db: Session, staff: Staff) -> None:
    staff_store.end_session(db, staff.session_id)
