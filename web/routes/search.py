"""Search: one box for a claim id, patient, member id, payer claim number or check/EFT number, and filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from flows.list_tables import claims_table
from store.list_exports import claims_for_export
from store.search import DEFAULT_SORT, SORTS, ClaimSearch, claim_by_id, payer_choices, search_claims, status_choices
from web.deps import CurrentStaff, Db
from web.downloads import carries_patient_names, download, export_format
from web.templating import render

router = APIRouter()
PAGE_SIZE = 25
MAX_TEXT = 100
FILTER_FIELDS = (
    "q",
    "payer",
    "status",
    "dos_from",
    "dos_to",
    "submitted_from",
    "submitted_to",
    "billed_min",
    "billed_max",
)


@dataclass
class Asked:
    """The search as the form sent it (text kept as typed, to show back) and what was wrong with it."""

    raw: dict[str, str]
    search: ClaimSearch
    page: int
    errors: list[str] = field(default_factory=list)

    def link(self, **changes: str | int) -> str:
        """This search's URL with some parameters changed (a page, a sort)."""
        query = self.query(**changes)
        return "/search?" + query if query else "/search"

    def query(self, **changes: str | int) -> str:
        """This search as a query string (without its page unless given): what an export of it carries."""
        params = {name: value for name, value in self.raw.items() if value and name != "page"}
        params.update({name: str(value) for name, value in changes.items()})
        return urlencode(params)

    def sort_link(self, column: str) -> str:
        descending = not (self.search.sort == column and self.search.descending)
        return self.link(sort=column, dir="desc" if descending else "asc", page=1)

    def described(self) -> str:
        """What was searched, in words, for the "no match" message."""
        words = [f"“{self.raw['q']}”"] if self.raw.get("q") else []
        labels = {
            "payer": "payer",
            "status": "status",
            "dos_from": "DOS from",
            "dos_to": "DOS to",
            "submitted_from": "submitted from",
            "submitted_to": "submitted to",
            "billed_min": "billed at least",
            "billed_max": "billed at most",
        }
        words += [f"{label} {self.raw[name]}" for name, label in labels.items() if self.raw.get(name)]
        return ", ".join(words)


def read_search(request: Request) -> Asked:
    raw = {name: request.query_params.get(name, "").strip() for name in (*FILTER_FIELDS, "sort", "dir", "page")}
    errors: list[str] = []
    text = raw["q"][:MAX_TEXT] or None
    if len(raw["q"]) > MAX_TEXT:
        errors.append(f"The search text is longer than {MAX_TEXT} characters.")
    sort = raw["sort"] if raw["sort"] in SORTS else DEFAULT_SORT
    search = ClaimSearch(
        text=text,
        payer_id=raw["payer"] or None,
        status=raw["status"] or None,
        dos_from=_day(raw["dos_from"], "Date of service from", errors),
        dos_to=_day(raw["dos_to"], "Date of service to", errors),
        submitted_from=_day(raw["submitted_from"], "Submitted from", errors),
        submitted_to=_day(raw["submitted_to"], "Submitted to", errors),
        billed_min=_amount(raw["billed_min"], "Billed at least", errors),
        billed_max=_amount(raw["billed_max"], "Billed at most", errors),
        sort=sort,
        descending=raw["dir"] != "asc",
    )
    for low, high, what in (
        (search.dos_from, search.dos_to, "date of service"),
        (search.submitted_from, search.submitted_to, "submitted date"),
        (search.billed_min, search.billed_max, "billed amount"),
    ):
        if low is not None and high is not None and low > high:  # type: ignore[operator]
            errors.append(f"The {what} range ends before it starts.")
    page = int(raw["page"]) if raw["page"].isdigit() and 0 < int(raw["page"]) < 100_000 else 1
    return Asked(raw, search, page, errors)


def _day(text: str, label: str, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}: “{text[:40]}” is not a date (YYYY-MM-DD).")
        return None


def _amount(text: str, label: str, errors: list[str]) -> Decimal | None:
    if not text:
        return None
    try:
        amount = Decimal(text.replace(",", "").removeprefix("$"))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > Decimal("10000000000"):
        errors.append(f"{label}: “{text[:40]}” is not an amount in dollars (e.g. 150 or 1,250.00).")
        return None
    return amount


@router.get("/search/export.{fmt}")
def export(request: Request, db: Db, staff: CurrentStaff, fmt: str) -> Response:
    """Every claim the search matches (every claim when nothing is asked), in the page's order."""
    export_format(fmt)
    asked = read_search(request)
    if asked.errors:
        return Response(" ".join(asked.errors), status_code=400, media_type="text/plain; charset=utf-8")
    table = claims_table(claims_for_export(db, asked.search), patient_names=carries_patient_names(request))
    return download(request, db, staff, table, fmt, asked.query())


@router.get("/search")
def search_page(request: Request, db: Db, staff: CurrentStaff) -> Response:
    asked = read_search(request)
    htmx = bool(request.headers.get("HX-Request"))
    if not asked.errors and asked.search.text and not htmx:
        exact = claim_by_id(db, asked.search.text)
        if exact is not None:
            return RedirectResponse("/claims/" + quote(exact.claim_id, safe=""), status_code=303)
    results = None
    if not asked.errors and not asked.search.empty:
        results = search_claims(db, asked.search, PAGE_SIZE, (asked.page - 1) * PAGE_SIZE)
    template = "search_results.html" if htmx else "search.html"
    return render(
        request,
        template,
        status_code=400 if asked.errors and not htmx else 200,
        title="Search",
        asked=asked,
        results=results,
        payers=payer_choices(db),
        statuses=status_choices(db),
        page_size=PAGE_SIZE,
    )
