"""The 835 balancing rules (005010X221A1 section 1.10.2), checked on import and said out loud.

- line: SVC02 charge - the line's CAS amounts = SVC03 paid;
- claim: CLP03 charge - claim and line CAS amounts = CLP04 paid;
- transaction: BPR02 = the sum of CLP04 - the sum of PLB amounts.

A file that breaks them is still the payer's word about money, so it is imported;
each break becomes a warning naming the claim (or the trace number) and the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flows.era import EraClaim, Remittance

ZERO = Decimal("0")


@dataclass(frozen=True)
class BalanceWarning:
    level: str  # "line" | "claim" | "file"
    claim_id: str | None  # CLP01; None for a file-level warning
    difference: Decimal  # what the file says was paid, less what its own figures add up to
    text: str

    def as_dict(self) -> dict[str, str | None]:
        return {"level": self.level, "claim_id": self.claim_id, "difference": str(self.difference), "text": self.text}


def balance_warnings(remittance: Remittance) -> list[BalanceWarning]:
    warnings: list[BalanceWarning] = []
    for claim in remittance.claims:
        warnings += claim_warnings(claim)
    claims_paid = sum((c.paid for c in remittance.claims), ZERO)
    provider = sum((p.amount for p in remittance.provider_adjustments), ZERO)
    difference = remittance.payment_amount - (claims_paid - provider)
    if difference:
        warnings.append(
            BalanceWarning(
                "file",
                None,
                difference,
                f"payment {remittance.trace_number} is out of balance by {difference:,.2f}: "
                f"BPR02 {remittance.payment_amount:,.2f}, but the claims' payments {claims_paid:,.2f} "
                f"less provider adjustments {provider:,.2f} make {claims_paid - provider:,.2f}",
            )
        )
    return warnings


def claim_warnings(claim: EraClaim) -> list[BalanceWarning]:
    warnings = []
    for number, line in enumerate(claim.lines, start=1):
        adjusted = sum((a.amount for a in line.adjustments), ZERO)
        difference = line.paid - (line.charge - adjusted)
        if difference:
            warnings.append(
                BalanceWarning(
                    "line",
                    claim.claim_id,
                    difference,
                    f"claim {claim.claim_id} line {number} ({line.billed_code}) is out of balance by "
                    f"{difference:,.2f}: charge {line.charge:,.2f} - adjustments {adjusted:,.2f} "
                    f"is not the {line.paid:,.2f} paid",
                )
            )
    adjusted = sum((a.amount for a in claim.all_adjustments()), ZERO)
    difference = claim.paid - (claim.billed - adjusted)
    if difference:
        warnings.append(
            BalanceWarning(
                "claim",
                claim.claim_id,
                difference,
                f"claim {claim.claim_id} is out of balance by {difference:,.2f}: charge {claim.billed:,.2f} "
                f"- adjustments {adjusted:,.2f} is not the {claim.paid:,.2f} paid",
            )
        )
    return warnings
