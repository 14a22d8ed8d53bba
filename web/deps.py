"""What every route depends on: the store session, the logged-in staff member (CSRF checked), the clock, audit."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from store import staff as staff_store
from store.db import session_scope
from web import sessions
from web.sessions import Staff

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No live session: a page redirects to the login page, an htmx request is told to."""


class Forbidden(Exception):
    """Logged in, but this role may not do this."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back if it raises."""
    with session_scope(request.app.state.engine) as session:
        request.state.db = session  # for what a template reads while rendering (a second session would wait)
        yield session


Db = Annotated[Session, Depends(get_db)]


def now(request: Request) -> datetime:
    clock = request.app.state.clock
    moment: datetime = clock()
    return moment


Now = Annotated[datetime, Depends(now)]


def remote_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


async def current_staff(request: Request, db: Db, moment: Now) -> Staff:
    """The logged-in staff member; for POST and the like, only with the session's CSRF token."""
    # In a worker thread, not on the event loop: on SQLite the first query waits for the write lock, and a
    # request holding it commits from the thread pool, which needs the loop free (else both wait 30 s).
    staff = await run_in_threadpool(
        sessions.resume,
        db,
        request.cookies.get(sessions.COOKIE),
        request.app.state.signing_key,
        moment,
        request.app.state.settings.web,
    )
    if staff is None:
        raise LoginRequired
    if request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            form = await request.form()
            field = form.get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        if not sent or not hmac.compare_digest(sent, staff.csrf_token):
            raise CsrfRefused
    request.state.staff = staff
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def admin_staff(staff: CurrentStaff) -> Staff:
    if not staff.is_admin:
        raise Forbidden("Only an admin manages users and settings.")
    return staff


AdminStaff = Annotated[Staff, Depends(admin_staff)]


def audit(
    request: Request,
    db: Session,
    staff: Staff | None,
    action: str,
    subject: str | None = None,
    detail: str | None = None,
) -> None:
    """Write who did or saw what, when and from where, in the request's own unit of work."""
    staff_store.record_audit(
        db, now(request), staff.name if staff else None, action, subject, remote_addr(request), detail
    )
