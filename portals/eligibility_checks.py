"""An eligibility answer checked against itself and against the question, before it becomes data (pure).

A page that reads cleanly can still be wrong: a moved column can put the deductible met where the
deductible was, or a stale page can answer for other codes than the ones asked about. Each problem is
named without PHI, and a page object turns any problem into LayoutChanged.
"""

from __future__ import annotations

import re
from decimal import Decimal

from portals.types import EligibilityQuery, EligibilityResult

COVERAGES = frozenset({"active", "inactive", "not_found"})
# "Bluebird Health (BBH)", "Northwind Mutual (payer ID NWM)", "UNITY HEALTH PLANS - PLAN ID UHP"
PAYER_ID_SHOWN = re.compile(
    r"^(?P<name>.+?)\s*(?:\((?:payer id\s+)?(?P<a>[A-Z0-9]{2,10})\)|-\s*plan id\s+(?P<b>[A-Z0-9]{2,10}))$", re.I
)


def payer_id_shown(text: str) -> str | None:
    """The payer id a portal prints after a payer's name, None when the text names no id."""
    match = PAYER_ID_SHOWN.match(text.strip())
    if match is None:
        return None
    return (match.group("a") or match.group("b")).upper()


def problems(result: EligibilityResult, query: EligibilityQuery) -> list[str]:
    """What does not add up in `result` as an answer to `query` ([] when it is sound)."""
    found: list[str] = []
    if result.coverage not in COVERAGES:
        found.append(f"coverage {result.coverage!r} is not one of {sorted(COVERAGES)}")
    if not result.portal_words.strip():
        found.append("the portal's coverage words are empty")
    if result.coverage == "not_found":
        shown = [name for name, value in _answer_fields(result).items() if value not in (None, (), "")]
        if shown:
            found.append(f"a member not found still shows {shown}")
        return found
    found.extend(_money_problems(result))
    found.extend(_date_problems(result, query))
    unasked = set(result.auth_required_codes) - set(query.procedure_codes)
    if unasked:
        found.append(f"prior authorization is reported for codes not asked about: {sorted(unasked)}")
    if result.new_payer_id is not None and result.new_payer_id == query.payer_id:
        found.append("the coverage is said to have moved to the payer asked")
    return found


def _answer_fields(result: EligibilityResult) -> dict[str, object]:
    return {
        "member id": result.member_id,
        "plan": result.plan_name,
        "coverage dates": result.coverage_start or result.coverage_end,
        "new payer": result.new_payer_id,
        "new member id": result.new_member_id,
        "other insurance": result.other_insurance_primary,
        "auth codes": result.auth_required_codes,
        "network": result.in_network,
        "benefits": result.deductible or result.deductible_met or result.coinsurance_percent or result.copay,
    }


def _money_problems(result: EligibilityResult) -> list[str]:
    found = []
    for name, value in (("deductible", result.deductible), ("deductible met", result.deductible_met)):
        if value is not None and value < 0:
            found.append(f"{name} is negative")
    if result.copay is not None and result.copay < 0:
        found.append("copay is negative")
    if (
        result.deductible is not None
        and result.deductible_met is not None
        and result.deductible_met > result.deductible
    ):
        found.append("deductible met is more than the deductible")
    if result.coinsurance_percent is not None and not Decimal(0) <= result.coinsurance_percent <= Decimal(100):
        found.append("coinsurance is not a percentage between 0 and 100")
    return found


def _date_problems(result: EligibilityResult, query: EligibilityQuery) -> list[str]:
    start, end, day = result.coverage_start, result.coverage_end, query.service_date
    if start is not None and end is not None and end < start:
        return ["coverage ends before it begins"]
    inside = (start is None or start <= day) and (end is None or day <= end)
    if result.coverage == "active" and not inside:
        return ["coverage is active but the service date is outside its dates"]
    if result.coverage == "inactive" and end is not None and inside:
        return ["coverage is inactive but the service date is inside its dates"]
    return []
