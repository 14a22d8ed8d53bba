"""The claim page's "Build appeal packet" button in Chromium: staff build a denial's packet with a PDF of their
own and get it as a download (read back with pypdf), a non-PDF is refused with nothing written, the packet is
served only to logged-in staff, and building and downloading are audited. Screenshots at 1280 and 390 px go to
test-results/screenshots/appeal-packet-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import col, select

from store.db import session_scope
from store.models import AuditEntry
from tests.appeal_packet_support import (
    CLAIM_ID,
    PATIENT,
    PacketStore,
    add_test_denial,
    packet_store,
    read_packet,
    text_pdf,
)
from tests.test_web_search import csrf_of, logged_in
from tests.web_support import MovableClock, RunningWorkspace, add_test_users, serve

SHOTS = Path("test-results/screenshots")


@pytest.fixture
def held(tmp_path: Path) -> Iterator[PacketStore]:
    (tmp_path / "install").mkdir()
    store = packet_store(tmp_path / "install")
    add_test_users(store.engine)
    yield store
    store.engine.dispose()


@pytest.fixture
def ws(held: PacketStore) -> Iterator[RunningWorkspace]:
    yield from serve(held.settings, held.engine, MovableClock(), held.config_path)


def audited(ws: RunningWorkspace, denial_id: int) -> list[tuple[str, str]]:
    with session_scope(ws.engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.subject == str(denial_id)).order_by(col(AuditEntry.id)))
        return [(row.action, row.user_name or "") for row in rows]


def card(page: Page, denial_id: int) -> Locator:
    return page.locator(f"#denial-{denial_id}")


def test_billing_builds_a_packet_with_its_own_pdf_and_downloads_it(
    page: Page, ws: RunningWorkspace, held: PacketStore, tmp_path: Path
) -> None:
    hard = add_test_denial(held, "medical_necessity")
    soft = add_test_denial(held, "coding", kind="soft", carc="4", rarcs=("N519",))
    ws.login(page)
    page.goto(f"{ws.url}/claims/{CLAIM_ID}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"appeal-packet-claim-{width}.png"), full_page=True)

    records = tmp_path / f"{PATIENT} records.pdf"  # a file name naming the patient stays out of ours
    records.write_bytes(text_pdf("PROGRESS NOTES for the appeal"))
    form = card(page, hard).get_by_role("form", name=f"Appeal packet for denial {hard}")
    form.get_by_label("PDFs to merge in").set_input_files(str(records))
    with page.expect_download() as downloading:
        form.get_by_role("button", name="Build appeal packet").click()
    download = downloading.value
    assert download.suggested_filename == f"denial-{hard}.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    read = read_packet(saved)
    assert read.titles[0] == "Cover letter: reconsideration" and "Attachment 1" in read.titles
    assert read.texts[read.titles.index("Attachment 1")] == "PROGRESS NOTES for the appeal"
    kept = held.packets / f"denial-{hard}.pdf"
    assert kept.read_bytes() == saved.read_bytes() and kept.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in held.packets.iterdir()] == [kept.name]  # the upload is not kept
    assert audited(ws, hard)[-2:] == [("appeal_packet_built", "bea"), ("appeal_packet_downloaded", "bea")]

    with page.expect_download() as downloading:
        card(page, soft).get_by_role("button", name="Build appeal packet").click()
    soft_saved = tmp_path / "soft.pdf"
    downloading.value.save_as(soft_saved)
    assert read_packet(soft_saved).titles[0] == "Correction sheet"


def test_a_non_pdf_is_refused_and_nothing_is_written(
    page: Page, ws: RunningWorkspace, held: PacketStore, tmp_path: Path
) -> None:
    denial_id = add_test_denial(held, "coding")
    ws.login(page)
    page.goto(f"{ws.url}/claims/{CLAIM_ID}")
    notes = tmp_path / "notes.pdf"
    notes.write_text("typed notes, not a PDF")
    card(page, denial_id).get_by_label("PDFs to merge in").set_input_files(str(notes))
    card(page, denial_id).get_by_role("button", name="Build appeal packet").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Attachment 1 (attachment-1.pdf): is not a PDF file. Nothing was written."
    )
    page.set_viewport_size({"width": 390, "height": 900})
    page.screenshot(path=str(SHOTS / "appeal-packet-refused-390.png"), full_page=True)
    page.get_by_role("link", name="Back to the claim").click()
    expect(page.get_by_role("heading", name=f"Claim {CLAIM_ID}")).to_be_visible()
    assert not held.packets.exists() or not any(held.packets.rglob("*"))
    assert audited(ws, denial_id)[-1] == ("appeal_packet_refused", "bea")


def test_the_packet_is_only_for_logged_in_staff_and_needs_the_csrf_token(
    ws: RunningWorkspace, held: PacketStore
) -> None:
    denial_id = add_test_denial(held, "coding")
    url = f"/claims/{CLAIM_ID}/denials/{denial_id}/packet"
    stranger = httpx.Client(base_url=ws.url, follow_redirects=False, timeout=10)
    assert stranger.get(f"{url}.pdf").status_code in (303, 401)
    assert stranger.post(url).status_code in (303, 401, 403)
    client = logged_in(ws)
    assert client.post(url, data={"csrf_token": "wrong"}).status_code == 403
    assert client.get(f"{url}.pdf").status_code == 404  # not built yet
    assert (
        client.post(
            f"/claims/{CLAIM_ID}/denials/999/packet", data={"csrf_token": csrf_of(client, f"/claims/{CLAIM_ID}")}
        ).status_code
        == 404
    )
    assert not held.packets.exists()
