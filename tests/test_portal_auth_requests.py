"""Prior-authorization requests on the Unity and Lakeshore portals, through real Chromium: the form, its
confirmation and reference number, the portal's refusals in its own words, the submitted-requests list, the
request becoming a pending authorization that the fake clock decides, and the faults that hit after filing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from fake_portal import data
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import PortalAdapter, Timeouts
from portals.capabilities import AuthorizationLookup, AuthRequestSubmission, MemberAuthorizations
from portals.errors import LayoutChanged, PortalUnavailable, RequestRefused
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.types import AuthRequest, Credentials
from portals.unity_health import UnityHealthAdapter

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATASET = data.generate(seed=7, start=TODAY)
PORTALS = {"commercial": "UHP", "medicaid": "LSM"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Adapter(PortalAdapter, AuthRequestSubmission, AuthorizationLookup, MemberAuthorizations):
    """What both adapters are, for the type checker."""


MakeAdapter = Callable[[str], Adapter]


def member_of(payer_id: str) -> str:
    return sorted(c.member_id for c in DATASET.claims.values() if c.payer_id == payer_id)[0]


def a_request(portal: str, tmp_path: Path, **changes: object) -> AuthRequest:
    notes = tmp_path / "clinical-notes.pdf"
    notes.write_bytes(PDF)
    payer_id = PORTALS[portal]
    request = AuthRequest(
        request_id="PA-000123",
        payer_id=payer_id,
        member_id=member_of(payer_id),
        date_of_birth=date(1961, 4, 9),
        servicing_npi=DATASET.providers[0].npi,
        procedure_codes=("97110", "97140"),
        units=12,
        start=TODAY + timedelta(days=7),
        end=TODAY + timedelta(days=67),
        diagnosis_codes=("M54.50",),
        attachments=(str(notes),),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


@pytest.fixture
def make_adapter(page: Page, fake_portal: RunningPortal) -> MakeAdapter:
    def make(portal: str) -> Adapter:
        account = next(a for a in DEFAULT_ACCOUNTS if a.portal == portal)
        if portal == "commercial":
            credentials = Credentials(account.username, account.password)
            cls: type[PortalAdapter] = UnityHealthAdapter
        else:
            answers = {str(account.security_question): str(account.security_answer)}
            credentials = Credentials(account.username, account.password, security_answers=answers)
            cls = LakeshoreMedicaidAdapter
        adapter = cls(
            page,
            portal=portal,
            base_url=f"{fake_portal.url}/{portal}",
            credentials=credentials,
            timeouts=Timeouts(navigation_ms=4000, element_ms=3000),
        )
        adapter.ensure_logged_in()
        return adapter  # type: ignore[return-value]

    return make


def filed(portal: RunningPortal, name: str) -> list[dict[str, object]]:
    return list(portal.admin(f"auth-requests?portal={name}")["requests"])


@pytest.mark.parametrize("name", PORTALS)
def test_a_request_is_filed_once_listed_and_becomes_a_pending_authorization_the_clock_decides(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, request = make_adapter(name), a_request(name, tmp_path)
    assert adapter.find_auth_requests(request.member_id) == []

    receipt = adapter.submit_auth_request(request)

    on_file = filed(fake_portal, name)
    assert len(on_file) == 1 and on_file[0]["reference"] == receipt.reference_number
    assert on_file[0]["provider_reference"] == "PA-000123" and on_file[0]["attachments"] == ["clinical-notes.pdf"]
    assert on_file[0]["procedure_codes"] == ["97110", "97140"] and on_file[0]["units"] == 12
    assert receipt.status == "pending" and receipt.provider_reference == "PA-000123"
    assert (receipt.procedure_codes, receipt.start, receipt.end) == (("97110", "97140"), request.start, request.end)
    listed = adapter.find_auth_requests(request.member_id)
    assert [(r.reference_number, r.provider_reference, r.status) for r in listed] == [
        (receipt.reference_number, "PA-000123", "pending")
    ]
    assert listed[0].submitted_on == TODAY and listed[0].start == request.start
    auth = adapter.authorization(receipt.reference_number)
    assert auth.status == "pending" and auth.procedure_codes == ("97110", "97140")
    assert receipt.reference_number in {a.auth_number for a in adapter.member_authorizations(request.member_id)}

    fake_portal.admin("clock", {"days": 3})
    assert adapter.authorization(receipt.reference_number).status == "approved"
    assert adapter.authorization(receipt.reference_number).units_approved == 12
    assert [r.status for r in adapter.find_auth_requests(request.member_id)] == ["approved"]


REFUSALS = {
    "commercial": {
        "bad_cpt": "Procedure code 9711 is not a valid CPT or HCPCS code.",
        "bad_icd": "Diagnosis code 5450 is not a valid ICD-10-CM code.",
        "end_before_start": "The end date must be on or after the start date.",
        "not_pdf": "Attachment 1 is not a PDF file. Attachments must be PDF files.",
        "unknown_member": "We couldn't find this member. Check the member ID and date of birth.",
    },
    "medicaid": {
        "bad_cpt": "PROCEDURE CODE 9711 IS NOT A VALID CPT/HCPCS CODE.",
        "bad_icd": "DIAGNOSIS CODE 5450 IS NOT A VALID ICD-10-CM CODE.",
        "end_before_start": "TO DATE CANNOT BE BEFORE FROM DATE.",
        "not_pdf": "ATTACHMENTS MUST BE PDF DOCUMENTS.",
        "unknown_member": "RECIPIENT NOT FOUND. VERIFY THE RECIPIENT ID AND DATE OF BIRTH.",
    },
}


@pytest.mark.parametrize("name", PORTALS)
def test_a_refused_request_says_the_portals_words_and_files_nothing(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter = make_adapter(name)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a pdf")
    cases = {
        "bad_cpt": a_request(name, tmp_path, procedure_codes=("9711",)),
        "bad_icd": a_request(name, tmp_path, diagnosis_codes=("5450",)),
        "end_before_start": a_request(name, tmp_path, end=TODAY),
        "not_pdf": a_request(name, tmp_path, attachments=(str(text_file),)),
        "unknown_member": a_request(name, tmp_path, member_id="ZZ0000000"),
    }
    for case, request in cases.items():
        with pytest.raises(RequestRefused) as refused:
            adapter.submit_auth_request(request)
        assert refused.value.words == REFUSALS[name][case], case
        assert request.member_id not in str(refused.value)
    assert filed(fake_portal, name) == []


@pytest.mark.parametrize("name", PORTALS)
@pytest.mark.parametrize("fault", ["hang", "error"])
def test_a_fault_after_filing_is_an_error_and_the_request_is_on_file_for_the_look(
    name: str, fault: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, request = make_adapter(name), a_request(name, tmp_path)
    fake_portal.admin(f"faults/{name}", {"auth_request_after_filing": fault, "auth_request_hang_s": 8})

    with pytest.raises(PortalUnavailable):
        adapter.submit_auth_request(request)

    fake_portal.admin(f"faults/{name}", {"auth_request_after_filing": ""})
    [on_file] = filed(fake_portal, name)
    listed = adapter.find_auth_requests(request.member_id)
    assert [(r.reference_number, r.provider_reference) for r in listed] == [(on_file["reference"], "PA-000123")]


@pytest.mark.parametrize("name", PORTALS)
def test_a_changed_layout_is_refused_before_anything_is_typed_or_read(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    adapter, request = make_adapter(name), a_request(name, tmp_path)
    fake_portal.admin(f"faults/{name}", {"layout": 2})

    with pytest.raises(LayoutChanged):
        adapter.submit_auth_request(request)
    with pytest.raises(LayoutChanged):
        adapter.find_auth_requests(request.member_id)
    assert filed(fake_portal, name) == []


@pytest.mark.parametrize("name", PORTALS)
def test_the_portal_files_a_form_posted_twice_twice(
    name: str, make_adapter: MakeAdapter, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    """The naive portal the worker must protect: the same request submitted twice is two requests."""
    adapter, request = make_adapter(name), a_request(name, tmp_path)
    first = adapter.submit_auth_request(request)
    second = adapter.submit_auth_request(request)
    assert first.reference_number != second.reference_number
    assert len(filed(fake_portal, name)) == 2
    assert len(adapter.find_auth_requests(request.member_id)) == 2
