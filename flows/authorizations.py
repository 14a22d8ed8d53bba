"""Prior authorizations: record what the payer says, and find the ones about to cause a denial.

Findings (rules below, thresholds from config):
- auth_expiring: approved, ends within N days, units still unused;
- auth_units_high: approved, units used at or above the threshold (default 80 %);
- auth_denied: the payer denied it;
- auth_pending_overdue: still pending on or after the scheduled service date;
- claim_outside_auth: a claim billed under it for a code it does not approve or a date outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from flows.changes import describe_changes
from flows.findings import FindingDraft
from portals.capabilities import AuthorizationPortal
from portals.errors import RecordNotFound
from portals.identifiers import normal_id
from portals.types import AuthorizationResult
from store.db import session_scope
from store.models import Authorization, AuthorizationObservation, Claim
from store.observations import latest_auth_observation, mark_auth_checked, record_auth_observation

AUTH_FINDINGS = ("auth_expiring", "auth_units_high", "auth_denied", "auth_pending_overdue", "claim_outside_auth")
COMPARED = ("status", "units_approved", "units_used", "start", "end", "procedure_codes", "denial_reason")


@dataclass(frozen=True)
class AuthRules:
    expiry_days: int = 14
    units_threshold: float = 0.8


def observation_fields(result: AuthorizationResult | None) -> dict[str, Any]:
    """None: the payer has no such authorization on file."""
    if result is None:
        return {
            "status": "not_on_file",
            "units_approved": None,
            "units_used": None,
            "start": None,
            "end": None,
            "procedure_codes": [],
            "denial_reason": None,
        }
    return {
        "status": result.status,
        "units_approved": result.units_approved,
        "units_used": result.units_used,
        "start": result.start,
        "end": result.end,
        "procedure_codes": list(result.procedure_codes),
        "denial_reason": result.denial_reason,
    }


def record_authorization(
    engine: Engine, auth_number: str, result: AuthorizationResult | None, *, portal: str, run_id: str, at: datetime
) -> str:
    """Record an observation only when something changed; returns what changed ('' for nothing)."""
    fields = observation_fields(result)
    with session_scope(engine) as session:
        changes = describe_changes(latest_auth_observation(session, auth_number), fields, COMPARED)
        if changes:
            record_auth_observation(
                session,
                AuthorizationObservation(
                    auth_number=auth_number, observed_at=at, portal=portal, run_id=run_id, changes=changes, **fields
                ),
            )
        mark_auth_checked(session, auth_number, at)
    return changes


def check_authorizations(
    source: AuthorizationPortal,
    auth_numbers: Sequence[str],
    engine: Engine,
    *,
    run_id: str,
    now: Callable[[], datetime],
) -> tuple[int, int]:
    """Look each authorization up; returns (checked, changed). A portal error stops the batch (raised)."""
    checked = changed = 0
    for number in auth_numbers:
        try:
            result: AuthorizationResult | None = source.authorization(number)
        except RecordNotFound:
            result = None
        changed += bool(record_authorization(engine, number, result, portal=source.portal, run_id=run_id, at=now()))
        checked += 1
    return checked, changed


# --- findings ------------------------------------------------------------------------


def _window(auth: Authorization) -> tuple[date, date, set[str], int]:
    """What the payer approved, falling back to the practice's record before the first check."""
    return (
        auth.portal_start or auth.start_date,
        auth.portal_end or auth.end_date,
        set(auth.portal_codes or auth.procedure_codes),
        auth.portal_units_approved or auth.units_approved,
    )


def outside_of(
    auth: Authorization, procedure_codes: Sequence[str], dos_from: date, dos_to: date
) -> tuple[list[str], bool]:
    """What of a claim billed under `auth` it does not cover: the codes not on it, and whether the service
    dates fall outside its window (what the payer approved, else the practice's record)."""
    start, end, codes, _ = _window(auth)
    return sorted(set(procedure_codes) - codes), dos_from < start or dos_to > end


def auth_findings(
    auths: Sequence[Authorization], claims: Sequence[Claim], today: date, rules: AuthRules = AuthRules()
) -> list[FindingDraft]:
    drafts: list[FindingDraft] = []
    for auth in auths:
        start, end, _, approved = _window(auth)
        used = auth.units_used or 0
        number, payer = auth.auth_number, auth.payer_id
        if auth.status == "approved":
            days_left = (end - today).days
            if 0 <= days_left <= rules.expiry_days and used < approved:
                drafts.append(
                    FindingDraft(
                        "auth_expiring",
                        number,
                        payer,
                        f"authorization {number} ends {end} with {approved - used} of {approved} units unused: "
                        "request an extension or schedule the remaining visits",
                        due=end,
                    )
                )
            if approved and used / approved >= rules.units_threshold:
                drafts.append(
                    FindingDraft(
                        "auth_units_high",
                        number,
                        payer,
                        f"authorization {number} has used {used} of {approved} units ({used / approved:.0%}): "
                        "request more units before the next visit",
                        due=end,
                    )
                )
        if auth.status == "denied":
            drafts.append(
                FindingDraft(
                    "auth_denied",
                    number,
                    payer,
                    f"authorization {number} was denied ({auth.denial_reason or 'no reason given'}): do not provide "
                    "the service without an approval; appeal or request again with records",
                    due=auth.scheduled_date,
                )
            )
        if auth.status == "pending" and auth.scheduled_date and auth.scheduled_date <= today:
            drafts.append(
                FindingDraft(
                    "auth_pending_overdue",
                    number,
                    payer,
                    f"authorization {number} is still pending and the service was scheduled for "
                    f"{auth.scheduled_date}: call the payer or reschedule",
                    due=auth.scheduled_date,
                )
            )
    by_number = {normal_id(a.auth_number): a for a in auths}
    for claim in claims:
        billed_under = by_number.get(normal_id(claim.prior_auth_number or ""))
        if billed_under is None:
            continue
        start, end, _, _ = _window(billed_under)
        outside_codes, outside_dates = outside_of(billed_under, claim.procedure_codes, claim.dos_from, claim.dos_to)
        if outside_codes or outside_dates:
            why = []
            if outside_codes:
                why.append(f"codes {', '.join(outside_codes)} are not on it")
            if outside_dates:
                why.append(f"the service dates fall outside {start} to {end}")
            drafts.append(
                FindingDraft(
                    "claim_outside_auth",
                    claim.claim_id,
                    claim.payer_id,
                    f"claim {claim.claim_id} is billed under authorization {billed_under.auth_number} "
                    f"but {' and '.join(why)}: "
                    "expect a CO-197/198 denial; get the authorization amended or correct the claim",
                    amount_at_risk=claim.billed_amount,
                    claims_at_risk=(claim.claim_id,),
                )
            )
    return drafts
