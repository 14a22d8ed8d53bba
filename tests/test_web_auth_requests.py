"""The workspace's "Request authorization" form and list in Chromium: the front desk queues a request with its
PDF, a double click queues it once, a bad field or a non-PDF is refused with nothing written, a role that does
not own prior auths gets no form, and every queueing is in the audit log. Screenshots at 1280 and 390 px go to
test-results/screenshots/auth-requests-*.png."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import col, select

from store.db import session_scope
from store.models import AuditEntry, AuthRequestRow
from tests.web_support import RunningWorkspace

SHOTS = Path("test-results/screenshots")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NPI = "1234567893"  # a valid check digit, synthetic
MEMBER = "UHP9000123"


def fill(page: Page, tmp_path: Path, *, attachment: bytes = PDF, end: date | None = None) -> None:
    start = date.today() + timedelta(days=7)
    form = page.get_by_role("region", name="Request authorization")
    form.get_by_label("Payer").select_option("UHP")
    form.get_by_label("Member ID").fill(MEMBER)
    form.get_by_label("Date of birth").fill("1961-04-09")
    form.get_by_label("Servicing NPI").fill(NPI)
    form.get_by_label("Procedure codes").fill("97110;97140")
    form.get_by_label("Units").fill("12")
    form.get_by_label("From").fill(start.isoformat())
    form.get_by_label("To").fill((end or start + timedelta(days=60)).isoformat())
    form.get_by_label("Diagnosis codes").fill("M54.50")
    notes = tmp_path / "clinical-notes.pdf"
    notes.write_bytes(attachment)
    form.get_by_label("Attachments (PDF)").set_input_files(str(notes))


def stored(ws: RunningWorkspace) -> list[AuthRequestRow]:
    with session_scope(ws.engine) as session:
        return list(session.exec(select(AuthRequestRow)))


def uploads(ws: RunningWorkspace) -> list[Path]:
    folder = ws.settings.worker.data_dir / "auth-requests"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_the_front_desk_queues_a_request_once_even_on_a_double_click(
    page: Page, empty_web: RunningWorkspace, tmp_path: Path
) -> None:
    ws = empty_web
    ws.login(page, "front_desk")
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.get_by_role("link", name="Prior-auth requests").click()
    expect(page.get_by_role("heading", name="Prior-authorization requests")).to_be_visible()
    fill(page, tmp_path)
    # A double click, or a slow network's second press: the same form posted twice at once. (Chromium itself
    # sends one POST for a double click, so the page's own fetch posts it twice, concurrently.)
    answers = page.evaluate(
        """async () => {
            const form = document.querySelector('form[action="/auth-requests"]');
            const post = () => fetch('/auth-requests', {method: 'POST', body: new FormData(form)});
            return (await Promise.all([post(), post()])).map(r => r.status);
        }"""
    )
    assert answers == [200, 200]  # each followed its redirect to the list
    page.goto(f"{ws.url}/auth-requests")
    [row] = stored(ws)
    assert (row.state, row.queued_by, row.payer_id, row.procedure_codes) == (
        "queued",
        "fran",
        "UHP",
        ["97110", "97140"],
    )
    [saved] = uploads(ws)
    assert saved.read_bytes() == PDF and saved.stat().st_mode & 0o777 == 0o600 and row.attachments == [str(saved)]
    listed = page.get_by_role("row").filter(has_text=row.request_id)
    expect(listed).to_contain_text("queued")
    expect(listed).not_to_contain_text(MEMBER)

    fill(page, tmp_path)  # the same request again, on purpose this time
    page.get_by_role("button", name="Queue request").click()
    expect(page.get_by_role("status")).to_contain_text(f"Already queued as {row.request_id}")
    assert len(stored(ws)) == 1 and len(uploads(ws)) == 1
    with session_scope(ws.engine) as session:
        actions = list(session.exec(select(AuditEntry.action).where(col(AuditEntry.subject) == row.request_id)))
    assert "auth_request_queued" in actions and "auth_request_again" in actions

    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"auth-requests-{width}.png"), full_page=True)


def test_a_bad_field_or_a_non_pdf_is_refused_and_nothing_is_written(
    page: Page, empty_web: RunningWorkspace, tmp_path: Path
) -> None:
    ws = empty_web
    ws.login(page, "billing")
    page.goto(f"{ws.url}/auth-requests")
    fill(page, tmp_path, attachment=b"just text, not a PDF")
    page.get_by_role("button", name="Queue request").click()
    expect(page.get_by_role("alert")).to_have_text("Attachments: attachment 1 is not a PDF file")
    expect(page.get_by_role("region", name="Request authorization").get_by_label("Member ID")).to_have_value(MEMBER)

    fill(page, tmp_path, end=date.today())
    page.get_by_role("button", name="Queue request").click()
    expect(page.get_by_role("alert")).to_have_text("To: is before From")
    page.set_viewport_size({"width": 390, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "auth-requests-refused-390.png"), full_page=True)
    assert stored(ws) == [] and uploads(ws) == []


def test_a_role_that_does_not_own_prior_auths_sees_the_list_but_cannot_queue(
    page: Page, empty_web: RunningWorkspace
) -> None:
    ws = empty_web
    ws.login(page, "coding")
    page.goto(f"{ws.url}/auth-requests")
    expect(page.get_by_role("heading", name="Prior-authorization requests")).to_be_visible()
    expect(page.get_by_role("region", name="Request authorization")).to_have_count(0)
    token = page.evaluate("() => document.cookie")  # the session cookie is HttpOnly: not here
    assert "session" not in token
    csrf = page.locator("input[name=csrf_token]").first
    assert csrf.count() == 1  # the log-out form carries it
    answer = page.request.post(
        f"{ws.url}/auth-requests", multipart={"csrf_token": csrf.input_value(), "payer_id": "UHP"}
    )
    assert answer.status == 403
    assert stored(ws) == []
