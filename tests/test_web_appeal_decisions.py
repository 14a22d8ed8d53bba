"""The claim page's "Appeal decisions and write-offs" in Chromium: billing records an upheld decision (the next
level's deadline from its date) and corrects it to an overturn with the amount recovered, writes a denial off
with an amount and a reason, bad values are refused with nothing written, other roles get no forms, every change
is audited. Screenshots at 1280 and 390 px go to test-results/screenshots/appeal-decisions-*.png."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from flows.claim_states import ClaimState
from flows.denials import record_portal_result
from portals.types import Adjustment, ClaimStatusResult
from store.db import session_scope
from store.models import AppealRow, AuditEntry, Claim, Denial
from tests.web_support import RunningWorkspace

SHOTS = Path("test-results/screenshots")
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
FILED_AT = datetime(2026, 10, 20, 15, tzinfo=UTC)


def a_denied_claim_with_a_filed_appeal(ws: RunningWorkspace, *appeals: tuple[str, int, str]) -> int:
    with session_scope(ws.engine) as session:
        session.add(
            Claim(
                claim_id="PW900001",
                payer_id="NWM",
                member_id="M000000001",
                patient_name="SYNTHETIC, PERSON",
                dos_from=date(2026, 9, 14),
                dos_to=date(2026, 9, 14),
                billed_amount=Decimal("300.00"),
                submitted_date=date(2026, 9, 17),
                rendering_npi="1234567893",
                imported_at=AT,
                updated_at=AT,
                paid_amount=None,
                status="denied",
            )
        )
        denied = ClaimStatusResult(
            "PW900001",
            "F2",
            "1",
            "Denied",
            date(2026, 10, 1),
            "NWM0001",
            Decimal("300.00"),
            Decimal("0"),
            Decimal("0"),
            adjustments=(Adjustment("CO", "197", Decimal("300.00"), (), "99213"),),
        )
        changes = record_portal_result(
            session, claim_id="PW900001", payer_id="NWM", result=denied, state=ClaimState.DENIED, portal="unity", at=AT
        )
        [denial] = changes.new
        assert denial.id is not None
        for appeal_id, level, name in appeals:
            session.add(
                AppealRow(
                    appeal_id=appeal_id,
                    denial_id=denial.id,
                    claim_id="PW900001",
                    payer_id="NWM",
                    level=level,
                    level_name=name,
                    channel="portal",
                    portal="unity",
                    state="filed",
                    disputed_amount=Decimal("300.00"),
                    confirmation_number=f"UNI-{appeal_id}",
                    filed_at=FILED_AT,
                    filed_by="worker",
                    response_due=FILED_AT.date() + timedelta(days=30),
                    created_by="bea",
                    created_at=FILED_AT,
                    updated_at=FILED_AT,
                )
            )
        return denial.id


def the_denial(ws: RunningWorkspace) -> Denial:
    with Session(ws.engine) as session:
        return session.exec(select(Denial)).one()


def the_appeal(ws: RunningWorkspace, appeal_id: str = "AP-1") -> AppealRow:
    with Session(ws.engine) as session:
        appeal = session.get(AppealRow, appeal_id)
        assert appeal is not None
        return appeal


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"appeal-decisions-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_billing_records_an_upheld_decision_then_corrects_it_to_an_overturn(
    page: Page, empty_web: RunningWorkspace
) -> None:
    ws = empty_web
    a_denied_claim_with_a_filed_appeal(ws, ("AP-1", 1, "reconsideration"))
    ws.login(page, "billing")
    page.goto(f"{ws.url}/claims/PW900001")
    section = page.get_by_role("region", name="Appeal decisions and write-offs")
    expect(section.get_by_role("row").filter(has_text="AP-1")).to_contain_text("waiting for the payer")
    shoot(page, "waiting")

    form = section.get_by_role("form", name="Decision on appeal AP-1")
    form.get_by_label("Upheld: the denial stands").check()
    form.get_by_label("Decision date").fill("2026-11-16")
    form.get_by_role("button", name="Record decision").click()
    section = page.get_by_role("region", name="Appeal decisions and write-offs")
    expect(section.get_by_role("status")).to_have_text("Recorded the decision on appeal AP-1.")
    expect(section).to_contain_text("Upheld: next, file appeal (level 2) by 2027-01-15.")
    denial_card = page.locator(f"#denial-{the_denial(ws).id}")
    expect(denial_card.locator("dt:text-is('Next step') + dd")).to_have_text("file appeal")
    expect(denial_card.locator("dt:text-is('Deadline') + dd")).to_contain_text("2027-01-15")
    assert (the_appeal(ws).decision, the_denial(ws).status) == ("upheld", "open")
    shoot(page, "upheld")

    form = section.get_by_role("form", name="Decision on appeal AP-1")
    form.get_by_label("Overturned: the payer pays").check()
    form.get_by_label("Decision date").fill("2026-11-18")
    form.get_by_label("Amount recovered").fill("240.00")
    form.get_by_label("Note").fill("the letter was misread")
    form.get_by_role("button", name="Record decision").click()
    section = page.get_by_role("region", name="Appeal decisions and write-offs")
    expect(section.get_by_role("row").filter(has_text="AP-1")).to_contain_text(
        "overturned 2026-11-18: $240.00 recovered"
    )
    appeal, denial = the_appeal(ws), the_denial(ws)
    assert (appeal.decision, appeal.amount_recovered, appeal.decision_source) == (
        "overturned",
        Decimal("240.00"),
        "staff",
    )
    assert denial.status == "resolved"
    expect(page.locator(f"#denial-{denial.id}")).to_contain_text("decision corrected by staff")
    expect(section.get_by_role("form", name=f"Write off denial {denial.id}")).to_have_count(0)
    with Session(ws.engine) as session:
        actions = list(
            session.exec(select(AuditEntry.detail).where(col(AuditEntry.action) == "record_appeal_decision"))
        )
    assert actions == ["appeal AP-1: upheld on 2026-11-16", "appeal AP-1: overturned on 2026-11-18"]
    shoot(page, "overturned")


def test_bad_decisions_and_write_offs_are_refused_and_nothing_is_written(
    page: Page, empty_web: RunningWorkspace
) -> None:
    ws = empty_web
    denial_id = a_denied_claim_with_a_filed_appeal(ws, ("AP-1", 1, "reconsideration"))
    ws.login(page, "billing")
    page.goto(f"{ws.url}/claims/PW900001")
    section = page.get_by_role("region", name="Appeal decisions and write-offs")
    form = section.get_by_role("form", name="Decision on appeal AP-1")
    future = (date.today() + timedelta(days=40)).isoformat()
    for decision, day, amount, said in (
        ("Overturned: the payer pays", "2026-11-18", "", "Say what the payer will pay"),
        ("Overturned: the payer pays", "2026-11-18", "lots", "The amount must be dollars, like 120.00, not 'lots'"),
        ("Upheld: the denial stands", "2026-11-18", "12.00", "An upheld appeal recovers nothing"),
        ("Upheld: the denial stands", future, "", f"the decision date {future} is in the future"),
        ("Upheld: the denial stands", "2026-10-01", "", "is before the appeal was filed (2026-10-20)"),
    ):
        form = page.get_by_role("form", name="Decision on appeal AP-1")
        form.get_by_label(decision).check()
        form.get_by_label("Decision date").fill(day)
        form.get_by_label("Amount recovered").fill(amount)
        form.get_by_role("button", name="Record decision").click()
        expect(page.get_by_role("form", name="Decision on appeal AP-1").get_by_role("alert")).to_contain_text(said)
    shoot(page, "refused")
    assert the_appeal(ws).decision is None and the_denial(ws).status == "open"

    for amount, reason, said in (
        ("300.00", "", "Say why it is written off"),
        ("300.01", "small balance", "at most the denied $300.00, not $300.01"),
        ("0", "small balance", "more than $0.00 and at most the denied $300.00, not $0.00"),
        ("1O0", "small balance", "The amount must be dollars"),
    ):
        form = page.get_by_role("form", name=f"Write off denial {denial_id}")
        form.get_by_label("Amount written off").fill(amount)
        form.get_by_label("Reason").fill(reason)
        form.get_by_role("button", name="Write off").click()
        expect(page.get_by_role("form", name=f"Write off denial {denial_id}").get_by_role("alert")).to_contain_text(
            said
        )
        expect(page.get_by_role("form", name=f"Write off denial {denial_id}").get_by_label("Reason")).to_have_value(
            reason
        )
    denial = the_denial(ws)
    assert (denial.status, denial.write_off_amount) == ("open", None)

    form = page.get_by_role("form", name=f"Write off denial {denial_id}")
    form.get_by_label("Amount written off").fill("120.00")
    form.get_by_label("Reason").fill("small balance, not worth a second appeal")
    form.get_by_role("button", name="Write off").click()
    section = page.get_by_role("region", name="Appeal decisions and write-offs")
    expect(section.get_by_role("status")).to_have_text(f"Denial {denial_id} written off.")
    expect(section).to_contain_text("Written off $120.00: small balance, not worth a second appeal")
    denial = the_denial(ws)
    assert (denial.status, denial.write_off_amount, denial.write_off_reason) == (
        "written_off",
        Decimal("120.00"),
        "small balance, not worth a second appeal",
    )
    with Session(ws.engine) as session:
        audited = list(session.exec(select(AuditEntry.detail).where(col(AuditEntry.action) == "write_off_denial")))
    assert audited == [f"denial {denial_id}: 120.00"]
    shoot(page, "written-off")


def test_other_roles_see_the_decisions_but_get_no_forms(page: Page, empty_web: RunningWorkspace) -> None:
    ws = empty_web
    a_denied_claim_with_a_filed_appeal(ws, ("AP-1", 1, "reconsideration"))
    ws.login(page, "coding")
    page.goto(f"{ws.url}/claims/PW900001")
    section = page.get_by_role("region", name="Appeal decisions and write-offs")
    expect(section.get_by_role("row").filter(has_text="AP-1")).to_be_visible()
    expect(section.get_by_role("form")).to_have_count(0)
    status = page.evaluate(
        """async () => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const body = new URLSearchParams({decision: 'upheld', decided_on: '2026-11-16', csrf_token: token});
            return (await fetch('/claims/PW900001/appeals/AP-1/decision', {method: 'POST', body})).status;
        }"""
    )
    assert status == 403 and the_appeal(ws).decision is None


def test_without_javascript_the_section_is_a_page_of_its_own(browser: Browser, empty_web: RunningWorkspace) -> None:
    ws = empty_web
    a_denied_claim_with_a_filed_appeal(ws, ("AP-1", 1, "reconsideration"))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    ws.login(page, "billing")
    page.goto(f"{ws.url}/claims/PW900001")
    page.get_by_role("link", name="Appeals of these denials, their decisions, and write-offs").click()
    form = page.get_by_role("form", name="Decision on appeal AP-1")
    form.get_by_label("Overturned: the payer pays").check()
    form.get_by_label("Decision date").fill("2026-11-18")
    form.get_by_label("Amount recovered").fill("300")
    form.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_have_text("Recorded the decision on appeal AP-1.")
    assert page.url.endswith("/claims/PW900001/appeal-decisions?decided=AP-1#appeal-decisions")
    assert the_appeal(ws).amount_recovered == Decimal("300.00")
    context.close()
