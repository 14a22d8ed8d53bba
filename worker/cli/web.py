"""The staff workspace: `web` serves it, `users` manages who may log in to it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from worker.cli.app import app, console, err, load_settings, open_engine

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

    from web.app import create_app
    from worker.security.listening import check_listen_address

    settings = load_settings()
    host = host or settings.web.host
    port = port or settings.web.port
    tls = settings.web.tls_cert is not None
    check_listen_address(host, tls, behind_proxy)
    engine = open_engine(settings)
    application = create_app(settings, engine, https=tls or behind_proxy)
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


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The login name, e.g. maria.")],
    role: Annotated[str, typer.Option(help="admin, billing, coding, front_desk or credentialing.")],
    generate: Annotated[
        bool, typer.Option("--generate", help="Make up a strong password and print it once, instead of asking.")
    ] = False,
) -> None:
    """Add a workspace user. The password is asked for (twice), or generated and shown once."""
    from store.db import session_scope
    from worker.clock import utcnow
    from worker.security.staff import add_user, generated_password

    settings = load_settings()
    if generate:
        password = generated_password()
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with session_scope(open_engine(settings)) as session:
        add_user(session, name, role, password, utcnow())
    console.print(f"Added {name} ({role}).", markup=False)
    if generate:
        console.print(f"Password (shown once, give it to {name} in person): {password}", markup=False)
