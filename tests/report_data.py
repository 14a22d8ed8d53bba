"""Crafted claim sets for the report tests, each written into a real store through the models and the
denial store functions; tests/test_reports.py works out every figure by hand from what is here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.denials import AUTO_RESOLVED, record_staff_action
from store.db import session_scope
from store.denials import add_denial, set_status
from store.models import (
    Authorization,
    Claim,
    ClaimStatusObservation,
    Denial,
    Enrollment,
    EraClaim,
    EraFile,
)

TODAY = date(2026, 12, 1)
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def claim(
    session: Session,
    claim_id: str,
    payer: str,
    submitted: date,
    billed: str,
    status: str,
    *,
    dos: date | None = None,
    npi: str = "1234567893",
    auth: str | None = None,
    codes: tuple[str, ...] = ("99213",),
) -> None:
    day = dos or submitted - timedelta(days=3)
    session.add(
        Claim(
            claim_id=claim_id,
            payer_id=payer,
            member_id="M000000001",
            patient_name="SYNTHETIC, PERSON",
            dos_from=day,
            dos_to=day,
            billed_amount=Decimal(billed),
            submitted_date=submitted,
            rendering_npi=npi,
            procedure_codes=list(codes),
            prior_auth_number=auth,
            imported_at=AT,
            updated_at=AT,
            status=status,
        )
    )
    session.flush()


def era(session: Session, claim_id: str, status_code: str, paid: str, paid_on: date, number: str) -> None:
    """One ERA file with one CLP for `claim_id`, dated (BPR16) `paid_on`."""
    era_file = EraFile(
        sha256=f"{claim_id}-{status_code}-{paid_on}",
        source="file",
        file_id=f"{claim_id}-{paid_on}.835",
        trace_number=f"EFT{paid_on:%Y%m%d}",
        payment_amount=Decimal(paid),
        payment_date=paid_on,
        imported_at=AT,
    )
    session.add(era_file)
    session.flush()
    assert era_file.id is not None
    session.add(
        EraClaim(
            era_file_id=era_file.id,
            reported_claim_id=claim_id,
            claim_id=claim_id,
            status_code=status_code,
            billed=Decimal("100"),
            paid=Decimal(paid),
            payer_claim_number=number,
        )
    )
    session.flush()


def observed(
    session: Session,
    claim_id: str,
    status: str,
    number: str,
    status_date: date,
    payment_date: date | None = None,
) -> None:
    session.add(
        ClaimStatusObservation(
            claim_id=claim_id,
            observed_at=datetime.combine(status_date, datetime.min.time(), UTC) + timedelta(days=1),
            portal="summit",
            run_id="test",
            status=status,
            status_date=status_date,
            payer_claim_number=number,
            payment_date=payment_date,
            changes=f"status: -> {status}",
        )
    )
    session.flush()


def denial(
    session: Session, claim_id: str, payer: str, carc: str, amount: str, on: date, category: str, owner: str
) -> Denial:
    return add_denial(
        session,
        Denial(
            fingerprint=f"{claim_id}|{carc}",
            claim_id=claim_id,
            reported_claim_id=claim_id,
            source="era",
            source_ref="test.835",
            payer_id=payer,
            group_code="CO",
            carc=carc,
            amount=Decimal(amount),
            denial_date=on,
            category=category,
            owner=owner,
            kind="hard",
            first_seen_at=datetime.combine(on, datetime.min.time(), UTC) + timedelta(days=1),
            last_seen_at=AT,
        ),
        note="reported by era test.835",
    )


def aging_claims(engine: Engine) -> None:
    """Open claims on each bucket's boundaries (days from submission to TODAY), and a paid one."""
    with session_scope(engine) as session:
        for claim_id, payer, age, billed in (
            ("A30", "NWM", 30, "100.00"),
            ("A31", "NWM", 31, "200.00"),
            ("A60", "NWM", 60, "300.00"),
            ("A61", "NWM", 61, "400.00"),
            ("A90", "UHP", 90, "500.00"),
            ("A91", "UHP", 91, "600.00"),
            ("A120", "UHP", 120, "700.00"),
            ("A121", "UHP", 121, "800.00"),
        ):
            claim(session, claim_id, payer, TODAY - timedelta(days=age), billed, "pending")
        claim(session, "P1", "NWM", date(2026, 11, 15), "800.00", "paid")


def payment_claims(engine: Engine) -> None:
    with session_scope(engine) as session:
        submitted = date(2026, 10, 1)
        for claim_id in ("D1", "D2", "D3", "D4"):
            claim(session, claim_id, "NWM", submitted, "100.00", "paid")
        era(session, "D1", "1", "50.00", date(2026, 10, 11), "N1")  # paid by ERA only: 10 days
        observed(session, "D2", "paid", "N2", date(2026, 10, 19), payment_date=date(2026, 10, 21))  # 20 days
        era(session, "D3", "1", "60.00", date(2026, 10, 5), "N3")  # paid, reversed, paid again: 40 days
        era(session, "D3", "22", "-60.00", date(2026, 10, 20), "N3")
        era(session, "D3", "1", "60.00", date(2026, 11, 10), "N3B")
        era(session, "D4", "1", "70.00", date(2026, 10, 5), "N4")  # paid, reversed, never paid again
        era(session, "D4", "22", "-70.00", date(2026, 10, 20), "N4")
        for claim_id in ("D5", "D6", "D7"):
            claim(session, claim_id, "UHP", date(2026, 9, 1), "100.00", "paid")
        era(session, "D5", "4", "0.00", date(2026, 9, 20), "U5")  # denied: no payment
        era(session, "D6", "1", "90.00", date(2026, 10, 1), "U6")  # 30 days
        observed(session, "D7", "paid", "U7", date(2026, 9, 11))  # no payment date on the page: 10 days


def denial_claims(engine: Engine) -> None:
    """Adjudications, denials, an overturned appeal, an upheld one, a plain write-off, a reversal."""
    with session_scope(engine) as session:
        submitted = date(2026, 9, 20)
        claim(session, "C1", "NWM", submitted, "100.00", "paid")
        era(session, "C1", "1", "100.00", date(2026, 10, 10), "N1")  # paid by ERA only, first pass
        claim(session, "C2", "NWM", submitted, "100.00", "paid")
        observed(session, "C2", "paid", "N2", date(2026, 10, 12))  # paid on the portal, first pass
        claim(session, "C3", "NWM", submitted, "300.00", "denied")
        era(session, "C3", "4", "0.00", date(2026, 10, 10), "N3")
        denial(session, "C3", "NWM", "197", "300.00", date(2026, 10, 9), "authorization", "scheduling_auth")
        claim(session, "C4", "NWM", submitted, "100.00", "paid")
        overturned = denial(session, "C4", "NWM", "16", "100.00", date(2026, 11, 5), "documentation", "billing")
        assert overturned.id is not None
        record_staff_action(session, overturned.id, "appealed", "level 1 sent", AT)
        era(session, "C4", "1", "100.00", date(2026, 11, 20), "N4")
        set_status(session, overturned, "resolved", AT, "worker", f"{AUTO_RESOLVED} paid on ERA EFT20261120")
        claim(session, "C5", "UHP", submitted, "200.00", "denied")
        upheld = denial(session, "C5", "UHP", "50", "200.00", date(2026, 11, 10), "medical_necessity", "providers")
        assert upheld.id is not None
        record_staff_action(session, upheld.id, "appealed", None, AT)
        record_staff_action(session, upheld.id, "written-off", "appeal denied", AT)
        claim(session, "C6", "UHP", submitted, "100.00", "paid")  # resubmitted under a new number
        observed(session, "C6", "finalized", "U6A", date(2026, 11, 15))
        observed(session, "C6", "paid", "U6B", date(2026, 11, 25))
        claim(session, "C7", "UHP", submitted, "80.00", "paid")  # paid, then the payer reversed it
        era(session, "C7", "1", "80.00", date(2026, 11, 2), "U7")
        era(session, "C7", "22", "-80.00", date(2026, 11, 20), "U7")
        claim(session, "C8", "UHP", submitted, "100.00", "pending")  # not adjudicated
        claim(session, "C9", "UHP", submitted, "50.00", "denied")
        written = denial(session, "C9", "UHP", "16", "50.00", date(2026, 11, 12), "documentation", "billing")
        assert written.id is not None
        record_staff_action(session, written.id, "written-off", "small balance", AT)
        claim(session, "C10", "UHP", submitted, "20.00", "denied")
        denial(session, "C10", "UHP", "29", "20.00", date(2026, 11, 12), "timely_filing", "billing")


def exposure_claims(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(
            Authorization(
                auth_number="AU1",
                payer_id="UHP",
                member_id="M000000001",
                patient_name="SYNTHETIC, PERSON",
                servicing_npi="1234567893",
                procedure_codes=["97110"],
                units_approved=10,
                start_date=date(2026, 10, 1),
                end_date=date(2026, 10, 31),
                imported_at=AT,
                updated_at=AT,
                status="approved",
            )
        )
        for npi, status, effective in (("1000000001", "terminated", None), ("1000000002", "active", date(2026, 10, 1))):
            session.add(
                Enrollment(
                    npi=npi,
                    payer_id="NWM",
                    portal="summit",
                    status=status,
                    effective=effective,
                    last_checked_at=AT,
                    status_changed_at=AT,
                )
            )
        submitted = date(2026, 11, 20)
        claim(
            session, "E1", "UHP", submitted, "100.00", "pending", dos=date(2026, 10, 15), auth="AU1", codes=("97110",)
        )
        claim(
            session, "E2", "UHP", submitted, "150.00", "pending", dos=date(2026, 10, 20), auth="au-1", codes=("97112",)
        )
        claim(session, "E3", "UHP", submitted, "120.00", "paid", dos=date(2026, 11, 5), auth="AU1", codes=("97110",))
        claim(session, "E4", "NWM", submitted, "200.00", "pending", dos=date(2026, 10, 10), npi="1000000001")
        claim(session, "E5", "NWM", submitted, "90.00", "denied", dos=date(2026, 9, 20), npi="1000000002")
        claim(session, "E6", "NWM", submitted, "60.00", "pending", dos=date(2026, 10, 20), npi="1000000002")
