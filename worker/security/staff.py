"""Workspace users: roles, and passwords kept as Argon2id hashes (argon2-cffi's defaults, RFC 9106's
low-memory profile). The CLI's `users` commands and the workspace's admin page both go through here."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from store import staff as staff_store
from store.models import StaffUser
from worker.clock import aware

HASHER = PasswordHasher()
MIN_LENGTH = 12
ROLES = ("admin", "billing", "coding", "front_desk", "credentialing")
# The department each role's queues open on; admin sees every department.
ROLE_DEPARTMENT = {
    "billing": "billing",
    "coding": "coding",
    "front_desk": "front_desk",
    "credentialing": "credentialing",
}


NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class StaffRefused(ValueError):
    """A user that cannot be added or changed as asked; the message says why (never the password)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise StaffRefused(f"a password needs at least {MIN_LENGTH} characters")
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


def generated_password() -> str:
    """A password for a new user, shown once: 20 URL-safe characters, about 120 bits."""
    return secrets.token_urlsafe(15)


@cache
def dummy_hash() -> str:
    """Verified against when the login name is unknown, so a wrong name takes as long as a wrong password."""
    return HASHER.hash(secrets.token_urlsafe(15))


def add_user(session: Session, name: str, role: str, password: str, at: datetime) -> StaffUser:
    if not NAME_PATTERN.fullmatch(name):
        raise StaffRefused(
            f"login name {name!r} must be 1-64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise StaffRefused(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if staff_store.get_user(session, name) is not None:
        raise StaffRefused(f"there is already a user named {name!r}")
    user = StaffUser(name=name, role=role, password_hash=hash_password(password), created_at=at)
    staff_store.save_user(session, user)
    return user


def require_user(session: Session, name: str) -> StaffUser:
    user = staff_store.get_user(session, name)
    if user is None:
        raise StaffRefused(f"there is no user named {name!r}")
    return user


def _keep_an_admin(session: Session, user: StaffUser, doing: str) -> None:
    """Nobody could manage users any more: refused while `user` is the last enabled admin."""
    if user.role == "admin" and not user.disabled and staff_store.count_enabled_admins(session) <= 1:
        raise StaffRefused(f"{user.name!r} is the last enabled admin: add another admin before you {doing}")


def set_password(session: Session, name: str, password: str) -> int:
    """A new password (it also lifts a lockout); ends the user's sessions, returns how many."""
    user = require_user(session, name)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    staff_store.save_user(session, user)
    return staff_store.end_sessions_of(session, name)


def set_role(session: Session, name: str, role: str) -> StaffUser:
    if role not in ROLES:
        raise StaffRefused(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    user = require_user(session, name)
    if role != "admin":
        _keep_an_admin(session, user, f"make {name!r} {role}")
    user.role = role
    staff_store.save_user(session, user)
    return user


def disable_user(session: Session, name: str) -> int:
    """The user can no longer log in; ends their sessions, returns how many."""
    user = require_user(session, name)
    _keep_an_admin(session, user, f"disable {name!r}")
    user.disabled = True
    staff_store.save_user(session, user)
    return staff_store.end_sessions_of(session, name)


def enable_user(session: Session, name: str) -> StaffUser:
    user = require_user(session, name)
    user.disabled = False
    staff_store.save_user(session, user)
    return user


def unlock_user(session: Session, name: str) -> StaffUser:
    """Lift a lockout after failed logins now, instead of when it runs out."""
    user = require_user(session, name)
    user.failed_logins = 0
    user.locked_until = None
    staff_store.save_user(session, user)
    return user


def user_state(user: StaffUser, now: datetime) -> str:
    """In words: active, disabled, or locked (with until when, UTC: callers show it in local time)."""
    if user.disabled:
        return "disabled"
    if user.locked_until is not None and aware(user.locked_until) > now:
        return "locked"
    return "active"
