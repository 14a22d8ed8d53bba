"""The staff workspace: `web` serves it, `users` manages who may log in to it."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from worker.cli.app import app, console, err, load_settings, open_engine
from worker.cli.paging import DEFAULT_LIMIT, LimitOption, OffsetOption, print_footer

if TYPE_CHECKING:
    from sqlmodel import Session

PANEL = "Workspace"
users_app = typer.Typer(help="Workspace users: who may log in, with which role.", no_args_is_help=True)
app.add_typer(users_app, name="users", rich_help_panel=PANEL)


@app.command(rich_help_panel=PANEL)
def web(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: [web] host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: [web] port, 8765).")] = None,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-proxy",
            help="A reverse proxy on this machine does TLS: trust its X-Forwarded-* headers, mark cookies Secure.",
        ),
    ] = False,
) -> None:
    """Serve the staff workspace (the web pages) on this machine."""
    import uvicorn

    from web.app import create_app, settle_heap
    from worker.security.listening import check_listen_address

    settings = load_settings()
    host = host or settings.web.host
    port = port or settings.web.port
    tls = settings.web.tls_cert is not None
    check_listen_address(host, tls, behind_proxy)
    engine = open_engine(settings)
    application = create_app(settings, engine, https=tls or behind_proxy)
    settle_heap()
    scheme = "https" if tls else "http"
    err.print(f"The workspace is at {scheme}://{host}:{port}/ (Ctrl+C stops it).", markup=False, highlight=False)
    uvicorn.run(
        application,
        host=host,
        port=port,
        ssl_certfile=str(settings.web.tls_cert) if settings.web.tls_cert else None,
        ssl_keyfile=str(settings.web.tls_key) if settings.web.tls_key else None,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1" if behind_proxy else None,
        server_header=False,
        log_config=None,
    )


def _new_password(generate: bool) -> str:
    """Generated, asked twice at a terminal, or one line of stdin (for scripts); never an argument, which
    would sit in the shell's history and the process list."""
    from worker.security.staff import generated_password

    if generate:
        return generated_password()
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


def _show_generated(name: str, password: str) -> None:
    console.print(f"Password (shown once, give it to {name} in person): {password}", markup=False)


GenerateOption = Annotated[
    bool, typer.Option("--generate", help="Make up a strong password and print it once, instead of asking.")
]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The login name, e.g. maria.")],
    role: Annotated[str, typer.Option(help="admin, billing, coding, front_desk or credentialing.")],
    generate: GenerateOption = False,
) -> None:
    """Add a workspace user. The password is asked for (twice), or generated and shown once."""
    from store.db import session_scope
    from worker.clock import utcnow
    from worker.security.staff import add_user

    settings = load_settings()
    password = _new_password(generate)
    with session_scope(open_engine(settings)) as session:
        add_user(session, name, role, password, utcnow())
        record_cli_audit(session, "user_added", name, f"role {role}")
    console.print(f"Added {name} ({role}).", markup=False)
    if generate:
        _show_generated(name, password)


@users_app.command("list")
def users_list() -> None:
    """Every workspace user: role, whether they may log in, last login."""
    from rich.table import Table

    from store import staff as staff_store
    from store.db import session_scope
    from web.templating import local_time
    from worker.clock import utcnow
    from worker.security.staff import user_state

    settings = load_settings()
    tz, now = settings.worker.tzinfo, utcnow()
    table = Table("Name", "Role", "State", "Last login", "Added", title=f"Workspace users ({settings.worker.timezone})")
    with session_scope(open_engine(settings)) as session:
        users = staff_store.list_users(session)
        for user in users:
            state = user_state(user, now)
            if state == "locked":
                state = f"locked until {local_time(user.locked_until, tz)}"
            table.add_row(
                user.name,
                user.role,
                state,
                local_time(user.last_login_at, tz) if user.last_login_at else "never",
                local_time(user.created_at, tz),
            )
    if not users:
        console.print("No workspace users yet: add one with `portal-worker users add NAME --role admin`.", markup=False)
        return
    console.print(table)


@users_app.command("set-password")
def users_set_password(
    name: Annotated[str, typer.Argument(help="The login name.")], generate: GenerateOption = False
) -> None:
    """Give a user a new password (asked twice, or generated); it also lifts a lockout and logs them out."""
    from store.db import session_scope
    from worker.security.staff import set_password

    settings = load_settings()
    password = _new_password(generate)
    with session_scope(open_engine(settings)) as session:
        ended = set_password(session, name, password)
        record_cli_audit(session, "password_set", name)
    console.print(f"New password set for {name}; {_sessions_ended(ended)}.", markup=False)
    if generate:
        _show_generated(name, password)


@users_app.command("set-role")
def users_set_role(
    name: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Argument(help="admin, billing, coding, front_desk or credentialing.")],
) -> None:
    """Change a user's role (the last enabled admin keeps theirs)."""
    from store.db import session_scope
    from worker.security.staff import set_role

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        set_role(session, name, role)
        record_cli_audit(session, "role_set", name, f"role {role}")
    console.print(f"{name} is now {role}.", markup=False)


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="The login name.")]) -> None:
    """Stop a user logging in, and log them out now (the last enabled admin cannot be disabled)."""
    from store.db import session_scope
    from worker.security.staff import disable_user

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        ended = disable_user(session, name)
        record_cli_audit(session, "user_disabled", name)
    console.print(f"Disabled {name}; {_sessions_ended(ended)}.", markup=False)


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Argument(help="The login name.")]) -> None:
    """Let a disabled user log in again."""
    from store.db import session_scope
    from worker.security.staff import enable_user

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        enable_user(session, name)
        record_cli_audit(session, "user_enabled", name)
    console.print(f"Enabled {name}.", markup=False)


@users_app.command("unlock")
def users_unlock(name: Annotated[str, typer.Argument(help="The login name.")]) -> None:
    """Lift a lockout after failed logins now, instead of waiting for it to run out."""
    from store.db import session_scope
    from worker.security.staff import unlock_user

    settings = load_settings()
    with session_scope(open_engine(settings)) as session:
        unlock_user(session, name)
        record_cli_audit(session, "user_unlocked", name)
    console.print(f"Unlocked {name}.", markup=False)


def _sessions_ended(count: int) -> str:
    return f"{count} open session{'s' if count != 1 else ''} ended"


def record_cli_audit(session: Session, action: str, subject: str, detail: str | None = None) -> None:
    """User management from the command line is audited too: by the operating-system user, from 'cli'."""
    from store import staff as staff_store
    from worker.clock import utcnow

    staff_store.record_audit(session, utcnow(), f"cli:{getpass.getuser()}", action, subject, "cli", detail)


@app.command(rich_help_panel=PANEL)
def audit(
    user: Annotated[str | None, typer.Option("--user", help="Only what this login name did.")] = None,
    action: Annotated[
        list[str] | None, typer.Option("--action", help="Only this action (e.g. login_failed); repeat for more.")
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only entries about this (a claim id, a login).")
    ] = None,
    limit: LimitOption = DEFAULT_LIMIT,
    offset: OffsetOption = 0,
) -> None:
    """The workspace's audit log, newest first: who saw or changed what, when, from where."""
    from rich.table import Table

    from store import staff as staff_store
    from store.db import session_scope
    from web.templating import local_time

    settings = load_settings()
    tz = settings.worker.tzinfo
    table = Table("When", "Who", "Action", "Subject", "From", "Detail", title=f"Audit log ({settings.worker.timezone})")
    with session_scope(open_engine(settings)) as session:
        page = staff_store.audit_page(session, limit, offset, user_name=user, actions=action, subject=subject)
        for entry in page.items:
            table.add_row(
                local_time(entry.at, tz, "%Y-%m-%d %H:%M:%S"),
                entry.user_name or "-",
                entry.action,
                entry.subject or "",
                entry.remote_addr or "",
                entry.detail or "",
            )
    if not page.items and not page.total:
        console.print("No audit entries match.", markup=False)
        return
    table.columns[0].no_wrap = True
    console.print(table)
    print_footer(console, page, "entries")
