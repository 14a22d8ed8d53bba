"""ERA (835) import: each file once, all or nothing, its denials in the same table as the portals'.

Files come from a portal that offers remittances (the clearinghouse) or from
disk (`portal-worker import era`). A claim the store does not know is kept
and listed as unmatched, never dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.denials import DenialReport, record_denials, resolve_absent
from flows.era import EraClaim as ParsedClaim
from flows.era import EraParseError, Remittance, parse_835
from portals.capabilities import RemittancePortal
from portals.types import Adjustment
from store.claims import get_claim
from store.db import session_scope
from store.denials import add_era_claim, add_era_file, era_file_known, imported_era_ids
from store.models import EraClaim, EraFile

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


def import_era(engine: Engine, data: bytes, *, source: str, file_id: str, at: datetime) -> EraImport:
    """Parse the whole file first (EraParseError: nothing written), then store it in one transaction."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EraParseError(None, None, f"{file_id}: not a text file, so not an X12 835") from None
    remittances = parse_835(text)
    result = EraImport(file_id)
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
            ),
        )
        for remittance in remittances:
            result.payments += remittance.payment_amount
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
    )
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
        ),
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
    result.resolved_denials += len(resolve_absent(session, report, present, reason, at))


def adjustments_of(claim: ParsedClaim) -> list[Adjustment]:
    """Claim-level CAS carry the claim's remark codes; line-level CAS their line's LQ codes."""
    adjustments = [
        Adjustment(a.group_code, a.carc, a.amount, tuple(claim.remark_codes), None) for a in claim.adjustments
    ]
    for line in claim.lines:
        adjustments += [
            Adjustment(a.group_code, a.carc, a.amount, tuple(line.remark_codes), line.procedure)
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
    return outcome
