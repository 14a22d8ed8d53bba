"""The fake practice's appointments for the next business days, and what each payer has on file about
each patient's coverage (what the portals' eligibility pages answer from).

The next business day after the data set's start holds every eligibility scenario on every portal
that has it, in the same order whatever the seed, so appointment ids and scenarios stay fixed; the
two business days after it hold one plain active visit per payer. All people and numbers are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from fake_portal.data import PAYERS, Dataset, Payer
from fake_portal.programs import THERAPY_CODES, Programs

ELIGIBILITY_SCENARIOS = (
    "active",
    "coverage_ended",
    "plan_change_member",
    "plan_change_payer",
    "other_primary",
    "auth_required_none",
    "auth_required_wrong_code",
    "out_of_network",
    "dob_mismatch",
    "ended_overnight",
)
# Only the payers with an authorization program have an authorization to be wrong about.
_NEEDS_AUTH_PROGRAM = {"auth_required_wrong_code"}
AUTH_PROGRAM_PAYERS = ("UHP", "LSM")
# Every payer asks for prior authorization of therapy; visits and labs need none.
AUTH_REQUIRED_CODES = frozenset(THERAPY_CODES)
VISIT_CODES = (("99213",), ("99214", "36415"), ("99203",), ("93000", "99213"), ("80053", "99214"))

PLANS = {
    "NWM": ("Northwind Choice PPO", "Northwind Select EPO"),
    "BBH": ("Bluebird Silver HMO", "Bluebird Gold PPO"),
    "UHP": ("Unity Advantage PPO", "Unity Essential HMO"),
    "LSM": ("Lakeshore Medicaid Standard", "Lakeshore Medicaid Expansion"),
}
# Where a payer's member went (a plan change to another payer), and who is primary over it (COB).
MOVED_TO = {"NWM": "BBH", "BBH": "NWM", "UHP": "NWM", "LSM": "UHP"}
PRIMARY_OVER = {"NWM": "UHP", "BBH": "UHP", "UHP": "NWM", "LSM": "BBH"}

FIRST_NAMES = ("Alex", "Blair", "Cameron", "Dakota", "Elliot", "Finley", "Hayden", "Jesse", "Kendall", "Logan")
LAST_NAMES = ("Exampleton", "Trialsen", "Notreal", "Mockridge", "Pseudoval", "Specimen", "Stubbs", "Fixturo")

FIRST_SLOT = time(8, 0)
SLOT_MINUTES = 15
LATER_DAYS = 2  # business days after the first that hold plain active visits


@dataclass
class Coverage:
    """What one payer has on file for one member: the truth the eligibility pages answer from."""

    payer_id: str
    member_id: str  # the id the payer has now
    date_of_birth: date
    plan_name: str
    start: date
    end: date | None  # None: open-ended
    scenario: str
    replaced_member_id: str | None = None  # plan_change_member: the old id still answers, pointing here
    moved_to: Payer | None = None  # plan_change_payer: the payer the coverage went to
    other_primary: Payer | None = None  # other_primary: that insurance pays first
    out_of_network_npis: frozenset[str] = frozenset()
    ends_before: date | None = None  # ended_overnight: from this day on, it ended the day before
    deductible: Decimal = Decimal("0.00")
    deductible_met: Decimal = Decimal("0.00")
    coinsurance_percent: Decimal = Decimal("0")
    copay: Decimal = Decimal("0.00")

    def end_on(self, today: date) -> date | None:
        """The coverage end the payer shows on `today` (the portal's clock)."""
        if self.ends_before is not None and today >= self.ends_before:
            return self.ends_before - timedelta(days=1)
        return self.end

    def active_on(self, service_date: date, today: date) -> bool:
        end = self.end_on(today)
        return self.start <= service_date and (end is None or service_date <= end)


@dataclass(frozen=True)
class Appointment:
    appointment_id: str
    payer_id: str
    scenario: str
    day: date
    at: time
    patient_name: str  # synthetic, still PHI
    date_of_birth: date  # as the practice has it (dob_mismatch: not as the payer has it)
    member_id: str  # as the practice has it (plan_change_member: the old one)
    rendering_npi: str
    procedure_codes: tuple[str, ...]
    auth_number: str = ""

    @property
    def portal(self) -> str:
        return next(p.portal for p in PAYERS if p.id == self.payer_id)


@dataclass
class Schedule:
    appointments: list[Appointment]
    coverages: list[Coverage] = field(default_factory=list)

    def coverage(self, payer_id: str, member_id: str) -> Coverage | None:
        """The payer's record a member id leads to: its own, or the one that replaced it."""
        wanted = member_id.strip().upper()
        for coverage in self.coverages:
            if coverage.payer_id == payer_id and wanted in {coverage.member_id, coverage.replaced_member_id}:
                return coverage
        return None


def next_business_days(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def scenarios_for(payer_id: str) -> tuple[str, ...]:
    return tuple(s for s in ELIGIBILITY_SCENARIOS if s not in _NEEDS_AUTH_PROGRAM or payer_id in AUTH_PROGRAM_PAYERS)


def _payers_for(portal: str) -> list[Payer]:
    return [p for p in PAYERS if p.portal == portal]


def generate_schedule(dataset: Dataset, programs: Programs, seed: int = 7) -> Schedule:
    """The same data set, programs and seed always give the same appointments and coverage."""
    maker = _ScheduleMaker(random.Random(seed * 53 + 5), dataset, programs)
    first, *later = next_business_days(dataset.start, 1 + LATER_DAYS)
    for portal in ("clearinghouse", "commercial", "medicaid"):
        payers = _payers_for(portal)
        for n, scenario in enumerate(ELIGIBILITY_SCENARIOS):
            payer = payers[n % len(payers)]  # the clearinghouse's scenarios alternate between its payers
            if scenario in scenarios_for(payer.id):
                maker.add(first, payer, scenario)
    for day in later:
        for payer in PAYERS:
            maker.add(day, payer, "active")
    return Schedule(maker.appointments, maker.coverages)


class _ScheduleMaker:
    def __init__(self, rng: random.Random, dataset: Dataset, programs: Programs) -> None:
        self.rng, self.dataset, self.programs = rng, dataset, programs
        self.appointments: list[Appointment] = []
        self.coverages: list[Coverage] = []
        self.used_ids = {c.member_id for c in dataset.claims.values()}

    def add(self, day: date, payer: Payer, scenario: str) -> None:
        slot = sum(1 for a in self.appointments if a.day == day)
        minutes = FIRST_SLOT.hour * 60 + FIRST_SLOT.minute + SLOT_MINUTES * slot
        appointment_id = f"AP{10001 + len(self.appointments)}"
        npi = self.dataset.providers[len(self.appointments) % len(self.dataset.providers)].npi
        codes = self.rng.choice(VISIT_CODES)
        if scenario == "auth_required_wrong_code":
            self._wrong_code(appointment_id, day, time(minutes // 60, minutes % 60), payer)
            return
        coverage = self._coverage(payer, scenario, day, npi)
        member_id, dob = coverage.member_id, coverage.date_of_birth
        if scenario == "plan_change_member":
            member_id = coverage.replaced_member_id or member_id
        elif scenario == "dob_mismatch":
            dob = dob.replace(year=dob.year + 1)  # a typo in the year: days stay under 29
        elif scenario == "auth_required_none":
            codes = (codes[0], self.rng.choice(THERAPY_CODES))
        self.coverages.append(coverage)
        self.appointments.append(
            Appointment(
                appointment_id,
                payer.id,
                scenario,
                day,
                time(minutes // 60, minutes % 60),
                self._name(),
                dob,
                member_id,
                npi,
                codes,
            )
        )

    def _wrong_code(self, appointment_id: str, day: date, at: time, payer: Payer) -> None:
        """An approved authorization of the programs (on the PM export and the auth pages), for a therapy
        code it does not cover: the visit is booked on it all the same."""
        auth = next(
            a for a in self.programs.authorizations.values() if a.payer_id == payer.id and a.scenario == "healthy"
        )
        claim = next(c for c in self.dataset.claims.values() if c.member_id == auth.member_id)
        uncovered = next(c for c in THERAPY_CODES if c not in auth.procedure_codes)
        coverage = self._coverage(payer, "auth_required_wrong_code", day, auth.servicing_npi)
        coverage.member_id, coverage.date_of_birth = auth.member_id, claim.patient_dob
        self.coverages.append(coverage)
        self.appointments.append(
            Appointment(
                appointment_id,
                payer.id,
                "auth_required_wrong_code",
                day,
                at,
                auth.patient_name,
                claim.patient_dob,
                auth.member_id,
                auth.servicing_npi,
                (uncovered,),
                auth.auth_number,
            )
        )

    def _coverage(self, payer: Payer, scenario: str, day: date, npi: str) -> Coverage:
        rng, start = self.rng, self.dataset.start
        plan, other_plan = PLANS[payer.id]
        medicaid = payer.portal == "medicaid"
        deductible = Decimal("0.00") if medicaid else Decimal(rng.choice(("500", "1000", "1500", "2500")))
        coverage = Coverage(
            payer_id=payer.id,
            member_id=self._member_id(payer),
            date_of_birth=date(rng.randrange(1945, 2018), rng.randrange(1, 13), rng.randrange(1, 29)),
            plan_name=plan,
            start=date(start.year - rng.randrange(1, 6), 1, 1),
            end=None,
            scenario=scenario,
            deductible=deductible,
            deductible_met=(deductible * Decimal(rng.choice(("0", "0.25", "0.6", "1")))).quantize(Decimal("0.01")),
            coinsurance_percent=Decimal("0") if medicaid else Decimal(rng.choice(("10", "20", "30"))),
            copay=Decimal(rng.choice(("0", "1", "3"))) if medicaid else Decimal(rng.choice(("20", "30", "45"))),
        )
        last_month_end = start.replace(day=1) - timedelta(days=1)
        if scenario == "coverage_ended":
            coverage.end = last_month_end
        elif scenario == "plan_change_member":
            coverage.replaced_member_id = coverage.member_id
            coverage.member_id = self._member_id(payer)
            coverage.plan_name = other_plan
        elif scenario == "plan_change_payer":
            coverage.end = last_month_end
            coverage.moved_to = next(p for p in PAYERS if p.id == MOVED_TO[payer.id])
        elif scenario == "other_primary":
            coverage.other_primary = next(p for p in PAYERS if p.id == PRIMARY_OVER[payer.id])
        elif scenario == "out_of_network":
            coverage.out_of_network_npis = frozenset({npi})
        elif scenario == "ended_overnight":
            coverage.ends_before = day
        return coverage

    def _member_id(self, payer: Payer) -> str:
        while True:
            member_id = f"{payer.id[0]}{self.rng.randrange(10**8, 10**9)}"
            if member_id not in self.used_ids:
                self.used_ids.add(member_id)
                return member_id

    def _name(self) -> str:
        return f"{self.rng.choice(LAST_NAMES).upper()}, {self.rng.choice(FIRST_NAMES).upper()}"


def pms_appointment_rows(schedule: Schedule) -> list[dict[str, str]]:
    """The practice-management system's schedule export: the agreed columns, in order."""
    return [
        {
            "appointment_id": a.appointment_id,
            "appointment_date": a.day.isoformat(),
            "appointment_time": a.at.strftime("%H:%M"),
            "patient_name": a.patient_name,
            "date_of_birth": a.date_of_birth.isoformat(),
            "member_id": a.member_id,
            "payer_id": a.payer_id,
            "rendering_npi": a.rendering_npi,
            "procedure_codes": ";".join(a.procedure_codes),
            "auth_number": a.auth_number,
        }
        for a in schedule.appointments
    ]


def appointment_scenarios(schedule: Schedule) -> list[dict[str, str]]:
    """Which appointment shows which scenario on which portal, for tests (no PHI)."""
    return [
        {
            "appointment_id": a.appointment_id,
            "appointment_date": a.day.isoformat(),
            "payer_id": a.payer_id,
            "portal": a.portal,
            "scenario": a.scenario,
        }
        for a in schedule.appointments
    ]
