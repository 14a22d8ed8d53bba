"""What every portal's eligibility answer page does the same way: planned codes matched to the question,
percentages, a member id that changed, and the whole answer checked against itself before it is returned."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from portals.base import BLANK
from portals.eligibility_checks import payer_id_shown, problems
from portals.identifiers import same_id
from portals.pages import PageObject
from portals.types import EligibilityQuery, EligibilityResult


def codes_needing_auth(
    page: PageObject[Any], table: str, headers: list[str], query: EligibilityQuery, words: Mapping[str, bool]
) -> tuple[str, ...]:
    """The asked codes the portal's table (`headers`: code column, then prior-auth column) marks as needing
    prior authorization; every asked code must be shown once. No codes asked, no table read."""
    if not query.procedure_codes:
        return ()
    rows = page.table_rows(page.required(table, "planned services table"), headers)
    code_column, auth_column = headers
    codes = [row.cells[code_column].strip().upper() for row in rows]
    if sorted(codes) != sorted({c.upper() for c in query.procedure_codes}):
        raise page.changed("its planned services are not the procedure codes asked about")
    return tuple(
        code for code, row in zip(codes, rows, strict=True) if page.word(words, row.cells[auth_column], "prior auth")
    )


def other_primary(page: PageObject[Any], text: str, none_words: str, wording: re.Pattern[str]) -> str | None:
    """The other insurance that pays first as the portal names it (`wording`'s group 'payer'), None when the
    portal says there is none (`none_words`); other words mean the page changed."""
    if text.strip().lower() == none_words:
        return None
    match = wording.match(text.strip())
    if match is None:
        raise page.changed("its coordination of benefits is not worded as the adapter knows")
    return match.group("payer").strip()


def percent(page: PageObject[Any], text: str, what: str) -> Decimal | None:
    """'20%' -> Decimal('20'); blank is None; anything else means the page changed."""
    cleaned = text.strip()
    if cleaned in BLANK:
        return None
    try:
        if not cleaned.endswith("%"):
            raise InvalidOperation
        return Decimal(cleaned[:-1].strip())
    except InvalidOperation:
        raise page.changed(f"{what} is not a percentage") from None


def member_id_if_changed(shown: str | None, query: EligibilityQuery) -> str | None:
    """The member id on file when it is not the one asked with (a plan change), else None."""
    return None if shown is None or same_id(shown, query.member_id) else shown


def payer_moved_to(page: PageObject[Any], text: str, what: str) -> str | None:
    """The payer id a 'coverage moved to' line names; blank or 'none' is None, a line without an id a change."""
    if text.strip() in BLANK or text.strip().lower() == "none":
        return None
    payer_id = payer_id_shown(text)
    if payer_id is None:
        raise page.changed(f"{what} names no payer id")
    return payer_id


def with_benefits(page: PageObject[Any], result: EligibilityResult, shown: Mapping[str, str]) -> EligibilityResult:
    """The result with the benefits the page shows (keys deductible, deductible_met, coinsurance, copay; a
    benefit not shown stays None, never a guessed zero)."""
    return replace(
        result,
        deductible=page.money(shown.get("deductible", ""), "deductible"),
        deductible_met=page.money(shown.get("deductible_met", ""), "deductible met"),
        coinsurance_percent=percent(page, shown.get("coinsurance", ""), "coinsurance"),
        copay=page.money(shown.get("copay", ""), "copay"),
    )


def checked(page: PageObject[Any], result: EligibilityResult, query: EligibilityQuery) -> EligibilityResult:
    """The result, once it adds up (see portals.eligibility_checks); else the page is not read."""
    found = problems(result, query)
    if found:
        raise page.changed(f"its eligibility answer does not add up: {'; '.join(found)}")
    return result
