"""ERA (835) import: each file once, all or nothing, its denials in the same table as the portals'.

Files come from a portal that offers remittances (the clearinghouse) or from
disk (`portal-worker import era`). A claim the store does not know is kept
and listed as unmatched, never dropped. A file that breaks the 835 balancing
rules is imported with its warnings stored on the import (flows/era_balance.py).

An ERA moves a known claim to paid, partially paid or denied, the way a portal's
status page would (flows/claim_states.py), unless a portal was read after the
ERA's date: the newer word about a claim wins, whoever said it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.appeal_decisions import ClaimPayment
from flows.claim_states import ClaimState
from flows.denial_codes import DenialKind, categorise
from flows.denials import DenialReport, procedure_code, record_denials, resolve_absent, settle_waiting_appeals
from flows.era import EraClaim as ParsedClaim
from flows.era import EraParseError, Remittance, decode_x12, parse_835
from flows.era_balance import BalanceWarning, balance_warnings
from portals.capabilities import RemittancePortal
from portals.types import Adjustment
from store.claims import get_claim
from store.db import session_scope
from store.denials import (
    add_era_claim,
    add_era_file,
    add_era_provider_adjustment,
    era_file_known,
    imported_era_ids,
    set_claim_state_from_era,
)
from store.models import Claim, EraClaim, EraFile, EraProviderAdjustment

log = structlog.get_logger(__name__)

PAID_STATUSES = frozenset({"1", "2", "3", "19", "20", "21"})  # CLP02: processed as primary/secondary/...


@dataclass
class EraImport:
    file_id: str
    already_imported: bool = False
    claims: int = 0
    unmatched: list[str] = field(default_factory=list)  # claim ids (CLP01) not in our claims
    new_denials: int = 0
    resolved_denials: int = 0
    payments: Decimal = Decimal("0")
    warnings: list[BalanceWarning] = field(default_factory=list)


def import_era(engine: Engine, data: bytes, *, source: str, file_id: str, at: datetime) -> EraImport:
    """Parse the whole file first (EraParseError: nothing written), then store it in one transaction."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = decode_x12(data)
    except EraParseError as exc:
        raise EraParseError(None, None, f"{file_id}: {exc.problem}") from None
    remittances = parse_835(text)
    result = EraImport(file_id, warnings=[w for r in remittances for w in balance_warnings(r)])
    with session_scope(engine) as session:
        if era_file_known(session, digest):
            result.already_imported = True
            return result
        first = remittances[0] if remittances else None
        era_file_id = add_era_file(
            session,
            EraFile(
                sha256=digest,
                source=source,
                file_id=file_id,
                imported_at=at,
                trace_number=first.trace_number if first else None,
                payment_amount=sum((r.payment_amount for r in remittances), Decimal("0")),
                payment_date=first.payment_date if first else None,
                warnings=[w.as_dict() for w in result.warnings],
            ),
        )
        for remittance in remittances:
            result.payments += remittance.payment_amount
            for plb in remittance.provider_adjustments:
                add_era_provider_adjustment(
                    session,
                    EraProviderAdjustment(
                        era_file_id=era_file_id,
                        trace_number=remittance.trace_number,
                        provider_id=plb.provider_id,
                        fiscal_date=plb.fiscal_date,
                        reason=plb.reason,
                        reference=plb.reference,
                        amount=plb.amount,
                    ),
                )
            for claim in remittance.claims:
                _import_claim(session, era_file_id, remittance, claim, file_id, at, result)
        era_file = session.get(EraFile, era_file_id)
        assert era_file is not None
        era_file.claims, era_file.unmatched_claims = result.claims, len(result.unmatched)
    log.info(
        "era_imported",
        file_id=file_id,
        source=source,
        claims=result.claims,
        unmatched=len(result.unmatched),
        new_denials=result.new_denials,
        balance_warnings=len(result.warnings),
    )
    for warning in result.warnings:
        log.warning("era_out_of_balance", file_id=file_id, detail=warning.text)
    return result


def _import_claim(
    session: Session,
    era_file_id: int,
    remittance: Remittance,
    claim: ParsedClaim,
    file_id: str,
    at: datetime,
    result: EraImport,
) -> None:
    ours = get_claim(session, claim.claim_id)
    result.claims += 1
    if ours is None:
        result.unmatched.append(claim.claim_id)
    add_era_claim(
        session,
        EraClaim(
            era_file_id=era_file_id,
            reported_claim_id=claim.claim_id,
            claim_id=ours.claim_id if ours else None,
            status_code=claim.status_code,
            billed=claim.billed,
            paid=claim.paid,
            patient_responsibility=claim.patient_responsibility,
            payer_claim_number=claim.payer_claim_number,
            filing_indicator=claim.filing_indicator,
            service_from=claim.service_from,
            service_to=claim.service_to,
        ),
    )
    era_date = remittance.production_date or remittance.payment_date
    state = era_claim_state(claim)
    if ours is not None and state is not None and era_date is not None and not _portal_read_later(ours, era_date):
        set_claim_state_from_era(
            session, ours, state.value, claim.paid, claim.payer_claim_number, f"ERA {remittance.trace_number}", at
        )
    report = DenialReport(
        reported_claim_id=claim.claim_id,
        claim_id=ours.claim_id if ours else None,
        payer_id=ours.payer_id if ours else remittance.payer_id,
        payer_claim_number=claim.payer_claim_number,
        denial_date=remittance.production_date or remittance.payment_date,
        adjustments=adjustments_of(claim),
        source="era",
        source_ref=file_id,
    )
    trace = remittance.trace_number
    if claim.is_reversal:
        # The payer takes back this adjudication: what it denied is no longer the payer's word.
        result.resolved_denials += len(resolve_absent(session, report, set(), f"reversed on ERA {trace}", at))
        return
    changes, present = record_denials(session, report, at)
    reason = (
        f"paid on ERA {trace}"
        if claim.status_code in PAID_STATUSES and claim.paid > 0
        else f"superseded by ERA {trace}"
    )
    result.new_denials += len(changes.new)
    payment = _era_payment(remittance, claim, at) if reason.startswith("paid") else None
    result.resolved_denials += len(resolve_absent(session, report, present, reason, at, payment))
    if payment is not None:
        result.resolved_denials += len(settle_waiting_appeals(session, report, present, payment, at))


def _era_payment(remittance: Remittance, claim: ParsedClaim, at: datetime) -> ClaimPayment:
    """The claim's payment, per line by procedure code (modifiers aside, as denials are keyed)."""
    lines: dict[str, Decimal] = {}
    for line in claim.lines:
        code = procedure_code(line.billed_code)
        lines[code] = lines.get(code, Decimal("0")) + line.paid
    return ClaimPayment("era", remittance.payment_date or remittance.production_date or at.date(), claim.paid, lines)


def era_claim_state(claim: ParsedClaim) -> ClaimState | None:
    """Paid, partially paid or denied, by the same rules as a portal's F1/F4 (flows/claim_states.py).

    Partially paid: something denied and something allowed, even when the allowed part is all the
    patient's to pay (a copay): the payer processed the claim (CLP02 1-3), it did not deny it whole.
    None for a reversal, a line still pending (CO-133), or a status that says nothing of the claim."""
    if claim.status_code == "4":
        return ClaimState.DENIED
    if claim.status_code not in PAID_STATUSES:
        return None
    codes = [categorise(a.group_code, a.carc, (), a.amount) for a in claim.all_adjustments()]
    if any(c.pending for c in codes):
        return None
    if not any(c.kind is not DenialKind.NOT_A_DENIAL for c in codes):
        return ClaimState.PAID
    patient_owes = sum((a.amount for a in claim.all_adjustments() if a.group_code == "PR"), Decimal("0"))
    return ClaimState.PARTIALLY_PAID if claim.paid > 0 or patient_owes > 0 else ClaimState.DENIED


def _portal_read_later(claim: Claim, era_date: date) -> bool:
    return claim.last_checked_at is not None and claim.last_checked_at.date() > era_date


def adjustments_of(claim: ParsedClaim) -> list[Adjustment]:
    """Claim-level CAS carry the claim's remark codes; line-level CAS their line's LQ codes."""
    adjustments = [
        Adjustment(a.group_code, a.carc, a.amount, tuple(claim.remark_codes), None) for a in claim.adjustments
    ]
    for line in claim.lines:
        adjustments += [
            Adjustment(a.group_code, a.carc, a.amount, tuple(line.remark_codes), line.billed_code)
            for a in line.adjustments
        ]
    return adjustments


@dataclass
class FetchOutcome:
    imported: list[EraImport] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file id, why)


def fetch_new_remittances(source: RemittancePortal, engine: Engine, now: Callable[[], datetime]) -> FetchOutcome:
    """Download the ERA files this portal offers that were not imported before, and import each."""
    outcome = FetchOutcome()
    with session_scope(engine) as session:
        known = imported_era_ids(session, source.portal)
    for remittance_file in source.list_remittances():
        if remittance_file.file_id in known:
            continue
        data = source.download_remittance(remittance_file)
        try:
            outcome.imported.append(
                import_era(engine, data, source=source.portal, file_id=remittance_file.file_id, at=now())
            )
        except EraParseError as exc:
            outcome.rejected.append((remittance_file.file_id, str(exc)))
            log.error("era_rejected", file_id=remittance_file.file_id, detail=str(exc))
        except Exception as exc:  # noqa: BLE001 - one file we cannot store must not stop the portal's other files
            # the type only: a message from deeper down could quote the file's contents
            why = f"{remittance_file.file_id}: could not be imported ({type(exc).__name__}); it is retried next run"
            outcome.rejected.append((remittance_file.file_id, why))
            log.error("era_rejected", file_id=remittance_file.file_id, detail=why)
    return outcome
