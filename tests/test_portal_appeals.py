"""Online reconsiderations and appeals on Unity and Summit Exchange, through real Chromium: a claim's appeals
looked at before filing, the form with its PDF packet, the confirmation number, the portal's refusals in its
own words with nothing filed, the status page moving with the fake clock to a decision, and the faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page

from fake_portal import data
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import PortalAdapter, Timeouts
from portals.capabilities import AppealSubmission
from portals.errors import ClaimNotFound, LayoutChanged, PortalUnavailable, RequestRefused
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import AppealFiling, ClaimQuery, Credentials
from portals.unity_health import UnityHealthAdapter

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATASET = data.generate(seed=7, start=TODAY)
PORTALS = {"commercial": "UHP", "clearinghouse": "NWM"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Adapter(PortalAdapter, AppealSubmission):
    """What both adapters are, for the type checker."""


MakeAdapter = Callable[[str], Adapter]


def denied_claim(payer_id: str) -> data.Claim:
    """The payer's first claim denied by the portal's first day."""
    return next(
        c
        for c in DATASET.claims.values()
        if c.payer_id == payer_id and (s := c.status_on(TODAY)) is not None and s.category == "F2"
    )


def a_filing(portal: str, tmp_path: Path, **changes: object) -> AppealFiling:
    packet = tmp_path / "appeal-packet.pdf"
    packet.write_bytes(PDF)
    claim = denied_claim(PORTALS[portal])
    filing = AppealFiling(
        appeal_id="AP-000042",
        payer_id=claim.payer_id,
        claim_id=claim.claim_id,
        payer_claim_number=claim.payer_claim_number,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        billed_amount=claim.billed,
        disputed_amount=claim.billed,
        level=1,
        reason="Authorization was on file (CARC 197): approval attached",
        packet_pdf=str(packet),
    )
    return replace(filing, **changes)  # type: ignore[arg-type]


@pytest.fixture
def make_adapter(page: Page, fake_portal: RunningPortal) -> MakeAdapter:
    def make(portal: str) -> Adapter:
        account = next(a for a in DEFAULT_ACCOUNTS if a.portal == portal)
        cls: type[PortalAdapter] = UnityHealthAdapter if portal == "commercial" else SummitExchangeAdapter
        adapter = cls(
            page,
            portal=portal,
            base_url=f"{fake_portal.url}/{portal}",
            credentials=Credentials(account.username, account.password, totp_secret=account.totp_secret),
            timeouts=Timeouts(navigation_ms=4000, element_ms=3000),
        )
        adapter.ensure_logged_in()
        return adapter  # type: ignore[return-value]

    return make


def filed(portal: RunningPortal, name: str) -> list[dict[str, object]]:
    return list(portal.admin(f"appeals?portal={name}")["appeals"])


def claim_query(filing: AppealFiling) -> ClaimQuery:
    claim = DATASET.claims[filing.claim_id]
    return ClaimQuery(
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        dos_to=claim.dos_to,
        billed_amount=claim.billed,
        rendering_npi=claim.rendering_npi,
        payer_claim_number=claim.payer_claim_number,
    )


@pytest.mark.parametrize("name", PORTALS)
def test_an_appeal_is_filed_once_listed_and_followed_to_an_overturn_that_pays_the_claim(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, filing = make_adapter(name), a_filing(name, tmp_path)
    assert adapter.find_appeals(filing.payer_id, filing.payer_claim_number) == []

    receipt = adapter.submit_appeal(filing)

    [on_file] = filed(fake_portal, name)
    assert on_file["confirmation_number"] == receipt.confirmation_number
    assert on_file["provider_reference"] == "AP-000042" and on_file["attachments"] == ["appeal-packet.pdf"]
    assert on_file["payer_claim_number"] == filing.payer_claim_number and on_file["level"] == 1
    assert on_file["disputed_amount"] == f"{filing.disputed_amount:.2f}"
    assert (receipt.status, receipt.provider_reference, receipt.level) == ("received", "AP-000042", 1)
    assert (receipt.payer_claim_number, receipt.submitted_on) == (filing.payer_claim_number, TODAY)
    assert adapter.snapshot(pdf=True).pdf.startswith(b"%PDF-")  # still on the confirmation: the evidence
    assert receipt.confirmation_number in adapter.page.content()
    listed = adapter.find_appeals(filing.payer_id, filing.payer_claim_number)
    assert [(r.confirmation_number, r.provider_reference, r.status, r.level) for r in listed] == [
        (receipt.confirmation_number, "AP-000042", "received", 1)
    ]
    assert listed[0].submitted_on == TODAY

    fake_portal.admin("clock", {"days": 3})
    assert adapter.appeal_status(filing.payer_id, receipt.confirmation_number).status == "in_review"
    assert adapter.claim_status(claim_query(filing)).category_code == "F2"

    fake_portal.admin("clock", {"days": 11})
    decided = adapter.appeal_status(filing.payer_id, receipt.confirmation_number)
    assert (decided.status, decided.decided_on, decided.amount_overturned) == (
        "overturned",
        TODAY + timedelta(days=14),
        filing.disputed_amount,
    )
    assert decided.decision_words and "reversed" in decided.decision_words
    assert decided.provider_reference == "AP-000042"
    paid = adapter.claim_status(claim_query(filing))
    assert (paid.category_code, paid.paid_amount) == ("F1", filing.disputed_amount)
    assert [r.status for r in adapter.find_appeals(filing.payer_id, filing.payer_claim_number)] == ["overturned"]


@pytest.mark.parametrize("name", PORTALS)
def test_an_appeal_set_to_be_upheld_is_decided_upheld_with_no_amount(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, filing = make_adapter(name), a_filing(name, tmp_path, level=2)
    fake_portal.admin("appeals/outcome", {"payer_claim_number": filing.payer_claim_number, "decision": "upheld"})
    receipt = adapter.submit_appeal(filing)
    assert receipt.level == 2

    fake_portal.admin("clock", {"days": 14})
    decided = adapter.appeal_status(filing.payer_id, receipt.confirmation_number)
    assert (decided.status, decided.decided_on, decided.amount_overturned) == (
        "upheld",
        TODAY + timedelta(days=14),
        None,
    )
    assert decided.decision_words and "upheld" in decided.decision_words
    assert adapter.claim_status(claim_query(filing)).category_code == "F2"


@pytest.mark.parametrize("name", PORTALS)
def test_an_outcome_set_after_filing_pays_its_own_amount_on_its_own_day(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, filing = make_adapter(name), a_filing(name, tmp_path)
    receipt = adapter.submit_appeal(filing)
    fake_portal.admin(
        "appeals/outcome",
        {"confirmation_number": receipt.confirmation_number, "amount": "20.00", "decide_after_days": 5},
    )
    fake_portal.admin("clock", {"days": 5})
    decided = adapter.appeal_status(filing.payer_id, receipt.confirmation_number)
    assert (decided.status, decided.decided_on, decided.amount_overturned) == (
        "overturned",
        TODAY + timedelta(days=5),
        Decimal("20.00"),
    )
    assert adapter.claim_status(claim_query(filing)).paid_amount == Decimal("20.00")


REFUSALS = {
    "commercial": {
        "empty": "Attachments must be PDF files.",
        "not_pdf": "Attachments must be PDF files.",
        "no_reason": "Tell us why you are asking us to review this claim.",
        "over_billed": "The disputed amount can't be more than the billed amount ({billed}).",
    },
    "clearinghouse": {
        "empty": "Only PDF attachments are accepted.",
        "not_pdf": "Only PDF attachments are accepted.",
        "no_reason": "Reason for appeal is required.",
        "over_billed": "Disputed amount exceeds the billed amount of {billed}.",
    },
}


@pytest.mark.parametrize("name", PORTALS)
def test_a_refused_appeal_says_the_portals_words_and_files_nothing(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter = make_adapter(name)
    text_file = tmp_path / "letter.txt"
    text_file.write_text("not a pdf")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    billed = denied_claim(PORTALS[name]).billed
    cases = {
        "empty": a_filing(name, tmp_path, packet_pdf=str(empty)),
        "not_pdf": a_filing(name, tmp_path, packet_pdf=str(text_file)),
        "no_reason": a_filing(name, tmp_path, reason=""),
        "over_billed": a_filing(name, tmp_path, disputed_amount=billed + 1),
    }
    for case, filing in cases.items():
        with pytest.raises(RequestRefused) as refused:
            adapter.submit_appeal(filing)
        assert refused.value.words == REFUSALS[name][case].format(billed=f"${billed:,.2f}"), case
    with pytest.raises(RequestRefused, match="level 3"):
        adapter.submit_appeal(a_filing(name, tmp_path, level=3))
    with pytest.raises(FileNotFoundError, match=r"no-such-packet\.pdf"):
        adapter.submit_appeal(a_filing(name, tmp_path, packet_pdf=str(tmp_path / "no-such-packet.pdf")))
    assert filed(fake_portal, name) == []


@pytest.mark.parametrize("name", PORTALS)
def test_an_unknown_appeal_or_claim_is_not_found(name: str, make_adapter: MakeAdapter, tmp_path: Path) -> None:
    adapter, filing = make_adapter(name), a_filing(name, tmp_path)
    with pytest.raises(ClaimNotFound):
        adapter.appeal_status(filing.payer_id, "NOPE12345")
    with pytest.raises(ClaimNotFound):
        adapter.appeal_status(filing.payer_id, "../etc/passwd")
    with pytest.raises(ClaimNotFound):
        adapter.find_appeals(filing.payer_id, f"{filing.payer_id}00000000000")
    with pytest.raises(ClaimNotFound):
        adapter.submit_appeal(replace(filing, payer_claim_number=f"{filing.payer_id}00000000000"))


@pytest.mark.parametrize("name", PORTALS)
@pytest.mark.parametrize("fault", ["hang", "error"])
def test_a_fault_after_filing_is_an_error_and_the_appeal_is_on_file_for_the_look(
    name: str, fault: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, filing = make_adapter(name), a_filing(name, tmp_path)
    fake_portal.admin(f"faults/{name}", {"appeal_after_filing": fault, "appeal_hang_s": 8})

    with pytest.raises(PortalUnavailable):
        adapter.submit_appeal(filing)

    fake_portal.admin(f"faults/{name}", {"appeal_after_filing": ""})
    [on_file] = filed(fake_portal, name)
    listed = adapter.find_appeals(filing.payer_id, filing.payer_claim_number)
    assert [(r.confirmation_number, r.provider_reference) for r in listed] == [
        (on_file["confirmation_number"], "AP-000042")
    ]


@pytest.mark.parametrize("name", PORTALS)
def test_a_changed_layout_is_refused_before_anything_is_typed_or_read(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, filing = make_adapter(name), a_filing(name, tmp_path)
    receipt = adapter.submit_appeal(filing)
    fake_portal.admin(f"faults/{name}", {"layout": 2})

    with pytest.raises(LayoutChanged):
        adapter.submit_appeal(filing)
    with pytest.raises(LayoutChanged):
        adapter.find_appeals(filing.payer_id, filing.payer_claim_number)
    with pytest.raises(LayoutChanged):
        adapter.appeal_status(filing.payer_id, receipt.confirmation_number)
    assert len(filed(fake_portal, name)) == 1


@pytest.mark.parametrize("name", PORTALS)
def test_the_portal_files_an_appeal_posted_twice_twice(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    """The naive portal the worker must protect: the same appeal submitted twice is two appeals."""
    adapter, filing = make_adapter(name), a_filing(name, tmp_path)
    first = adapter.submit_appeal(filing)
    second = adapter.submit_appeal(filing)
    assert first.confirmation_number != second.confirmation_number
    assert len(filed(fake_portal, name)) == 2
    assert len(adapter.find_appeals(filing.payer_id, filing.payer_claim_number)) == 2
