"""Claim detail pages that drift the way a payer's release might ship them (the `page_drift` fault).

- "unbalanced": one adjustment row is dropped, so the page's money no longer adds up;
- "signs": adjustments are shown negative (the money is the same, the sign convention is not);
- "sections": every table row sits in its own tbody;
- "paged": the claim's adjustment (or service line) rows come a few at a time, with a "Next" link;
- "circular": paged, but the last page's "Next" leads back to the first;
- "more": only the first row shows, the rest behind a "Show N more" button that needs script.

Each portal's claim detail passes its rows through `drifted` and its status through
`drifted_status`; the templates draw `DriftedTable` with the macros in templates/page_drift.html.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from starlette.requests import Request

from fake_portal.data import Status

T = TypeVar("T")
KINDS = ("", "unbalanced", "signs", "sections", "paged", "circular", "more")
ROWS_PER_PAGE = 2
ROWS_BEFORE_MORE = 1


class PageDrift(str):
    """A `Faults.page_drift` value: one of `KINDS` ("" is none); anything else is refused when set."""

    __slots__ = ()

    def __new__(cls, value: object = "") -> PageDrift:
        text = str(value)
        if text not in KINDS:
            raise ValueError(f"unknown page_drift {text!r}; known: {[k for k in KINDS if k]}")
        return super().__new__(cls, text)


@dataclass(frozen=True)
class DriftedTable(Generic[T]):
    """A table's rows as the drifted page draws them."""

    sections: list[list[T]]  # one tbody each
    next_url: str = ""  # the next page of rows ("" on the last page)
    hidden: int = 0  # rows behind the "show more" button


def drifted_status(drift: str, status: Status) -> Status:
    """The status whose adjustments the page shows: one dropped, or every one negated."""
    if drift == "unbalanced" and status.adjustments:
        return replace(status, adjustments=status.adjustments[:-1])
    if drift == "signs":
        return replace(status, adjustments=tuple(replace(a, amount=-a.amount) for a in status.adjustments))
    return status


def drifted(drift: str, rows: list[T], request: Request, *, pageable: bool = True) -> DriftedTable[T]:
    """How one table of the page shows `rows` under the drift (only the `pageable` table is paged or cut)."""
    if drift == "sections":
        return DriftedTable([[row] for row in rows] or [[]])
    if drift in {"paged", "circular"} and pageable:
        page = _page_number(request)
        start = (page - 1) * ROWS_PER_PAGE
        if start + ROWS_PER_PAGE < len(rows):
            target = request.url.include_query_params(page=page + 1)
        elif drift == "circular":
            target = request.url.include_query_params(page=1)
        else:
            return DriftedTable([rows[start : start + ROWS_PER_PAGE]])
        return DriftedTable([rows[start : start + ROWS_PER_PAGE]], f"{target.path}?{target.query}")
    if drift == "more" and pageable and len(rows) > ROWS_BEFORE_MORE:
        return DriftedTable([rows[:ROWS_BEFORE_MORE]], hidden=len(rows) - ROWS_BEFORE_MORE)
    return DriftedTable([rows])


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(int(text), 1) if text.isdigit() else 1


NO_PAGE_DRIFT = PageDrift()
