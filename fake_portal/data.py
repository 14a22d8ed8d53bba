"""A deterministic, synthetic practice and its payers, generated from a seed.

Every payer gets every claim state (paid, partially paid, pending that adjudicates
later, denied with realistic CARC/RARC, waiting on information, rejected, not on
file) in its first claims, then seeded random claims. All people are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Payer:
    id: str
    name: str
    portal: str  # which fake portal serves its claims


PAYERS: tuple[Payer, ...] = (
    Payer("NWM", "Northwind Mutual", "clearinghouse"),
    Payer("BBH", "Bluebird Health", "clearinghouse"),
    Payer("UHP", "Unity Health Plans", "commercial"),
    Payer("LSM", "Lakeshore State Medicaid", "medicaid"),
)


@dataclass(frozen=True)
class Provider:
    npi: str
    name: str


@dataclass(frozen=True)
class ServiceLine:
    line_no: int
    procedure: str
    units: int
    charge: Decimal


@dataclass(frozen=True)
class Adjustment:
    group_code: str
    carc: str
    amount: Decimal
    rarcs: tuple[str, ...] = ()
    line_no: int | None = None  # None: claim level


@dataclass(frozen=True)
class Status:
    """What the payer says about a claim on a given day, in 277 terms."""

    category: str
    status_code: str
    text: str
    effective: date
    allowed: Decimal | None = None
    paid: Decimal | None = None
    patient_responsibility: Decimal | None = None
    check_number: str | None = None
    payment_date: date | None = None
    adjustments: tuple[Adjustment, ...] = ()


@dataclass
class Claim:
    claim_id: str  # the practice's patient control number
    payer_id: str
    member_id: str
    patient_name: str  # "LAST, FIRST": synthetic, still treated as PHI
    patient_dob: date
    rendering_npi: str
    dos_from: date
    dos_to: date
    submitted: date
    lines: tuple[ServiceLine, ...]
    payer_claim_number: str
    outcome: str  # paid | partial | denied | pending | info_requested | rejected | not_on_file
    received: date
    adjudicated: date  # the day the final status appears (may be after "today")
    final: Status | None = None  # None for claims that never finalise
    history: list[Status] = field(default_factory=list)

    @property
    def billed(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))

    @property
    def on_file(self) -> bool:
        return self.outcome != "not_on_file"

    def status_on(self, today: date) -> Status | None:
        """The latest status effective on `today`, None when the payer has no such claim."""
        if not self.on_file or today < self.received:
            return None
        current = None
        for status in self.history:
            if status.effective <= today:
                current = status
        return current


# (group, CARC, RARCs): denials a payer sends, taken from the domain reference.
DENIALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("CO", "197", ()),  # precertification/authorization absent
    ("CO", "50", ("N115",)),  # not medically necessary, LCD
    ("CO", "16", ("M127",)),  # lacks information: missing medical record
    ("CO", "27", ()),  # expenses after coverage terminated
    ("CO", "29", ()),  # timely filing limit expired
    ("CO", "B7", ("N290",)),  # provider not certified on DOS
    ("CO", "11", ()),  # diagnosis inconsistent with procedure
    ("PR", "204", ("N130",)),  # not covered under the benefit plan
    ("CO", "18", ("N522",)),  # exact duplicate
    ("CO", "97", ("N20",)),  # included in another service
)

PROCEDURES: tuple[tuple[str, Decimal], ...] = (
    ("99213", Decimal("145.00")),
    ("99214", Decimal("210.00")),
    ("99203", Decimal("190.00")),
    ("93000", Decimal("65.00")),
    ("36415", Decimal("18.00")),
    ("80053", Decimal("48.00")),
    ("97110", Decimal("95.00")),
    ("71046", Decimal("120.00")),
)

FIRST_NAMES = ("Avery", "Jordan", "Casey", "Riley", "Morgan", "Quinn", "Rowan", "Emerson", "Harper", "Sawyer")
LAST_NAMES = ("Testerly", "Samplewood", "Mockford", "Fakeham", "Demoray", "Synthetica", "Placeholt", "Dummond")

# Outcomes every payer gets first, so each portal shows each state whatever the seed.
COVERAGE = (
    "paid",
    "partial",
    "denied",
    "pending",
    "pending_then_paid",
    "pending_then_denied",
    "info_requested",
    "rejected",
    "not_on_file",
    "denied",
)


def npi_with_check_digit(base9: str) -> str:
    """A syntactically valid NPI (Luhn over the 80840 prefix), as real NPIs are."""
    digits = "80840" + base9
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return base9 + str((10 - total % 10) % 10)


@dataclass
class Dataset:
    start: date
    providers: tuple[Provider, ...]
    claims: dict[str, Claim]

    def claims_for(self, payer_ids: set[str]) -> list[Claim]:
        return [c for c in self.claims.values() if c.payer_id in payer_ids]


def generate(seed: int = 7, start: date | None = None, claims_per_payer: int = 12) -> Dataset:
    """The same seed, start date and size always give the same practice."""
    start = start or date.today()
    rng = random.Random(seed)
    providers = tuple(
        Provider(npi_with_check_digit(f"1{rng.randrange(10**8):08d}"), f"Dr. {rng.choice(LAST_NAMES)} {i + 1}")
        for i in range(4)
    )
    claims: dict[str, Claim] = {}
    serial = 100001
    for payer in PAYERS:
        denial_cycle = rng.randrange(len(DENIALS))
        for n in range(claims_per_payer):
            outcome = (
                COVERAGE[n]
                if n < len(COVERAGE)
                else rng.choice(("paid", "paid", "paid", "partial", "denied", "pending", "pending_then_paid"))
            )
            denial = DENIALS[denial_cycle % len(DENIALS)]
            if outcome in {"denied", "pending_then_denied"}:
                denial_cycle += 1
            claim = _claim(rng, start, payer, f"PW{serial}", outcome, denial, providers)
            claims[claim.claim_id] = claim
            serial += 1
    return Dataset(start=start, providers=providers, claims=claims)


def _claim(
    rng: random.Random,
    start: date,
    payer: Payer,
    claim_id: str,
    outcome: str,
    denial: tuple[str, str, tuple[str, ...]],
    providers: tuple[Provider, ...],
) -> Claim:
    dos = start - timedelta(days=rng.randrange(20, 80))
    submitted = dos + timedelta(days=rng.randrange(2, 9))
    received = submitted + timedelta(days=1)
    later = outcome.startswith("pending_then_")
    adjudicated = (
        start + timedelta(days=rng.randrange(3, 10))
        if later
        else min(received + timedelta(days=rng.randrange(7, 18)), start - timedelta(days=1))
    )
    n_lines = 1 if outcome == "denied" else rng.randrange(1, 4)
    picks = rng.sample(PROCEDURES, n_lines)
    lines = tuple(ServiceLine(i + 1, code, 1, charge) for i, (code, charge) in enumerate(picks))
    claim = Claim(
        claim_id=claim_id,
        payer_id=payer.id,
        member_id=f"{payer.id[0]}{rng.randrange(10**8, 10**9)}",
        patient_name=f"{rng.choice(LAST_NAMES).upper()}, {rng.choice(FIRST_NAMES).upper()}",
        patient_dob=date(rng.randrange(1940, 2015), rng.randrange(1, 13), rng.randrange(1, 29)),
        rendering_npi=rng.choice(providers).npi,
        dos_from=dos,
        dos_to=dos,
        submitted=submitted,
        lines=lines,
        payer_claim_number=f"{payer.id}{rng.randrange(10**10, 10**11)}",
        outcome=outcome.removeprefix("pending_then_") if later else outcome,
        received=received,
        adjudicated=adjudicated,
    )
    claim.history = _history(rng, claim, denial, pending_forever=outcome == "pending")
    return claim


def _history(
    rng: random.Random, claim: Claim, denial: tuple[str, str, tuple[str, ...]], pending_forever: bool
) -> list[Status]:
    if claim.outcome == "not_on_file":
        return []
    acknowledged = Status("A2", "20", "Accepted for processing", claim.received)
    if claim.outcome == "rejected":
        return [
            Status("A7", "21", "Rejected: invalid information; claim not entered into adjudication", claim.received)
        ]
    in_process = Status("P1", "20", "In process", claim.received + timedelta(days=1))
    if pending_forever:
        return [acknowledged, in_process]
    if claim.outcome == "info_requested":
        return [
            acknowledged,
            in_process,
            Status("P3", "21", "Pending: waiting for information requested from the provider", claim.adjudicated),
        ]
    final = _final(rng, claim, denial)
    claim.final = final
    return [acknowledged, in_process, final]


def _final(rng: random.Random, claim: Claim, denial: tuple[str, str, tuple[str, ...]]) -> Status:
    day = claim.adjudicated
    check = f"EFT{rng.randrange(10**9, 10**10)}"
    if claim.outcome == "denied":
        group, carc, rarcs = denial
        # Payers deny line by line, each line for its own charge, so every line balances.
        denied_lines = tuple(Adjustment(group, carc, line.charge, rarcs, line.line_no) for line in claim.lines)
        return Status(
            "F2",
            "1",
            "Denied: see remittance advice",
            day,
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00") if group != "PR" else claim.billed,
            None,
            None,
            denied_lines,
        )
    adjustments: list[Adjustment] = []
    allowed_total = paid_total = patient_total = Decimal("0")
    for i, line in enumerate(claim.lines):
        if claim.outcome == "partial" and i == len(claim.lines) - 1 and len(claim.lines) > 1:
            adjustments.append(Adjustment("CO", "97", line.charge, ("N20",), line.line_no))
            continue
        if claim.outcome == "partial" and len(claim.lines) == 1:
            reduced = (line.charge * Decimal("0.5")).quantize(CENT)
            adjustments.append(Adjustment("CO", "151", reduced, ("N115",), line.line_no))
            charge_left = line.charge - reduced
        else:
            charge_left = line.charge
        allowed = (charge_left * Decimal(rng.choice(("0.62", "0.70", "0.78", "0.85")))).quantize(CENT)
        contractual = charge_left - allowed
        copay = Decimal(rng.choice(("0", "0", "20", "30"))).quantize(CENT)
        copay = min(copay, allowed)
        if contractual:
            adjustments.append(Adjustment("CO", "45", contractual, (), line.line_no))
        if copay:
            adjustments.append(Adjustment("PR", "3", copay, (), line.line_no))
        allowed_total += allowed
        patient_total += copay
        paid_total += allowed - copay
    text = "Paid" if claim.outcome == "paid" else "Paid in part: some lines adjusted or denied"
    return Status(
        "F1",
        "65",
        text,
        day,
        allowed_total,
        paid_total,
        patient_total,
        check,
        day + timedelta(days=2),
        tuple(adjustments),
    )


def pms_export_rows(dataset: Dataset, claim_auths: dict[str, str] | None = None) -> list[dict[str, str]]:
    """What the practice-management system says was submitted: every claim, on file or not."""
    auths = claim_auths or {}
    return [
        {
            "claim_id": c.claim_id,
            "payer_id": c.payer_id,
            "member_id": c.member_id,
            "patient_name": c.patient_name,
            "dos_from": c.dos_from.isoformat(),
            "dos_to": c.dos_to.isoformat(),
            "billed_amount": f"{c.billed:.2f}",
            "submitted_date": c.submitted.isoformat(),
            "rendering_npi": c.rendering_npi,
            "procedure_codes": ";".join(line.procedure for line in c.lines),
            "prior_auth_number": auths.get(c.claim_id, ""),
        }
        for c in dataset.claims.values()
    ]
