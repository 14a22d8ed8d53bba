"""The workspace's protections, checked at the protocol level (httpx over the real app; no browser adds
anything here): login required, lockout, session lifetimes, CSRF, CSP and no inline code on any page,
cookie flags, open redirects, and `portal-worker web` refusing a public address without TLS."""

from __future__ import annotations

import html
import json
import re
import socket
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import select

from store import staff as staff_store
from store.db import session_scope
from store.models import AuditEntry
from tests.cli_support import ENTRY_POINT, portal_worker
from tests.web_support import PASSWORDS, USER_OF_ROLE, RunningWorkspace
from web.app import create_app

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_token(client: httpx.Client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = TOKEN.search(page.text)
    assert found is not None
    return html.unescape(found.group(1))


def log_in(client: httpx.Client, role: str = "admin", next_path: str = "/admin") -> str:
    """Log in through the form as the test user of `role`; the session's CSRF token for later POSTs."""
    token = login_token(client)
    sent = client.post(
        "/login",
        data={"name": USER_OF_ROLE[role], "password": PASSWORDS[role], "csrf_token": token, "next": next_path},
    )
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"])
    found = TOKEN.search(page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


def client_of(workspace: RunningWorkspace) -> httpx.Client:
    return httpx.Client(base_url=workspace.url, follow_redirects=False, timeout=10)


def audit_actions(workspace: RunningWorkspace) -> list[tuple[str, str | None]]:
    with session_scope(workspace.engine) as session:
        return [(e.action, e.subject) for e in staff_store.audit_page(session, 0).items]


def test_pages_need_a_login_and_the_login_returns_to_the_page(empty_web: RunningWorkspace) -> None:
    with client_of(empty_web) as client:
        refused = client.get("/admin/audit?user=ada")
        assert refused.status_code == 303
        assert refused.headers["location"] == "/login?next=/admin/audit%3Fuser%3Dada"
        htmx = client.get("/admin/users", headers={"HX-Request": "true"})
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login?next=")

        form = client.get(refused.headers["location"])
        assert 'name="next" value="/admin/audit?user=ada"' in form.text
        token = html.unescape(TOKEN.search(form.text).group(1))  # type: ignore[union-attr]
        sent = client.post(
            "/login",
            data={"name": "ada", "password": PASSWORDS["admin"], "csrf_token": token, "next": "/admin/audit?user=ada"},
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/admin/audit?user=ada"
        assert client.get("/admin/audit?user=ada").status_code == 200
    assert ("login", "ada") in audit_actions(empty_web)


def test_the_login_never_sends_anyone_to_another_site(empty_web: RunningWorkspace) -> None:
    with client_of(empty_web) as client:
        evils = ("https://evil.example", "//evil.example/x", "/\\evil.example", "/\tevil.example", "javascript:x")
        for evil in evils:
            form = client.get("/login", params={"next": evil})
            assert "evil.example" not in form.text and "javascript:" not in form.text
            token = login_token(client)
            sent = client.post(
                "/login", data={"name": "bea", "password": PASSWORDS["billing"], "csrf_token": token, "next": evil}
            )
            assert sent.status_code == 303
            assert sent.headers["location"] == "/", evil


def test_the_login_form_refuses_a_post_without_its_double_submit_token(empty_web: RunningWorkspace) -> None:
    with client_of(empty_web) as client:
        login_token(client)
        for token in ("", "forged-token"):
            sent = client.post("/login", data={"name": "ada", "password": PASSWORDS["admin"], "csrf_token": token})
            assert sent.status_code == 400
            assert "login form had expired" in sent.text
            assert "pw_session" not in sent.cookies
    with client_of(empty_web) as fresh:  # a form posted from elsewhere: no login cookie at all
        sent = fresh.post("/login", data={"name": "ada", "password": PASSWORDS["admin"], "csrf_token": "x"})
        assert sent.status_code == 400
    assert "login" not in [action for action, _ in audit_actions(empty_web)]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(empty_web: RunningWorkspace) -> None:
    with client_of(empty_web) as client:
        token = log_in(client, "admin")
        before = audit_actions(empty_web)
        for headers, data in (
            ({}, {"name": "mallory", "role": "admin"}),
            ({}, {"name": "mallory", "role": "admin", "csrf_token": "wrong"}),
            ({"X-CSRF-Token": "wrong"}, {"name": "mallory", "role": "admin"}),
        ):
            refused = client.post("/admin/users", data=data, headers=headers)
            assert refused.status_code == 403
            assert "no valid security token" in refused.text
        assert client.post("/admin/users/bea/disable").status_code == 403
        assert client.post("/logout").status_code == 403
        with session_scope(empty_web.engine) as session:
            assert staff_store.get_user(session, "mallory") is None
            bea = staff_store.get_user(session, "bea")
            assert bea is not None and not bea.disabled
        assert audit_actions(empty_web) == before
        assert client.get("/admin").status_code == 200  # still logged in: the refused logout did nothing

        # The same requests with the token go through: the header (htmx) or the form field.
        new_user = {"name": "mallory", "role": "billing"}
        added = client.post("/admin/users", data=new_user, headers={"X-CSRF-Token": token})
        assert added.status_code == 200 and "mallory" in added.text
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
        assert client.get("/admin").status_code == 303


def test_wrong_passwords_lock_the_account_and_the_lockout_is_audited_without_the_password(
    empty_web: RunningWorkspace,
) -> None:
    attempts = empty_web.settings.web.lockout_attempts
    wrong = "not-the-password-xyzzy"
    with client_of(empty_web) as client:
        for _ in range(attempts):
            sent = client.post("/login", data={"name": "bea", "password": wrong, "csrf_token": login_token(client)})
            assert sent.status_code == 401
            assert "do not match" in sent.text
        right = {"name": "bea", "password": PASSWORDS["billing"]}
        locked = client.post("/login", data={**right, "csrf_token": login_token(client)})
        assert locked.status_code == 423
        assert "locked after too many failed logins" in locked.text
        assert "pw_session" not in locked.cookies

        empty_web.clock.advance(timedelta(minutes=empty_web.settings.web.lockout_minutes + 1))
        assert client.post("/login", data={**right, "csrf_token": login_token(client)}).status_code == 303

    with client_of(empty_web) as client:  # a password typed into the name box is not kept either
        client.post("/login", data={"name": "Bea's Pass word!", "password": "x", "csrf_token": login_token(client)})
    assert ("login_failed", "(not a login name)") in audit_actions(empty_web)

    actions = [action for action, subject in audit_actions(empty_web) if subject == "bea"]
    assert actions == ["login", "login_refused_locked", "account_locked"] + ["login_failed"] * (attempts - 1)
    with session_scope(empty_web.engine) as session:
        rows = list(session.exec(select(AuditEntry)))
    assert all(wrong not in json.dumps(row.model_dump(mode="json")) for row in rows)


def test_an_idle_session_ends_and_so_does_an_old_one(empty_web: RunningWorkspace) -> None:
    web = empty_web.settings.web
    with client_of(empty_web) as client:
        log_in(client, "admin")
        empty_web.clock.advance(timedelta(minutes=web.idle_minutes - 1))
        assert client.get("/admin").status_code == 200
        empty_web.clock.advance(timedelta(minutes=web.idle_minutes + 1))
        expired = client.get("/admin")
        assert expired.status_code == 303 and expired.headers["location"].startswith("/login")

        log_in(client, "admin")
        step = timedelta(minutes=web.idle_minutes - 1)
        lived = timedelta()
        while lived + step <= timedelta(hours=web.absolute_hours):
            empty_web.clock.advance(step)
            lived += step
            assert client.get("/admin").status_code == 200, f"ended after {lived}"
        empty_web.clock.advance(step)  # busy all along, but past the absolute lifetime
        assert client.get("/admin").status_code == 303


def test_a_billing_user_cannot_manage_users(empty_web: RunningWorkspace) -> None:
    with client_of(empty_web) as client:
        token = log_in(client, "billing", next_path="/admin")  # the session's token, from the 403 page's logout form
        for path in ("/admin", "/admin/users", "/admin/audit", "/admin/accounts", "/admin/schedule", "/admin/settings"):
            page = client.get(path)
            assert page.status_code == 403, path
            assert "Only an admin manages users and settings." in page.text
            assert 'href="/admin"' not in page.text  # no Admin link in the nav either
        refused = client.post("/admin/users", data={"name": "eve", "role": "admin", "csrf_token": token})
        assert refused.status_code == 403 and "Only an admin" in refused.text  # not a CSRF refusal
        assert client.post("/admin/users/ada/disable", data={"csrf_token": token}).status_code == 403
        assert client.post("/admin/users/bea/role", data={"role": "admin", "csrf_token": token}).status_code == 403
    with session_scope(empty_web.engine) as session:
        assert staff_store.get_user(session, "eve") is None
        ada, bea = staff_store.get_user(session, "ada"), staff_store.get_user(session, "bea")
        assert ada is not None and not ada.disabled and bea is not None and bea.role == "billing"
        entries = staff_store.audit_page(session, 0).items
        assert "user_added" not in [e.action for e in entries]
        refusals = [e.subject for e in entries if e.action == "forbidden" and e.user_name == "bea"]
        assert "GET /admin/users" in refusals and "POST /admin/users/ada/disable" in refusals
        assert len(refusals) == 10  # the landing page after login, 6 pages, 3 posts


class InlineCode(HTMLParser):
    """Whatever the CSP would block: a <script> without src, a style= or on*= attribute, a <style> element."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower() for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"<{tag} {name}=>" for name in names if name == "style" or name.startswith("on")]


def test_every_page_has_the_csp_and_no_inline_script_or_style(empty_web: RunningWorkspace) -> None:
    """Walks every GET route without a path parameter, as admin, so pages added later are covered too."""
    app = create_app(empty_web.settings, empty_web.engine, clock=empty_web.clock)
    # FastAPI keeps included routers' routes behind a private wrapper; its OpenAPI description lists them all.
    described = {path for path, methods in app.openapi()["paths"].items() if "get" in methods}
    direct = {route.path for route in app.routes if isinstance(route, APIRoute) and "GET" in (route.methods or ())}
    paths = sorted(path for path in described | direct if "{" not in path)
    assert {"/login", "/admin", "/admin/users", "/admin/audit", "/admin/settings"} <= set(paths)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/login").headers["content-security-policy"].startswith("default-src 'self'")
        log_in(client, "admin")
        for path in paths:
            page = client.get(path)
            assert page.status_code < 500, path
            policy = page.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
            assert page.headers["x-content-type-options"] == "nosniff"
            assert page.headers["cache-control"] == "no-store", path
            if page.headers.get("content-type", "").startswith("text/html"):
                parser = InlineCode()
                parser.feed(page.text)
                assert parser.found == [], f"{path}: {parser.found}"
        assert client.get("/static/app.css").headers["content-security-policy"]


def test_session_cookies_are_httponly_samesite_and_secure_over_https(empty_web: RunningWorkspace) -> None:
    for https in (False, True):
        app = create_app(empty_web.settings, empty_web.engine, https=https, clock=empty_web.clock)
        base = "https://testserver" if https else "http://testserver"
        with TestClient(app, base_url=base, follow_redirects=False) as client:
            form = client.get("/login")
            token = html.unescape(TOKEN.search(form.text).group(1))  # type: ignore[union-attr]
            sent = client.post("/login", data={"name": "ada", "password": PASSWORDS["admin"], "csrf_token": token})
        set_cookies = form.headers.get_list("set-cookie") + sent.headers.get_list("set-cookie")
        cookies = {c.split("=", 1)[0]: c.lower() for c in set_cookies if "max-age=0" not in c.lower()}
        for name in ("pw_login", "pw_session"):
            assert "httponly" in cookies[name], name
            assert "samesite=" in cookies[name], name
            assert ("secure" in cookies[name].split("; ")) is https, (name, https)
        if https:
            assert sent.headers["strict-transport-security"].startswith("max-age=")


def test_web_refuses_a_public_address_without_tls(empty_web: RunningWorkspace) -> None:
    ran = portal_worker("--config", str(empty_web.config_path), "web", "--host", "0.0.0.0")  # noqa: S104
    assert ran.returncode == 2
    assert "refusing to serve the workspace on 0.0.0.0" in ran.stderr
    assert "--behind-proxy" in ran.stderr and "tls_cert" in ran.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_web_serves_and_logs_a_lockout_without_the_password(tmp_path: Path, empty_web: RunningWorkspace) -> None:
    """The real command on a real port: the login page answers, and a lockout reaches the log file, never
    the password that was tried."""
    port = free_port()
    wrong = "wrong-password-plugh-1234"
    server = subprocess.Popen(
        [str(ENTRY_POINT), "--config", str(empty_web.config_path), "web", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Connection refusals while it starts are retried (with back-off) by the transport.
        transport = httpx.HTTPTransport(retries=10)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, transport=transport) as client:
            first = client.get("/login")
            assert first.status_code == 200 and "Log in" in first.text
            for _ in range(empty_web.settings.web.lockout_attempts + 1):
                client.post("/login", data={"name": "cody", "password": wrong, "csrf_token": login_token(client)})
            locked = client.post(
                "/login", data={"name": "cody", "password": PASSWORDS["coding"], "csrf_token": login_token(client)}
            )
            assert locked.status_code == 423
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    log = (empty_web.settings.worker.data_dir / "logs" / "portal-worker.jsonl").read_text()
    events = [json.loads(line) for line in log.splitlines()]
    assert any(e["event"] == "account_locked" and e.get("login_name") == "cody" for e in events)
    assert wrong not in log and PASSWORDS["coding"] not in log and wrong not in out + err
