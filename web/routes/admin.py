"""The admin pages: users and roles, the audit log, portal accounts, the schedule, the loaded settings.

Only an admin reaches them (AdminStaff); every change is audited. Users go through worker.security.staff,
the same functions as `portal-worker users`, so the web and the command line refuse the same things.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from store import accounts as account_store
from store import staff as staff_store
from web.admin_views import account_rows, scheduled_jobs, settings_view
from web.deps import AdminStaff, Db, Now, audit
from web.templating import render
from worker.security import staff as users
from worker.security.staff import ROLES, StaffRefused

router = APIRouter(prefix="/admin")
AUDIT_PAGE = 50


@router.get("")
def overview(request: Request, db: Db, staff: AdminStaff, moment: Now) -> Response:
    everyone = staff_store.list_users(db)
    locked = sum(users.user_state(user, moment) == "locked" for user in everyone)
    rows = account_rows(request.app.state.settings, account_store.all_accounts(db), moment)
    return render(
        request,
        "admin.html",
        title="Admin",
        users=len(everyone),
        admins=staff_store.count_enabled_admins(db),
        locked=locked,
        audit_total=staff_store.audit_page(db, 1).total,
        accounts=len(rows),
        accounts_need_credentials=sum(row.needs_credentials for row in rows),
        jobs=sum(job.enabled for job in scheduled_jobs(request.app.state.settings, moment)),
    )


def _users_page(
    request: Request,
    db: Db,
    moment: Now,
    *,
    notice: str | None = None,
    error: str | None = None,
    shown_password: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    everyone = staff_store.list_users(db)
    return render(
        request,
        "admin_users.html",
        status_code=status_code,
        title="Users",
        users=[(user, users.user_state(user, moment)) for user in everyone],
        roles=ROLES,
        notice=notice,
        error=error,
        shown_password=shown_password,
    )


@router.get("/users")
def users_page(request: Request, db: Db, staff: AdminStaff, moment: Now) -> Response:
    return _users_page(request, db, moment)


def _refused(request: Request, db: Db, moment: Now, exc: StaffRefused) -> Response:
    db.rollback()  # nothing half-written
    return _users_page(request, db, moment, error=f"Not done: {exc}.", status_code=400)


@router.post("/users")
def add_user(
    request: Request,
    db: Db,
    staff: AdminStaff,
    moment: Now,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    name = name.strip()
    password = users.generated_password()
    try:
        users.add_user(db, name, role, password, moment)
    except StaffRefused as exc:
        return _refused(request, db, moment, exc)
    audit(request, db, staff, "user_added", name, f"role {role}")
    return _users_page(request, db, moment, notice=f"Added {name} ({role}).", shown_password=(name, password))


@router.post("/users/{name}/password")
def reset_password(request: Request, db: Db, staff: AdminStaff, moment: Now, name: str) -> Response:
    password = users.generated_password()
    try:
        ended = users.set_password(db, name, password)
    except StaffRefused as exc:
        return _refused(request, db, moment, exc)
    audit(request, db, staff, "password_set", name, f"{ended} session(s) ended")
    return _users_page(
        request, db, moment, notice=f"New password for {name}; they were logged out.", shown_password=(name, password)
    )


@router.post("/users/{name}/role")
def change_role(
    request: Request, db: Db, staff: AdminStaff, moment: Now, name: str, role: Annotated[str, Form()] = ""
) -> Response:
    try:
        users.set_role(db, name, role)
    except StaffRefused as exc:
        return _refused(request, db, moment, exc)
    audit(request, db, staff, "role_set", name, f"role {role}")
    return _users_page(request, db, moment, notice=f"{name} is now {role}.")


@router.post("/users/{name}/disable")
def disable(request: Request, db: Db, staff: AdminStaff, moment: Now, name: str) -> Response:
    try:
        users.disable_user(db, name)
    except StaffRefused as exc:
        return _refused(request, db, moment, exc)
    audit(request, db, staff, "user_disabled", name)
    return _users_page(request, db, moment, notice=f"Disabled {name}; they were logged out.")


@router.post("/users/{name}/enable")
def enable(request: Request, db: Db, staff: AdminStaff, moment: Now, name: str) -> Response:
    try:
        users.enable_user(db, name)
    except StaffRefused as exc:
        return _refused(request, db, moment, exc)
    audit(request, db, staff, "user_enabled", name)
    return _users_page(request, db, moment, notice=f"Enabled {name}.")


@router.post("/users/{name}/unlock")
def unlock(request: Request, db: Db, staff: AdminStaff, moment: Now, name: str) -> Response:
    try:
        users.unlock_user(db, name)
    except StaffRefused as exc:
        return _refused(request, db, moment, exc)
    audit(request, db, staff, "user_unlocked", name)
    return _users_page(request, db, moment, notice=f"Unlocked {name}.")


@router.get("/audit")
def audit_log(
    request: Request,
    db: Db,
    staff: AdminStaff,
    user: Annotated[str, Query()] = "",
    action: Annotated[str, Query()] = "",
    subject: Annotated[str, Query()] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    page = staff_store.audit_page(
        db, AUDIT_PAGE, offset, user_name=user.strip() or None, actions=[action] if action else None,
        subject=subject.strip() or None,
    )  # fmt: skip
    return render(
        request,
        "admin_audit.html",
        title="Audit log",
        page=page,
        user=user,
        action=action,
        subject=subject,
        actions=staff_store.audit_actions(db),
        users=[u.name for u in staff_store.list_users(db)],
        page_size=AUDIT_PAGE,
    )


@router.get("/accounts")
def accounts(request: Request, db: Db, staff: AdminStaff, moment: Now) -> Response:
    rows = account_rows(request.app.state.settings, account_store.all_accounts(db), moment)
    return render(request, "admin_accounts.html", title="Portal accounts", rows=rows)


@router.get("/schedule")
def schedule(request: Request, staff: AdminStaff, moment: Now) -> Response:
    jobs = scheduled_jobs(request.app.state.settings, moment)
    return render(request, "admin_schedule.html", title="Schedule", jobs=jobs)


@router.get("/settings")
def settings(request: Request, staff: AdminStaff) -> Response:
    loaded = request.app.state.settings
    return render(
        request,
        "admin_settings.html",
        title="Settings",
        sections=settings_view(loaded),
        config_path=loaded.config_path,
    )
