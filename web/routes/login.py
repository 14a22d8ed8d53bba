"""Logging in and out: Argon2id passwords, lockout after repeated failures, every attempt in the audit log."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from store import staff as staff_store
from web import sessions
from web.deps import CSRF_FIELD, CurrentStaff, Db, Now, audit, remote_addr
from web.templating import local_time, render
from worker.clock import aware
from worker.security.staff import NAME_PATTERN, check_needs_rehash, dummy_hash, hash_password, verify_password

router = APIRouter()
log = structlog.get_logger("web.login")
LOGIN_COOKIE = "pw_login"  # double-submit token: a login form posted from another site is refused
WRONG = "That login name and password do not match."


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker could send someone to."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers read a backslash as a slash ("/\\evil.example" is "//evil.example") and drop tabs and newlines.
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return "/"
    return target


def _login_page(request: Request, error: str | None = None, name: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        error=error,
        name=name,
        login_token=token,
        next=_safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.https, path="/login"
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    db: Db,
    moment: Now,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    sent = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not csrf_token or not hmac.compare_digest(sent, csrf_token):
        return _login_page(request, "Your login form had expired; please log in again.", name, 400)
    web = request.app.state.settings.web
    name = name.strip()
    user = staff_store.get_user(db, name) if name else None
    if user is None or user.disabled:
        verify_password(dummy_hash(), password)  # as slow as a known name: the timing does not tell names apart
        # A password typed into the name box must not reach the log: only what could be a login name does.
        tried = name if NAME_PATTERN.fullmatch(name) else "(not a login name)"
        audit(request, db, None, "login_failed", tried, "unknown or disabled login name")
        log.warning("login_failed", login_name=tried, remote_addr=remote_addr(request), why="unknown name")
        return _login_page(request, WRONG, name, 401)
    if user.locked_until and aware(user.locked_until) > moment:
        audit(request, db, None, "login_refused_locked", user.name)
        log.warning("login_refused_locked", login_name=user.name, remote_addr=remote_addr(request))
        until = local_time(user.locked_until, request.app.state.tz, "%H:%M")
        return _login_page(
            request,
            f"This account is locked after too many failed logins, until {until}, or until an admin unlocks it.",
            name,
            423,
        )
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        detail = f"wrong password ({user.failed_logins} in a row)"
        if user.failed_logins >= web.lockout_attempts:
            user.locked_until = moment + timedelta(minutes=web.lockout_minutes)
            detail += f"; locked for {web.lockout_minutes} min"
            audit(request, db, None, "account_locked", user.name, detail)
            log.warning("account_locked", login_name=user.name, remote_addr=remote_addr(request))
        else:
            audit(request, db, None, "login_failed", user.name, detail)
            log.warning("login_failed", login_name=user.name, remote_addr=remote_addr(request), why="wrong password")
        staff_store.save_user(db, user)
        return _login_page(request, WRONG, name, 401)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = moment
    if check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    staff_store.save_user(db, user)
    # Sessions nobody came back to are forgotten here: a login is rare enough, and needs no job of its own.
    staff_store.end_sessions_before(
        db, moment - timedelta(hours=web.absolute_hours), moment - timedelta(minutes=web.idle_minutes)
    )
    cookie, staff = sessions.start(db, user, request.app.state.signing_key, moment, remote_addr(request))
    audit(request, db, staff, "login", user.name)
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    response.set_cookie(
        sessions.COOKIE, cookie, httponly=True, samesite="lax", secure=request.app.state.https, path="/"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, db: Db, staff: CurrentStaff) -> Response:
    sessions.end(db, staff)
    audit(request, db, staff, "logout", staff.name)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
