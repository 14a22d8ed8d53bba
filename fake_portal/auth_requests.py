"""Prior-authorization requests submitted online, shared by the commercial and Medicaid portals.

A portal checks the form in its own words (`RequestForm` holds what was typed), then files it
here: the request gets the payer's reference number, which is also the number of the
authorization it becomes, pending until the fake clock reaches its decision day. Like a naive
real portal, the same form posted twice is filed twice: keeping a request from being filed
twice is the worker's job. Two faults hit after filing: "hang" holds the confirmation back and
"error" answers HTTP 500, so the sender cannot tell whether it went through.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fake_portal.filed_requests import Attachment, FiledRequest, RequestForm
from fake_portal.programs import Authorization
from fake_portal.web import world
from fake_portal.world import World

PROCEDURE_CODE = re.compile(r"\d{5}|[A-Z]\d{4}|\d{4}[FTU]")  # CPT, HCPCS Level II, CPT Category II/III
ICD10_CODE = re.compile(r"[A-TV-Z]\d[0-9A-Z](\.?[0-9A-Z]{1,4})?")
DECISION_DAYS = 3  # a request filed today is decided (approved) this many days later
REFERENCE_PREFIX = {"UHP": "UA", "LSM": "LA"}
FIRST_SERIAL = 800001
PDF_MAGIC = b"%PDF-"


MAX_UNITS = 999


@dataclass(frozen=True)
class RefusalWords:
    """One portal's words for each thing wrong with a request form ({code}, {n} and {max_units} filled in).
    A portal that says one thing for several problems (both dates) says it once."""

    no_member: str
    no_birth_date: str
    unknown_member: str
    bad_npi: str
    no_codes: str
    bad_code: str
    bad_units: str
    no_start: str
    no_end: str
    end_before_start: str
    no_diagnoses: str
    bad_diagnosis: str
    not_pdf: str


def form_problems(w: World, payer_id: str, form: RequestForm, words: RefusalWords) -> list[str]:
    """What is wrong with a request form, in the portal's words and the form's order; [] files it."""
    found = []
    if not form.member_id.isalnum():
        found.append(words.no_member)
    if form.date_of_birth is None:
        found.append(words.no_birth_date)
    if form.member_id.isalnum() and not known_member(w, {payer_id}, form.member_id):
        found.append(words.unknown_member)
    if not (form.servicing_npi.isdigit() and len(form.servicing_npi) == 10):
        found.append(words.bad_npi)
    if not form.procedure_codes:
        found.append(words.no_codes)
    found += [words.bad_code.format(code=c) for c in form.procedure_codes if not PROCEDURE_CODE.fullmatch(c)]
    if form.units is None or not 1 <= form.units <= MAX_UNITS:
        found.append(words.bad_units.format(max_units=MAX_UNITS))
    if form.start is None:
        found.append(words.no_start)
    if form.end is None:
        found.append(words.no_end)
    if form.start is not None and form.end is not None and form.end < form.start:
        found.append(words.end_before_start)
    if not form.diagnosis_codes:
        found.append(words.no_diagnoses)
    found += [words.bad_diagnosis.format(code=c) for c in form.diagnosis_codes if not ICD10_CODE.fullmatch(c)]
    found += [words.not_pdf.format(n=n) for n, a in enumerate(form.attachments, start=1) if not a.is_pdf]
    return list(dict.fromkeys(found))


def split_codes(text: str) -> tuple[str, ...]:
    return tuple(code.strip().upper() for code in re.split(r"[,;\s]+", text) if code.strip())


async def read_attachments(values: list[UploadFile | str]) -> list[Attachment]:
    found = []
    for value in values:
        if isinstance(value, UploadFile) and value.filename:
            content = await value.read()
            found.append(Attachment(value.filename, len(content), content.startswith(PDF_MAGIC)))
    return found


def known_member(w: World, payer_ids: set[str], member_id: str) -> bool:
    """A member this payer has on file: any claim or authorization of theirs."""
    wanted = member_id.upper()
    claims = w.dataset.claims_for(payer_ids)
    auths = w.programs.authorizations.values()
    return any(c.member_id.upper() == wanted for c in claims) or any(
        a.member_id.upper() == wanted and a.payer_id in payer_ids for a in auths
    )


def file_request(w: World, portal: str, payer_id: str, form: RequestForm) -> FiledRequest:
    """File a checked request: its reference number, and the pending authorization it becomes."""
    with w.lock:
        today = w.today()
        serial = FIRST_SERIAL + sum(1 for r in w.auth_requests if r.payer_id == payer_id)
        reference = f"{REFERENCE_PREFIX[payer_id]}{serial}"
        filed = FiledRequest(portal, payer_id, reference, form, today, w.now())
        w.auth_requests.append(filed)
        assert form.start is not None and form.end is not None and form.units is not None
        w.programs.authorizations[reference] = Authorization(
            auth_number=reference,
            payer_id=payer_id,
            member_id=form.member_id,
            patient_name=_patient_name(w, form.member_id),
            servicing_npi=form.servicing_npi,
            procedure_codes=form.procedure_codes,
            units_approved=form.units,
            start=form.start,
            end=form.end,
            requested=today,
            decided=today + timedelta(days=DECISION_DAYS),
            outcome="approved",
            scheduled_service=form.start,
            scenario="requested_online",
        )
        return filed


def _patient_name(w: World, member_id: str) -> str:
    wanted = member_id.upper()
    return next((c.patient_name for c in w.dataset.claims.values() if c.member_id.upper() == wanted), "")


def filed_for(w: World, portal: str, member_id: str) -> list[tuple[FiledRequest, str]]:
    """A member's requests on one portal, newest first, each with its status today."""
    wanted, today = member_id.strip().upper(), w.today()
    found = []
    for filed in w.auth_requests:
        if filed.portal == portal and filed.form.member_id.upper() == wanted:
            auth = w.programs.authorizations.get(filed.reference)
            found.append((filed, (auth.status_on(today) if auth else None) or "pending"))
    return sorted(found, key=lambda pair: pair[0].reference, reverse=True)


async def after_filing(request: Request, portal: str, answer: Response, error_page: Response) -> Response:
    """The confirmation, unless a fault hits after filing: a long hang before it, or a 500 in its place."""
    faults = world(request).faults[portal]
    if faults.auth_request_after_filing == "hang":
        await asyncio.sleep(faults.auth_request_hang_s)
    elif faults.auth_request_after_filing == "error":
        return error_page
    return answer


# --- admin: what each portal filed, so tests can count requests ---------------------------


def admin_requests(request: Request) -> Response:
    """GET /admin/auth-requests[?portal=commercial]: counts per portal and every filed request (synthetic data)."""
    w = world(request)
    wanted = request.query_params.get("portal")
    with w.lock:
        filed = [r for r in w.auth_requests if wanted in (None, r.portal)]
        counts = {p: sum(1 for r in w.auth_requests if r.portal == p) for p in ("commercial", "medicaid")}
        today = w.today()
        rows = [
            {
                "portal": r.portal,
                "payer_id": r.payer_id,
                "reference": r.reference,
                "provider_reference": r.form.provider_reference,
                "member_id": r.form.member_id,
                "procedure_codes": list(r.form.procedure_codes),
                "diagnosis_codes": list(r.form.diagnosis_codes),
                "units": r.form.units,
                "start": r.form.start.isoformat() if r.form.start else None,
                "end": r.form.end.isoformat() if r.form.end else None,
                "attachments": [a.name for a in r.form.attachments],
                "submitted_on": r.submitted_on.isoformat(),
                "status": (a.status_on(today) if (a := w.programs.authorizations.get(r.reference)) else None),
            }
            for r in filed
        ]
    return JSONResponse({"counts": counts, "total": len(rows), "requests": rows})


admin_routes = [Route("/admin/auth-requests", admin_requests)]
