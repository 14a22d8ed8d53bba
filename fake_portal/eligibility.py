"""The payers' answer to an eligibility and benefits inquiry, whichever portal asks it.

Each portal's page (fake_portal/eligibility_*.py) words the same answer in its own style.
The answer is what the payer has on file (fake_portal.appointments.Coverage) on the
portal's clock: coverage on the service date, the provider's network status, the planned
codes that need prior authorization, the benefits. A member id the payer does not know, or
a date of birth that does not match, is "not found", as a 271's AAA segment says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fake_portal.appointments import AUTH_REQUIRED_CODES, Coverage
from fake_portal.data import PAYERS, Payer
from fake_portal.world import World

PROCEDURE_CODE = re.compile(r"[0-9]{5}|[A-Z][0-9]{4}")
MAX_CODES = 4


@dataclass(frozen=True)
class Inquiry:
    payer_id: str
    member_id: str
    date_of_birth: date
    npi: str
    service_date: date
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    payer: Payer
    coverage: Coverage | None  # None: no such member id
    dob_mismatch: bool
    active: bool
    end: date | None
    in_network: bool
    codes: tuple[tuple[str, bool], ...]  # each planned code, and whether it needs prior authorization

    @property
    def found(self) -> bool:
        return self.coverage is not None and not self.dob_mismatch

    @property
    def member_id_changed(self) -> bool:
        return self.coverage is not None and self.coverage.replaced_member_id is not None


def payer(payer_id: str) -> Payer:
    return next(p for p in PAYERS if p.id == payer_id)


def inquire(world: World, inquiry: Inquiry) -> Answer:
    today = world.today()
    coverage = world.schedule.coverage(inquiry.payer_id, inquiry.member_id)
    dob_mismatch = coverage is not None and coverage.date_of_birth != inquiry.date_of_birth
    active = coverage is not None and coverage.active_on(inquiry.service_date, today)
    return Answer(
        payer=payer(inquiry.payer_id),
        coverage=coverage,
        dob_mismatch=dob_mismatch,
        active=active,
        end=coverage.end_on(today) if coverage is not None else None,
        in_network=coverage is None or inquiry.npi not in coverage.out_of_network_npis,
        codes=tuple((code, code in AUTH_REQUIRED_CODES) for code in inquiry.codes),
    )


def parse_codes(text: str) -> tuple[str, ...] | None:
    """Procedure codes typed with commas or spaces between them; None when one is no code or too many."""
    codes = tuple(dict.fromkeys(c for c in re.split(r"[\s,;]+", text.strip().upper()) if c))
    if len(codes) > MAX_CODES or not all(PROCEDURE_CODE.fullmatch(c) for c in codes):
        return None
    return codes


def valid_npi(text: str) -> bool:
    return text.isdigit() and len(text) == 10
