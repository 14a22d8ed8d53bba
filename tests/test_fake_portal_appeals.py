"""The fake portals' online appeals themselves: every problem with a form in the portal's own words and
nothing filed, outcomes set per claim or per appeal moving with the fake clock, the admin API refusing
what it cannot do, a reset taking appeals and their payments back, and an overturn's payment balancing.
Forms are posted from a signed-in Chromium (its cookies), so the portal sees what a browser sends."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import APIResponse, Page

from fake_portal import data
from fake_portal.appeals import FINAL_CATEGORIES, file_appeal
from fake_portal.filed_appeals import AppealForm, Outcome
from fake_portal.filed_requests import Attachment
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS, World
from portals.base import PortalAdapter, Timeouts
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import Credentials
from portals.unity_health import UnityHealthAdapter

TODAY = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATASET = data.generate(seed=7, start=TODAY)
PAYER = {"commercial": "UHP", "clearinghouse": "NWM"}
PDF = b"%PDF-1.4\n%%EOF\n"
NO_REASON = {
    "commercial": "Tell us why you are asking us to review this claim.",
    "clearinghouse": "Reason for appeal is required.",
}


def claim_in(payer_id: str, *categories: str) -> data.Claim:
    return next(
        c
        for c in DATASET.claims.values()
        if c.payer_id == payer_id and (s := c.status_on(TODAY)) is not None and s.category in categories
    )


def sign_in(page: Page, fake_portal: RunningPortal, portal: str) -> None:
    account = next(a for a in DEFAULT_ACCOUNTS if a.portal == portal)
    cls: type[PortalAdapter] = UnityHealthAdapter if portal == "commercial" else SummitExchangeAdapter
    cls(
        page,
        portal=portal,
        base_url=f"{fake_portal.url}/{portal}",
        credentials=Credentials(account.username, account.password, totp_secret=account.totp_secret),
        timeouts=Timeouts(navigation_ms=4000, element_ms=3000),
    ).ensure_logged_in()


def post_appeal(
    page: Page, fake_portal: RunningPortal, portal: str, claim_number: str, **fields: object
) -> APIResponse:
    form: dict[str, object] = {
        "payer_claim_number": claim_number,
        "provider_reference": "AP-7",
        "level": "1",
        "reason": "CARC 197: the authorization was on file",
        "disputed_amount": "10.00",
        "attachments": {"name": "packet.pdf", "mimeType": "application/pdf", "buffer": PDF},
    }
    form.update(fields)
    sent = {k: v for k, v in form.items() if v is not None}
    url = f"{fake_portal.url}/{portal}/claims/{claim_number}/appeals/new"
    return page.request.post(url, multipart=sent)  # type: ignore[arg-type]


def appeals(fake_portal: RunningPortal) -> list[dict[str, object]]:
    return list(fake_portal.admin("appeals")["appeals"])


def errors_in(answer: APIResponse) -> list[str]:
    return [html.unescape(e) for e in re.findall(r"<li>([^<]+)</li>", answer.text())]


EMPTY_FORM = {
    "commercial": [
        "Enter the claim number.",
        "Select whether this is a reconsideration or an appeal.",
        "Tell us why you are asking us to review this claim.",
        "Enter the disputed amount in dollars and cents.",
        "Attach your supporting documents as a PDF file.",
    ],
    "clearinghouse": [
        "Payer claim number is required.",
        "Appeal level is required.",
        "Reason for appeal is required.",
        "Disputed amount must be a dollar amount greater than 0.00.",
        "A PDF attachment is required.",
    ],
}
NOT_FINAL = {
    "commercial": "This claim hasn't been processed yet. You can ask us to reconsider it once it has been.",
    "clearinghouse": "Claim has not been finalized by the payer and cannot be appealed yet.",
}
UNKNOWN_CLAIM = {
    "commercial": "We couldn't find this claim. Check the claim number.",
    "clearinghouse": "Claim not found for this payer claim number.",
}


@pytest.mark.parametrize("portal", PAYER)
def test_every_problem_with_a_form_is_listed_in_the_portals_words_and_nothing_is_filed(
    portal: str, page: Page, fake_portal: RunningPortal
) -> None:
    sign_in(page, fake_portal, portal)
    denied = claim_in(PAYER[portal], "F2").payer_claim_number
    empty = {"payer_claim_number": "", "level": "", "reason": "", "disputed_amount": "", "attachments": None}

    assert errors_in(post_appeal(page, fake_portal, portal, denied, **empty)) == EMPTY_FORM[portal]
    pending = claim_in(PAYER[portal], "P1", "A2", "P3").payer_claim_number
    assert errors_in(post_appeal(page, fake_portal, portal, pending)) == [NOT_FINAL[portal]]
    other_payer = claim_in("LSM", *FINAL_CATEGORIES).payer_claim_number
    assert errors_in(post_appeal(page, fake_portal, portal, denied, payer_claim_number=other_payer)) == [
        UNKNOWN_CLAIM[portal]
    ]
    assert len(errors_in(post_appeal(page, fake_portal, portal, denied, disputed_amount="12,5x"))) == 1
    assert len(errors_in(post_appeal(page, fake_portal, portal, denied, level="3"))) == 1
    assert errors_in(post_appeal(page, fake_portal, portal, denied, reason="   ")) == [NO_REASON[portal]]
    assert appeals(fake_portal) == []


@pytest.mark.parametrize("portal", PAYER)
def test_an_outcome_per_appeal_wins_over_the_claims_and_each_moves_with_the_clock(
    portal: str, page: Page, fake_portal: RunningPortal
) -> None:
    sign_in(page, fake_portal, portal)
    claim = claim_in(PAYER[portal], "F2")
    fake_portal.admin("appeals/outcome", {"payer_claim_number": claim.payer_claim_number, "decision": "upheld"})
    for _ in range(2):
        assert post_appeal(page, fake_portal, portal, claim.payer_claim_number).ok
    first, second = (str(a["confirmation_number"]) for a in appeals(fake_portal))
    prefix = "UAP" if portal == "commercial" else "SXA-"
    assert (first, second) == (f"{prefix}700001", f"{prefix}700002")
    fake_portal.admin(
        "appeals/outcome",
        {"confirmation_number": second, "amount": "10", "review_after_days": 1, "decide_after_days": 2},
    )

    def standing() -> list[tuple[object, ...]]:
        return [(a["status"], a["decided_on"], a["amount_overturned"]) for a in appeals(fake_portal)]

    assert standing() == [("received", None, None), ("received", None, None)]
    fake_portal.admin("clock", {"days": 1})
    assert standing() == [("received", None, None), ("in_review", None, None)]
    fake_portal.admin("clock", {"days": 2})
    decided = (TODAY + timedelta(days=2)).isoformat()
    assert standing() == [("in_review", None, None), ("overturned", decided, "10.00")]
    fake_portal.admin("clock", {"days": 11})
    assert standing() == [("upheld", (TODAY + timedelta(days=14)).isoformat(), None), ("overturned", decided, "10.00")]

    listed = page.request.get(f"{fake_portal.url}/{portal}/claims/{claim.payer_claim_number}/appeals").text()
    assert first in listed and second in listed
    other = "commercial" if portal == "clearinghouse" else "clearinghouse"
    sign_in(page, fake_portal, other)
    assert page.request.get(f"{fake_portal.url}/{other}/appeals/{first}").status == 404


def test_the_admin_api_refuses_what_it_cannot_do(fake_portal: RunningPortal) -> None:
    url = f"{fake_portal.url}/admin/appeals/outcome"
    claim_number = claim_in("UHP", "F2").payer_claim_number
    refused: dict[int, list[dict[str, object]]] = {
        400: [
            {"payer_claim_number": claim_number, "decision": "maybe"},
            {"payer_claim_number": claim_number, "decision": "upheld", "amount": "5"},
            {"payer_claim_number": claim_number, "amount": "-1"},
            {"payer_claim_number": claim_number, "review_after_days": 20, "decide_after_days": 14},
            {"payer_claim_number": claim_number, "colour": "blue"},
            {"decision": "upheld"},
        ],
        404: [{"confirmation_number": "UAP999999"}, {"payer_claim_number": "UHP00000000000"}],
    }
    for status, bodies in refused.items():
        for body in bodies:
            answer = httpx.post(url, json=body, timeout=10)
            assert answer.status_code == status and answer.json()["error"], body
    assert httpx.post(f"{fake_portal.url}/admin/faults/commercial", json={"appeal_after_filing": "hang"}).is_success
    assert fake_portal.admin("state")["faults"]["commercial"]["appeal_after_filing"] == "hang"


def claim_words(page: Page, fake_portal: RunningPortal, claim_number: str) -> str:
    text = page.request.get(f"{fake_portal.url}/commercial/claims/detail/{claim_number}").text()
    found = re.search(r'data-field="status"[^>]*>([^<]+)<', text)
    assert found is not None
    return found.group(1)


def test_a_reset_takes_back_the_appeals_and_the_payments_they_made(page: Page, fake_portal: RunningPortal) -> None:
    sign_in(page, fake_portal, "commercial")
    claim = claim_in("UHP", "F2")
    assert post_appeal(page, fake_portal, "commercial", claim.payer_claim_number).ok
    fake_portal.admin("clock", {"days": 14})
    assert claim_words(page, fake_portal, claim.payer_claim_number) == "Paid"

    fake_portal.admin("reset", {})

    assert appeals(fake_portal) == []
    sign_in(page, fake_portal, "commercial")
    assert claim_words(page, fake_portal, claim.payer_claim_number) == "Denied"


@pytest.mark.parametrize("outcome", ["denied", "partial"])
def test_an_overturn_pays_by_reducing_the_denial_so_the_claim_still_balances(outcome: str) -> None:
    """In the world itself (no server): a partial overturn on the decision day, the money adding up."""
    dataset = data.generate(seed=7, start=TODAY)
    world = World(dataset)
    claim = next(
        c
        for c in dataset.claims.values()
        if c.outcome == outcome and (s := c.status_on(TODAY)) is not None and s.category in FINAL_CATEGORIES
    )
    before = claim.status_on(TODAY)
    assert before is not None and before.paid is not None
    form = AppealForm(claim.payer_claim_number, "AP-1", 1, "why", claim.billed, [Attachment("p.pdf", 9, True)])
    filed = file_appeal(world, "commercial", claim, form)
    denied = sum((a.amount for a in before.adjustments if a.carc not in {"45", "1", "2", "3"}), Decimal("0"))
    paid_part = (denied / 2).quantize(Decimal("0.01"))
    world.appeals.by_appeal[filed.confirmation_number] = Outcome(amount=paid_part)
    world.appeals.repay_all(dataset)

    assert claim.status_on(TODAY + timedelta(days=13)) == claim.history[-2]  # denied until the decision
    paid = claim.status_on(TODAY + timedelta(days=14))
    assert paid is not None and (paid.category, paid.effective) == ("F1", TODAY + timedelta(14))
    assert paid.paid == before.paid + paid_part
    assert paid.paid + sum(a.amount for a in paid.adjustments) == claim.billed
    patient = sum((a.amount for a in paid.adjustments if a.group_code == "PR"), Decimal("0"))
    assert paid.patient_responsibility == patient and paid.allowed == paid.paid + patient

    world.reset()
    assert claim.status_on(TODAY + timedelta(days=30)) == before
