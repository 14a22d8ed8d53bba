"""Prior authorizations and provider enrollments of the fake practice, over the fake clock.

Each payer with an authorization program (Unity, Lakeshore Medicaid) gets every
authorization situation a billing team meets, in the same order whatever the
seed: approved and healthy, expiring soon with visits left, nearly used up,
pending past the scheduled service, pending that is decided after a few days,
denied, approved that expires in a few days, cancelled, and one whose claim was
billed for a code the authorization does not cover. Enrollments cover every
provider with every payer: mostly active, plus one in process that goes active,
one lapsed while claims exist, one denied and one with revalidation due soon.
All people and numbers are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from fake_portal.data import PAYERS, Claim, Dataset

AUTH_PAYERS = ("UHP", "LSM")  # the payers whose portals offer an authorization lookup

AUTH_SCENARIOS = (
    "healthy",
    "expiring",
    "nearly_used",
    "pending_overdue",
    "pending_then_approved",
    "denied",
    "expires_soon",
    "cancelled",
    "claim_outside",
)

THERAPY_CODES = ("97110", "97112", "97140", "97530")


@dataclass
class Authorization:
    auth_number: str
    payer_id: str
    member_id: str
    patient_name: str  # synthetic, still PHI
    servicing_npi: str
    procedure_codes: tuple[str, ...]
    units_approved: int
    start: date
    end: date
    requested: date
    decided: date | None  # None: still pending whatever the clock says
    outcome: str  # approved | denied | cancelled | pending
    scheduled_service: date  # the visit the practice booked against it
    scenario: str
    denial_reason: str | None = None
    visits: tuple[date, ...] = ()  # each visit uses one unit

    def status_on(self, today: date) -> str | None:
        """pending, approved, denied, cancelled or expired; None before it was requested."""
        if today < self.requested:
            return None
        if self.decided is None or today < self.decided:
            return "pending"
        if self.outcome == "approved" and today > self.end:
            return "expired"
        return self.outcome

    def units_used_on(self, today: date) -> int:
        if self.status_on(today) not in {"approved", "expired"}:
            return 0
        return sum(1 for visit in self.visits if visit <= today)


@dataclass
class Enrollment:
    npi: str
    payer_id: str
    payer_provider_id: str
    scenario: str
    history: list[tuple[date, str]] = field(default_factory=list)  # (from day, status)
    effective: date | None = None
    termination: date | None = None
    revalidation_due: date | None = None
    era_enrolled: bool = True
    eft_enrolled: bool = True

    def status_on(self, today: date) -> str:
        """in_process, active, denied or terminated."""
        current = "in_process"
        for day, status in self.history:
            if day <= today:
                current = status
        return current


@dataclass
class Programs:
    authorizations: dict[str, Authorization]
    enrollments: dict[tuple[str, str], Enrollment]  # (npi, payer id)
    claim_auths: dict[str, str]  # practice claim id -> the auth number the practice put on it
    caqh_attested: dict[str, date]  # npi -> last CAQH attestation the practice recorded


def generate_programs(dataset: Dataset, seed: int = 7) -> Programs:
    """The same data set and seed always give the same authorizations and enrollments."""
    rng = random.Random(seed * 31 + 1)
    start = dataset.start
    authorizations: dict[str, Authorization] = {}
    claim_auths: dict[str, str] = {}
    serial = 700001
    for payer_id in AUTH_PAYERS:
        claims = sorted(
            (c for c in dataset.claims.values() if c.payer_id == payer_id and c.on_file), key=lambda c: c.claim_id
        )
        for n, scenario in enumerate(AUTH_SCENARIOS):
            claim = claims[n % len(claims)]
            auth = _authorization(rng, start, f"{payer_id[0]}A{serial}", payer_id, claim, scenario)
            authorizations[auth.auth_number] = auth
            if scenario == "claim_outside":
                claim_auths[claim.claim_id] = auth.auth_number
            serial += 1
    enrollments = {}
    for p_index, provider in enumerate(dataset.providers):
        for payer in PAYERS:
            enrollment = _enrollment(rng, start, provider.npi, payer.id, _enrollment_scenario(p_index, payer.id))
            enrollments[(provider.npi, payer.id)] = enrollment
    caqh = {provider.npi: start - timedelta(days=30 + 20 * i) for i, provider in enumerate(dataset.providers)}
    caqh[dataset.providers[-1].npi] = start - timedelta(days=112)  # re-attestation due in 8 days
    return Programs(authorizations, enrollments, claim_auths, caqh)


def _authorization(
    rng: random.Random, start: date, number: str, payer_id: str, claim: Claim, scenario: str
) -> Authorization:
    codes = tuple(sorted(rng.sample(THERAPY_CODES, 2)))
    auth = Authorization(
        auth_number=number,
        payer_id=payer_id,
        member_id=claim.member_id,
        patient_name=claim.patient_name,
        servicing_npi=claim.rendering_npi,
        procedure_codes=codes,
        units_approved=12,
        start=start - timedelta(days=30),
        end=start + timedelta(days=60),
        requested=start - timedelta(days=40),
        decided=start - timedelta(days=33),
        outcome="approved",
        scheduled_service=start + timedelta(days=7),
        scenario=scenario,
    )
    weekly = tuple(auth.start + timedelta(days=7 * i) for i in range(12))
    if scenario == "healthy":
        auth.visits = weekly[:6]  # the last one falls after the start: units are used as the clock moves
    elif scenario == "expiring":
        auth.end, auth.visits = start + timedelta(days=10), weekly[:3]
    elif scenario == "nearly_used":
        auth.units_approved = 10
        auth.visits = weekly[:5] + tuple(start + timedelta(days=d) for d in (-4, -3, -2, -1, 2))
    elif scenario == "pending_overdue":
        auth.requested, auth.decided, auth.outcome = start - timedelta(days=12), None, "pending"
        auth.scheduled_service = start - timedelta(days=2)
    elif scenario == "pending_then_approved":
        auth.requested, auth.decided = start - timedelta(days=5), start + timedelta(days=3)
        auth.start, auth.scheduled_service = start + timedelta(days=3), start + timedelta(days=10)
    elif scenario == "denied":
        auth.outcome, auth.units_approved = "denied", 0
        auth.denial_reason = "Not medically necessary: conservative therapy not documented"
    elif scenario == "expires_soon":
        auth.end, auth.visits = start + timedelta(days=4), weekly[:2]
    elif scenario == "cancelled":
        auth.outcome, auth.units_approved = "cancelled", 0
    elif scenario == "claim_outside":
        # the claim it is billed on carries codes this authorization does not approve
        billed = {line.procedure for line in claim.lines}
        auth.procedure_codes = tuple(c for c in THERAPY_CODES if c not in billed)[:2]
        auth.start, auth.end = claim.dos_from - timedelta(days=20), claim.dos_from + timedelta(days=40)
        auth.visits = (claim.dos_from,)
    return auth


def _enrollment_scenario(provider_index: int, payer_id: str) -> str:
    special = {
        (1, "UHP"): "in_process_then_active",
        (2, "LSM"): "lapsed",
        (0, "BBH"): "denied",
        (3, "NWM"): "revalidation_due",
    }
    return special.get((provider_index, payer_id), "active")


def _enrollment(rng: random.Random, start: date, npi: str, payer_id: str, scenario: str) -> Enrollment:
    enrollment = Enrollment(npi, payer_id, f"{payer_id}{rng.randrange(10**6, 10**7)}", scenario)
    since = start - timedelta(days=rng.randrange(400, 1500))
    enrollment.history = [(since - timedelta(days=60), "in_process"), (since, "active")]
    enrollment.effective = since
    enrollment.revalidation_due = since + timedelta(days=5 * 365)
    if scenario == "in_process_then_active":
        enrollment.history = [(start - timedelta(days=20), "in_process"), (start + timedelta(days=5), "active")]
        enrollment.effective = start + timedelta(days=5)
        enrollment.revalidation_due = enrollment.effective + timedelta(days=5 * 365)
        enrollment.era_enrolled = enrollment.eft_enrolled = False
    elif scenario == "lapsed":
        enrollment.termination = start - timedelta(days=15)
        enrollment.history.append((enrollment.termination, "terminated"))
    elif scenario == "denied":
        enrollment.history = [(start - timedelta(days=90), "in_process"), (start - timedelta(days=30), "denied")]
        enrollment.effective = enrollment.revalidation_due = None
        enrollment.era_enrolled = enrollment.eft_enrolled = False
    elif scenario == "revalidation_due":
        enrollment.revalidation_due = start + timedelta(days=45)
    return enrollment


def pms_auth_rows(programs: Programs) -> list[dict[str, str]]:
    """The practice's own record of its authorizations (PM system export)."""
    return [
        {
            "auth_number": a.auth_number,
            "payer_id": a.payer_id,
            "member_id": a.member_id,
            "patient_name": a.patient_name,
            "servicing_npi": a.servicing_npi,
            "procedure_codes": ";".join(a.procedure_codes),
            "units_approved": str(a.units_approved),
            "start_date": a.start.isoformat(),
            "end_date": a.end.isoformat(),
            "scheduled_date": a.scheduled_service.isoformat(),
        }
        for a in programs.authorizations.values()
    ]


def pms_provider_rows(dataset: Dataset, programs: Programs) -> list[dict[str, str]]:
    """The practice's providers, with the CAQH attestation date it keeps."""
    return [
        {"npi": p.npi, "name": p.name, "caqh_attested_date": programs.caqh_attested[p.npi].isoformat()}
        for p in dataset.providers
    ]
