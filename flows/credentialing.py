"""Provider enrollment with each payer: record what the portals say, and find what will deny claims.

Findings:
- enrollment_inactive: not active with a payer while unpaid claims for that provider and payer exist
  (the claims at risk and their total are listed);
- revalidation_due: the payer's revalidation date is within N days (default 90) or past;
- caqh_due: CAQH ProView re-attestation (every 120 days) is due within N days (default 30) or past,
  where the practice records the last attestation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from flows.changes import describe_changes
from flows.findings import FindingDraft
from portals.capabilities import EnrollmentLookup, EnrollmentPortal, PayerEnrollments, PayerEnrollmentsPortal
from portals.errors import RecordNotFound
from portals.types import EnrollmentResult
from store.db import session_scope
from store.models import Claim, Enrollment, EnrollmentObservation, Provider
from store.observations import (
    ENROLLMENT_FIELDS,
    current_enrollment,
    mark_enrollment_checked,
    record_enrollment_observation,
)

ENROLLMENT_FINDINGS = ("enrollment_inactive", "revalidation_due", "caqh_due")
SETTLED_CLAIM_STATES = frozenset({"paid"})  # a paid claim is no longer at risk
# A portal shows enrollment for its own payer (`enrollment(npi)`) or for the payers behind a
# clearinghouse (`enrollments(npi)`).
EnrollmentSource = EnrollmentPortal | PayerEnrollmentsPortal


@dataclass(frozen=True)
class CredentialingRules:
    revalidation_days: int = 90
    caqh_interval_days: int = 120
    caqh_notice_days: int = 30


def enrollments_of(source: EnrollmentSource, npi: str) -> list[EnrollmentResult]:
    """Every enrollment the portal shows for this NPI; none when it has no record of the provider."""
    try:
        if isinstance(source, PayerEnrollments):
            return list(source.enrollments(npi))
        return [source.enrollment(npi)]
    except RecordNotFound:
        return []


def offers_enrollment(capabilities: Collection[type]) -> bool:
    """Whether an adapter with these capabilities shows providers' enrollment, for its payer or those behind it."""
    return EnrollmentLookup in capabilities or PayerEnrollments in capabilities


def record_enrollment(engine: Engine, result: EnrollmentResult, *, portal: str, run_id: str, at: datetime) -> str:
    fields = {name: getattr(result, name) for name in ENROLLMENT_FIELDS}
    with session_scope(engine) as session:
        changes = describe_changes(current_enrollment(session, result.npi, result.payer_id), fields, ENROLLMENT_FIELDS)
        if changes:
            record_enrollment_observation(
                session,
                EnrollmentObservation(
                    npi=result.npi,
                    payer_id=result.payer_id,
                    observed_at=at,
                    portal=portal,
                    run_id=run_id,
                    changes=changes,
                    **fields,
                ),
            )
        else:
            mark_enrollment_checked(session, result.npi, result.payer_id, at)
    return changes


def check_enrollments(
    source: EnrollmentSource,
    npis: Sequence[str],
    payer_ids: set[str],
    engine: Engine,
    *,
    run_id: str,
    now: Callable[[], datetime],
) -> tuple[int, int]:
    """Each provider's enrollment with the payers this portal answers for; returns (checked, changed)."""
    checked = changed = 0
    for npi in npis:
        for result in enrollments_of(source, npi):
            if result.payer_id not in payer_ids:
                continue
            changed += bool(record_enrollment(engine, result, portal=source.portal, run_id=run_id, at=now()))
            checked += 1
    return checked, changed


# --- findings ------------------------------------------------------------------------


def enrollment_findings(
    enrollments: Sequence[Enrollment],
    providers: Sequence[Provider],
    claims: Sequence[Claim],
    today: date,
    rules: CredentialingRules = CredentialingRules(),
) -> list[FindingDraft]:
    at_risk: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        if claim.status not in SETTLED_CLAIM_STATES:
            at_risk[(claim.rendering_npi, claim.payer_id)].append(claim)
    drafts: list[FindingDraft] = []
    for e in enrollments:
        subject = f"{e.npi}/{e.payer_id}"
        claims_here = at_risk.get((e.npi, e.payer_id), [])
        if e.status != "active" and claims_here:
            total = sum((c.billed_amount for c in claims_here), Decimal("0"))
            drafts.append(
                FindingDraft(
                    "enrollment_inactive",
                    subject,
                    e.payer_id,
                    f"provider {e.npi} is {e.status.replace('_', ' ')} with payer {e.payer_id} but has "
                    f"{len(claims_here)} unpaid claim(s) totalling {total:,.2f} with it: expect CO-B7/170/185 denials; "
                    "fix the enrollment (retroactive effective date) before more claims go out",
                    due=e.termination,
                    amount_at_risk=total,
                    claims_at_risk=tuple(sorted(c.claim_id for c in claims_here)),
                )
            )
        if e.status == "active" and e.revalidation_due and (e.revalidation_due - today).days <= rules.revalidation_days:
            drafts.append(
                FindingDraft(
                    "revalidation_due",
                    subject,
                    e.payer_id,
                    f"provider {e.npi} must revalidate with payer {e.payer_id} by {e.revalidation_due}: "
                    "a missed revalidation deactivates billing",
                    due=e.revalidation_due,
                )
            )
    for provider in providers:
        if provider.caqh_attested_date is None:
            continue
        due = provider.caqh_attested_date + timedelta(days=rules.caqh_interval_days)
        if (due - today).days <= rules.caqh_notice_days:
            drafts.append(
                FindingDraft(
                    "caqh_due",
                    provider.npi,
                    None,
                    f"provider {provider.npi} must re-attest in CAQH ProView by {due} (every "
                    f"{rules.caqh_interval_days} days): payers stop credentialing on an expired attestation",
                    due=due,
                )
            )
    return drafts
