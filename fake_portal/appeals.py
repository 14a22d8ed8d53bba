"""Appeals and reconsiderations filed online, shared by the commercial portal and the clearinghouse.

A portal reads the form (`AppealForm`), checks it in its own words, then files it here: the appeal
gets the portal's confirmation number and goes into the world's `AppealBook`, which says where it
stands as the fake clock moves. Like a naive real portal, the same form posted twice is filed twice.
The `appeal_after_filing` fault hits after filing: "hang" holds the confirmation back and "error"
answers HTTP 500 in its place, so the sender cannot tell whether it went through.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fake_portal.auth_requests import read_attachments
from fake_portal.data import Claim
from fake_portal.filed_appeals import DECISIONS, AppealForm, FiledAppeal, Outcome, Standing
from fake_portal.web import world
from fake_portal.world import World

CONFIRMATION_PREFIX = {"commercial": "UAP", "clearinghouse": "SXA-"}
FIRST_SERIAL = 700001
LEVELS = (1, 2)
FINAL_CATEGORIES = ("F1", "F2")  # only a claim the payer has decided can be appealed
MONEY = re.compile(r"\$?\s*\d{1,3}(,?\d{3})*(\.\d{1,2})?")


@dataclass(frozen=True)
class AppealWords:
    """One portal's words for each thing wrong with an appeal form ({billed} filled in)."""

    no_claim: str
    unknown_claim: str
    not_final: str
    no_level: str
    no_reason: str
    bad_amount: str
    over_billed: str
    no_attachment: str
    not_pdf: str


async def read_form(posted: FormData) -> AppealForm:
    values = {k: str(v) for k, v in posted.items() if not isinstance(v, UploadFile)}
    level = values.get("level", "").strip()
    return AppealForm(
        payer_claim_number=values.get("payer_claim_number", "").strip().upper(),
        provider_reference=values.get("provider_reference", "").strip(),
        level=int(level) if level.isdigit() and int(level) in LEVELS else None,
        reason=values.get("reason", "").strip(),
        disputed_amount=parse_amount(values.get("disputed_amount", "")),
        attachments=await read_attachments(posted.getlist("attachments")),
    )


def parse_amount(text: str) -> Decimal | None:
    cleaned = text.strip()
    if not MONEY.fullmatch(cleaned):
        return None
    try:
        return Decimal(cleaned.replace("$", "").replace(",", "").strip())
    except InvalidOperation:  # pragma: no cover  (the pattern lets only amounts through)
        return None


def claim_on_file(w: World, payer_ids: set[str], payer_claim_number: str) -> Claim | None:
    """The payer's claim by its number, once the payer has received it."""
    wanted = payer_claim_number.strip().upper()
    today = w.today()
    for claim in w.dataset.claims_for(payer_ids):
        if claim.payer_claim_number.upper() == wanted and claim.status_on(today) is not None:
            return claim
    return None


def form_problems(w: World, payer_ids: set[str], form: AppealForm, words: AppealWords) -> list[str]:
    """What is wrong with an appeal form, in the portal's words and the form's order; [] files it."""
    found = []
    claim = claim_on_file(w, payer_ids, form.payer_claim_number) if form.payer_claim_number else None
    if not form.payer_claim_number:
        found.append(words.no_claim)
    elif claim is None:
        found.append(words.unknown_claim)
    elif (status := claim.status_on(w.today())) is None or status.category not in FINAL_CATEGORIES:
        found.append(words.not_final)
    if form.level is None:
        found.append(words.no_level)
    if not form.reason:
        found.append(words.no_reason)
    if form.disputed_amount is None or form.disputed_amount <= 0:
        found.append(words.bad_amount)
    elif claim is not None and form.disputed_amount > claim.billed:
        found.append(words.over_billed.format(billed=f"${claim.billed:,.2f}"))
    if not form.attachments:
        found.append(words.no_attachment)
    elif not all(a.is_pdf for a in form.attachments):
        found.append(words.not_pdf)
    return found


def file_appeal(w: World, portal: str, claim: Claim, form: AppealForm) -> FiledAppeal:
    """File a checked appeal under the portal's next confirmation number."""
    with w.lock:
        serial = FIRST_SERIAL + sum(1 for a in w.appeals.appeals if a.portal == portal)
        filed = FiledAppeal(
            portal=portal,
            payer_id=claim.payer_id,
            confirmation_number=f"{CONFIRMATION_PREFIX[portal]}{serial}",
            claim_id=claim.claim_id,
            form=form,
            submitted_on=w.today(),
            submitted_at=w.now(),
        )
        w.appeals.file(filed, w.dataset)
        return filed


def with_standing(w: World, appeals: list[FiledAppeal]) -> list[tuple[FiledAppeal, Standing]]:
    today = w.today()
    return [(a, w.appeals.standing(a, today)) for a in appeals]


async def after_filing(request: Request, portal: str, answer: Response, error_page: Response) -> Response:
    """The confirmation, unless a fault hits after filing: a long hang before it, or a 500 in its place."""
    faults = world(request).faults[portal]
    if faults.appeal_after_filing == "hang":
        await asyncio.sleep(faults.appeal_hang_s)
    elif faults.appeal_after_filing == "error":
        return error_page
    return answer


# --- admin: what was filed, and how the payer will decide ------------------------------------


def admin_appeals(request: Request) -> Response:
    """GET /admin/appeals[?portal=commercial]: counts per portal and every filed appeal (synthetic data)."""
    w = world(request)
    wanted = request.query_params.get("portal")
    with w.lock:
        today = w.today()
        counts = {p: sum(1 for a in w.appeals.appeals if a.portal == p) for p in CONFIRMATION_PREFIX}
        rows = [_appeal_row(a, w.appeals.standing(a, today)) for a in w.appeals.appeals if wanted in (None, a.portal)]
    return JSONResponse({"counts": counts, "total": len(rows), "appeals": rows})


def _appeal_row(appeal: FiledAppeal, standing: Standing) -> dict[str, object]:
    form = appeal.form
    return {
        "portal": appeal.portal,
        "payer_id": appeal.payer_id,
        "confirmation_number": appeal.confirmation_number,
        "payer_claim_number": form.payer_claim_number,
        "claim_id": appeal.claim_id,
        "provider_reference": form.provider_reference,
        "level": form.level,
        "reason": form.reason,
        "disputed_amount": _money(form.disputed_amount),
        "attachments": [a.name for a in form.attachments],
        "submitted_on": appeal.submitted_on.isoformat(),
        "status": standing.status,
        "decided_on": _day(standing.decided_on),
        "amount_overturned": _money(standing.amount),
        "decision_words": standing.words or None,
    }


async def admin_outcome(request: Request) -> Response:
    """POST /admin/appeals/outcome: how the payer decides one appeal (confirmation_number) or every appeal
    of one claim (payer_claim_number), before or after filing."""
    w = world(request)
    try:
        body = await request.json()
        outcome = _outcome(body)
    except (ValueError, TypeError, InvalidOperation) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    with w.lock:
        if confirmation := str(body.get("confirmation_number") or ""):
            appeal = w.appeals.find(confirmation)
            if appeal is None:
                return JSONResponse({"error": f"no appeal {confirmation!r} on file"}, status_code=404)
            w.appeals.by_appeal[appeal.confirmation_number] = outcome
        elif claim_number := str(body.get("payer_claim_number") or "").upper():
            if not any(c.payer_claim_number == claim_number for c in w.dataset.claims.values()):
                return JSONResponse({"error": f"no claim {claim_number!r} in the data set"}, status_code=404)
            w.appeals.by_claim[claim_number] = outcome
        else:
            return JSONResponse({"error": "give confirmation_number or payer_claim_number"}, status_code=400)
        w.appeals.repay_all(w.dataset)
    return JSONResponse({**asdict(outcome), "amount": _money(outcome.amount)})


def _outcome(body: object) -> Outcome:
    if not isinstance(body, dict):
        raise TypeError("the body must be a JSON object")
    known = {"confirmation_number", "payer_claim_number", "decision", "amount", "words"}
    known |= {"review_after_days", "decide_after_days"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown}; known: {sorted(known)}")
    decision = str(body.get("decision", "overturned"))
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {list(DECISIONS)}")
    amount = Decimal(str(body["amount"])) if body.get("amount") is not None else None
    if amount is not None and (amount < 0 or decision == "upheld"):
        raise ValueError("amount must be zero or more, and only for an overturn")
    review, decide = int(body.get("review_after_days", 3)), int(body.get("decide_after_days", 14))
    if not 0 <= review <= decide:
        raise ValueError("review_after_days must be between 0 and decide_after_days")
    return Outcome(decision, amount, str(body.get("words", "")), review, decide)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


admin_routes = [
    Route("/admin/appeals", admin_appeals),
    Route("/admin/appeals/outcome", admin_outcome, methods=["POST"]),
]
