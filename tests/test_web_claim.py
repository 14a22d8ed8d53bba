"""The claim page: a billing person's whole story with one denied claim, and the refusals around it.

Evidence: the checked store keeps the claims' pages on first sight (tests/test_claim_evidence_web.py); these
tests put files and rows of their own in too, one of them pointing outside the evidence folder.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from flows.denial_codes import describe_carc
from store.db import session_scope
from store.denials import add_denial
from store.evidence import add_evidence
from store.models import AuditEntry, Claim, ClaimStatusObservation, Denial, DenialEvent, Evidence, Task
from tests.test_web_search import SCREENSHOTS, add_claims, browser_login, csrf_of, logged_in
from tests.web_support import USER_OF_ROLE, RunningWorkspace
from worker.runtime.evidence import evidence_dir

SCRIPT_NAME = "<script>alert(1)</script>"
# a 1x1 PNG: enough for the browser to decode and show
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def keep_evidence(workspace: RunningWorkspace, claim_id: str) -> tuple[int, int]:
    """A screenshot and saved page kept for `claim_id`, and a row whose path climbs out with ../."""
    data_dir = workspace.settings.worker.data_dir
    folder = evidence_dir(data_dir) / "unity"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{claim_id}-shot.png").write_bytes(PNG)
    (folder / f"{claim_id}-page.html").write_text("<html><body><script>alert('payer')</script>Claim page</body></html>")
    (data_dir / "outside.png").write_bytes(PNG)
    with session_scope(workspace.engine) as session:
        kept = add_evidence(
            session,
            Evidence(
                created_at=AT,
                portal="unity",
                claim_id=claim_id,
                reason="the status page had no status table",
                url="https://portal.invalid/claims",
                screenshot_path=str(folder / f"{claim_id}-shot.png"),
                html_path=str(folder / f"{claim_id}-page.html"),
            ),
        )
        climbing = add_evidence(
            session,
            Evidence(
                created_at=AT,
                portal="unity",
                claim_id=None,
                reason="planted",
                url="https://portal.invalid/",
                screenshot_path=str(evidence_dir(data_dir) / "unity" / ".." / ".." / "outside.png"),
            ),
        )
    return kept, climbing


def audit_count(session: Session, action: str, subject: str) -> int:
    rows = session.exec(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.subject == subject))
    return len(list(rows))


def test_a_billing_person_works_a_denied_claim(web: RunningWorkspace, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))  # a handled dialog is dismissed
    with session_scope(web.engine) as session:
        denial = session.exec(
            select(Denial).where(col(Denial.claim_id).is_not(None), Denial.status == "open").order_by(col(Denial.id))
        ).first()
        assert denial is not None and denial.claim_id and denial.id
        claim_id, denial_id, carc = denial.claim_id, denial.id, denial.carc
        claim = session.get(Claim, claim_id)
        assert claim is not None
        claim.patient_name = SCRIPT_NAME  # the PM system sent markup as a name: it is shown as text
        session.add(claim)
        observations = len(
            list(session.exec(select(ClaimStatusObservation).where(ClaimStatusObservation.claim_id == claim_id)))
        )
    assert observations >= 1
    kept, climbing = keep_evidence(web, claim_id)

    browser_login(web, page, "billing", "/search")
    page.get_by_label("Find a claim").fill("<script>")
    row = page.locator("table.results tbody tr", has_text=claim_id)
    expect(row.locator("td[data-label='Patient']")).to_have_text(SCRIPT_NAME)
    row.get_by_role("link", name=claim_id).click()

    # the claim, its timeline and its denial in plain words
    expect(page.get_by_role("heading", name=f"Claim {claim_id}")).to_be_visible()
    expect(page.locator("dl.facts dd", has_text=SCRIPT_NAME)).to_have_count(1)
    expect(page.locator("table.timeline tbody tr")).to_have_count(observations)
    card = page.locator(f"#denial-{denial_id}")
    words = describe_carc(carc)
    assert words
    expect(card.locator("ul.codes")).to_contain_text(words)
    expect(card).to_contain_text("Deadline")
    expect(card).to_contain_text("days")

    # the evidence screenshot shows inline; the saved page is a link
    image = page.locator(f"figure.evidence a[href='/evidence/{kept}'] img")
    expect(image).to_be_visible()
    # the image is lazy: being visible starts its load, decode() waits for it to finish
    image.scroll_into_view_if_needed()
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 1
    figure = page.locator("figure.evidence", has=page.locator(f"a[href='/evidence/{kept}']"))
    saved = figure.get_by_role("link", name="Saved page (as text)")
    expect(saved).to_have_attribute("href", f"/evidence/{kept}/page")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "claim-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "claim-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # a status without a note is refused on the card, and nothing is written
    trail = card.locator("table.history tbody tr").count()
    card.get_by_label("Set status").select_option("appealed")
    card.get_by_role("button", name="Save status").click()
    expect(card.get_by_role("alert")).to_have_text("Write a note saying what was done (it goes into the appeal trail).")
    expect(card.locator("table.history tbody tr")).to_have_count(trail)

    # set the denial's status with a note: the history names the person
    card.get_by_label("Set status").select_option("appealed")
    card.get_by_label("Note").fill("First-level appeal faxed with the op note")
    card.get_by_role("button", name="Save status").click()
    expect(card.get_by_role("status")).to_have_text("Marked appealed.")
    newest = card.locator("table.history tbody tr").first
    expect(newest.locator("td[data-label='Who']")).to_have_text(USER_OF_ROLE["billing"])
    expect(newest.locator("td[data-label='Note']")).to_have_text("First-level appeal faxed with the op note")

    # assign it to the coder
    card.get_by_label("Assign to").select_option(USER_OF_ROLE["coding"])
    card.get_by_role("button", name="Assign").click()
    expect(card.get_by_role("status")).to_have_text(f"Assigned to {USER_OF_ROLE['coding']}.")
    expect(card.locator("dl.facts")).to_contain_text(f"Assigned to{USER_OF_ROLE['coding']}")

    # re-check: queued for the worker, nothing driven from here
    page.get_by_role("button", name="Re-check now").click()
    expect(page.get_by_text("Re-check queued: the worker will check it on its next run.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Re-check queued: the worker will check it on its next run.")).to_be_visible()

    # evidence: the image inline, the climbing path refused
    shot = page.request.get(f"{web.url}/evidence/{kept}")
    assert shot.status == 200 and shot.headers["content-type"] == "image/png"
    assert shot.headers["content-disposition"].startswith("inline")
    refused = page.request.get(f"{web.url}/evidence/{climbing}")
    assert refused.status == 404 and "outside the evidence folder" in refused.text()

    with session_scope(web.engine) as session:
        stored = session.get(Denial, denial_id)
        assert stored is not None and stored.status == "appealed" and stored.assignee == USER_OF_ROLE["coding"]
        events = list(session.exec(select(DenialEvent).where(DenialEvent.denial_id == denial_id)))
        assert [(e.actor, e.status, e.note) for e in events[-2:]] == [
            (USER_OF_ROLE["billing"], "appealed", "First-level appeal faxed with the op note"),
            (USER_OF_ROLE["billing"], "appealed", f"assigned to {USER_OF_ROLE['coding']}"),
        ]
        open_tasks = select(Task).where(Task.kind == "claim_status", Task.target == claim_id, Task.state == "queued")
        queued = list(session.exec(open_tasks))
        assert len(queued) == 1
        assert queued[0].reason == f"re-check asked by {USER_OF_ROLE['billing']}"
        assert audit_count(session, "view_claim", claim_id) == 2  # opened once, reloaded once
        assert audit_count(session, "view_evidence", str(kept)) >= 2  # the page's image, and the direct request
        assert audit_count(session, "evidence_refused", str(climbing)) == 1
    assert dialogs == []


# --- refusals and protocol, without a browser ------------------------------------------------------------------


def add_denial_to(workspace: RunningWorkspace, claim_id: str) -> int:
    with session_scope(workspace.engine) as session:
        denial = add_denial(
            session,
            Denial(
                fingerprint=f"{claim_id}|CO|16",
                claim_id=claim_id,
                reported_claim_id=claim_id,
                source="portal",
                source_ref="unity",
                payer_id="UHP",
                group_code="CO",
                carc="16",
                rarcs=["M51"],
                amount=Decimal("120.00"),
                denial_date=date(2026, 11, 18),
                category="billing_error",
                owner="billing",
                kind="soft",
                first_seen_at=AT,
                last_seen_at=AT,
            ),
            "seen on unity",
        )
        assert denial.id is not None
        return denial.id


def test_unknown_claims_and_bad_actions_are_refused_and_write_nothing(empty_web: RunningWorkspace) -> None:
    add_claims(empty_web)
    denial_id = add_denial_to(empty_web, "PW90001")
    client = logged_in(empty_web)

    missing = client.get("/claims/PW00000")
    assert missing.status_code == 404 and "There is no claim with id “PW00000”" in missing.text

    page = client.get("/claims/PW90001")
    assert page.status_code == 200 and str(describe_carc("16")) in page.text and "M51" in page.text
    token = csrf_of(client, "/claims/PW90001")
    base = f"/claims/PW90001/denials/{denial_id}"

    no_token = client.post(f"{base}/status", data={"status": "appealed", "note": "x"})
    assert no_token.status_code == 403
    bad_status = client.post(f"{base}/status", data={"status": "won", "note": "x", "csrf_token": token})
    assert bad_status.status_code == 400 and "Choose a status" in bad_status.text
    no_note = client.post(f"{base}/status", data={"status": "appealed", "note": "  ", "csrf_token": token})
    assert no_note.status_code == 400 and "Write a note" in no_note.text
    front_desk = logged_in(empty_web, "front_desk")
    not_theirs = front_desk.post(
        f"{base}/status",
        data={"status": "written-off", "note": "x", "csrf_token": csrf_of(front_desk, "/claims/PW90001")},
    )
    assert not_theirs.status_code == 400 and "Only billing (or an admin) writes denials off." in not_theirs.text
    stranger = client.post(f"{base}/assign", data={"assignee": "mallory", "csrf_token": token})
    assert stranger.status_code == 400 and "“mallory” is not a workspace user" in stranger.text
    other_claim = client.post(
        f"/claims/PW90002/denials/{denial_id}/status", data={"status": "resolved", "note": "x", "csrf_token": token}
    )
    assert other_claim.status_code == 404
    unknown_recheck = client.post("/claims/PW00000/recheck", data={"csrf_token": token})
    assert unknown_recheck.status_code == 404

    with session_scope(empty_web.engine) as session:
        denial = session.get(Denial, denial_id)
        assert denial is not None and denial.status == "open" and denial.assignee is None
        assert len(list(session.exec(select(DenialEvent).where(DenialEvent.denial_id == denial_id)))) == 1
        assert not list(session.exec(select(Task)))

    # the same actions done right, without JavaScript: back to the claim
    for _ in range(2):  # asked twice: still one task in the queue
        queued = client.post("/claims/PW90001/recheck", data={"csrf_token": token})
        assert queued.status_code == 303 and queued.headers["location"] == "/claims/PW90001#state"
    assert "Re-check queued: the worker will check it on its next run." in client.get("/claims/PW90001").text
    with session_scope(empty_web.engine) as session:
        assert [(t.portal, t.target, t.state) for t in session.exec(select(Task))] == [("unity", "PW90001", "queued")]
    done = client.post(f"{base}/status", data={"status": "written-off", "note": "small balance", "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == f"/claims/PW90001#denial-{denial_id}"
    with session_scope(empty_web.engine) as session:
        denial = session.get(Denial, denial_id)
        assert denial is not None and denial.status == "written_off"


def test_evidence_is_served_only_from_inside_its_folder(empty_web: RunningWorkspace) -> None:
    add_claims(empty_web)
    kept, climbing = keep_evidence(empty_web, "PW90001")
    folder = evidence_dir(empty_web.settings.worker.data_dir) / "unity"
    (folder / "link.png").symlink_to(empty_web.settings.worker.data_dir / "outside.png")
    with session_scope(empty_web.engine) as session:
        linked = add_evidence(
            session,
            Evidence(created_at=AT, portal="unity", reason="x", url="u", screenshot_path=str(folder / "link.png")),
        )
        gone = add_evidence(
            session,
            Evidence(created_at=AT, portal="unity", reason="x", url="u", screenshot_path=str(folder / "gone.png")),
        )
    anonymous = httpx.get(f"{empty_web.url}/evidence/{kept}", follow_redirects=False)
    assert anonymous.status_code == 303
    client = logged_in(empty_web, "front_desk")

    page = client.get(f"/evidence/{kept}/page")
    assert page.status_code == 200 and page.headers["content-type"] == "text/plain; charset=utf-8"
    assert any(policy.startswith("sandbox") for policy in page.headers.get_list("content-security-policy"))
    assert "<script>alert('payer')</script>" in page.text  # the payer's page as text, never run
    for refused in (climbing, linked, gone, 999):
        answer = client.get(f"/evidence/{refused}")
        assert answer.status_code == 404, refused
        assert "image" not in answer.headers["content-type"]
    with session_scope(empty_web.engine) as session:
        assert audit_count(session, "view_evidence", str(kept)) == 1
        for refused in (climbing, linked, gone, 999):
            assert audit_count(session, "evidence_refused", str(refused)) == 1
