"""Denials without a browser: recorded once, resolved by payment or reversal, worked by staff, reported."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.claim_states import ClaimState
from flows.denials import DenialActionRefused, DenialChanges, record_portal_result, record_staff_action
from flows.era import EraParseError
from flows.remittances import import_era
from flows.worklist import build_worklist, priority, urgency
from portals.types import Adjustment, ClaimStatusResult
from store.db import create_schema, make_engine, session_scope
from store.denials import history, list_denials
from store.models import Claim, Denial, EraClaim, EraFile

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
DOS = date(2026, 9, 14)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_schema(engine)
    with session_scope(engine) as session:
        for claim_id, payer in (("PW900001", "NWM"), ("PW900002", "NWM"), ("PW900003", "UHP")):
            session.add(
                Claim(
                    claim_id=claim_id,
                    payer_id=payer,
                    member_id="M000000001",
                    patient_name="SYNTHETIC, PERSON",
                    dos_from=DOS,
                    dos_to=DOS,
                    billed_amount=Decimal("300.00"),
                    submitted_date=DOS + timedelta(days=3),
                    rendering_npi="1234567893",
                    imported_at=AT,
                    updated_at=AT,
                    paid_amount=None,
                )
            )
    return engine


def denied(claim_id: str = "PW900001", *adjustments: Adjustment, category: str = "F2") -> ClaimStatusResult:
    return ClaimStatusResult(
        claim_id,
        category,
        "1",
        "Denied",
        date(2026, 10, 1),
        "NWM0001",
        Decimal("300.00"),
        Decimal("0"),
        Decimal("0"),
        adjustments=adjustments,
    )


def portal(engine: Engine, result: ClaimStatusResult, state: ClaimState, at: datetime = AT) -> DenialChanges:
    with session_scope(engine) as session:
        return record_portal_result(
            session, claim_id=result.claim_id, payer_id="NWM", result=result, state=state, portal="summit", at=at
        )


def denials(engine: Engine) -> list[Denial]:
    with Session(engine) as session:
        return list_denials(session)


AUTH = Adjustment("CO", "197", Decimal("300.00"), (), "99213")


def test_a_denial_is_recorded_once_and_closed_when_the_claim_is_paid(engine: Engine) -> None:
    changes = portal(engine, denied("PW900001", AUTH), ClaimState.DENIED)
    assert len(changes.new) == 1
    again = portal(engine, denied("PW900001", AUTH), ClaimState.DENIED, AT + timedelta(days=1))
    assert not again.new and not again.resolved
    [denial] = denials(engine)
    assert (denial.category, denial.owner, denial.kind) == ("authorization", "scheduling_auth", "hard")
    assert denial.denial_date == date(2026, 10, 1) and denial.line_procedure == "99213"

    paid = ClaimStatusResult(
        "PW900001",
        "F1",
        "65",
        "Paid",
        date(2026, 11, 1),
        "NWM0001",
        adjustments=(Adjustment("CO", "45", Decimal("50")),),
    )
    closed = portal(engine, paid, ClaimState.PAID, AT + timedelta(days=30))
    assert [d.id for d in closed.resolved] == [denial.id]
    [denial] = denials(engine)
    assert denial.status == "resolved" and "paid" in (denial.resolution or "")
    with Session(engine) as session:
        assert [e.status for e in history(session, denial.id or 0)] == ["open", "resolved"]


def test_contractual_and_patient_share_are_not_denials_but_a_denied_line_is(engine: Engine) -> None:
    partial = denied(
        "PW900001",
        Adjustment("CO", "45", Decimal("40.00"), (), "99214"),
        Adjustment("PR", "3", Decimal("20.00"), (), "99214"),
        Adjustment("CO", "97", Decimal("65.00"), ("N20",), "93000"),
        category="F1",
    )
    portal(engine, partial, ClaimState.PARTIALLY_PAID)
    [denial] = denials(engine)
    assert (denial.carc, denial.rarcs, denial.category) == ("97", ["N20"], "bundling")


def test_unknown_codes_are_kept_as_unknown_not_dropped(engine: Engine) -> None:
    portal(engine, denied("PW900001", Adjustment("CO", "Z99", Decimal("300.00"), ("ZZ1",))), ClaimState.DENIED)
    [denial] = denials(engine)
    assert (denial.category, denial.kind) == ("unknown", "unknown")


def test_staff_actions_are_kept_in_the_history_and_bad_ones_refused(engine: Engine) -> None:
    portal(engine, denied("PW900001", AUTH), ClaimState.DENIED)
    [denial] = denials(engine)
    with session_scope(engine) as session:
        record_staff_action(session, denial.id or 0, "appealed", "level 1 faxed", AT + timedelta(days=2))
    with session_scope(engine) as session:
        with pytest.raises(DenialActionRefused, match="status must be one of"):
            record_staff_action(session, denial.id or 0, "lost", None, AT)
        with pytest.raises(DenialActionRefused, match="no denial with id 999"):
            record_staff_action(session, 999, "appealed", None, AT)
    with Session(engine) as session:
        events = history(session, denial.id or 0)
    assert [(e.actor, e.status, e.note) for e in events][-1] == ("staff", "appealed", "level 1 faxed")
    # a worked denial is not auto-reopened or duplicated by the next check
    portal(engine, denied("PW900001", AUTH), ClaimState.DENIED, AT + timedelta(days=3))
    assert [d.status for d in denials(engine)] == ["appealed"]


# --- ERAs --------------------------------------------------------------------------


def era(*claims: str, trace: str = "EFT0000000001", total: str = "100.00") -> bytes:
    body = [
        "ST*835*0001~",
        f"BPR*I*{total}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20261010~",
        f"TRN*1*{trace}*1512345678~",
        "DTM*405*20261009~",
        "N1*PR*NORTHWIND MUTUAL~",
        "N3*1 PAYER WAY~",
        "N4*ANYTOWN*CA*90000~",
        "REF*2U*NWM~",
        "N1*PE*TEST PRACTICE*XX*1234567893~",
        *claims,
    ]
    count = len(body) + 1
    segments = [
        ("ISA*00*          *00*          *ZZ*PAYER          *ZZ*PRACTICE       *261010*1200*^*00501*000000001*0*P*:~"),
        "GS*HP*PAYER*PRACTICE*20261010*1200*1*X*005010X221A1~",
        *body,
        f"SE*{count}*0001~",
        "GE*1*1~",
        "IEA*1*000000001~",
    ]
    return "\n".join(segments).encode()


DENIED_CLP = [
    "CLP*PW900001*4*300*0**12*NWM0001~",
    "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
    "SVC*HC:99213*300*0**1~",
    "DTM*472*20260914~",
    "CAS*CO*197*300~",
]
PAID_CLP = [
    "CLP*PW900002*1*300*100*20*12*NWM0002~",
    "NM1*QC*1*SYNTHETIC*OTHER****MI*M000000002~",
    "SVC*HC:99214*300*100**1~",
    "DTM*472*20260914~",
    "CAS*CO*45*180~",
    "CAS*PR*3*20~",
]
UNKNOWN_CLP = [
    "CLP*PW999999*4*120*0**12*NWM0009~",
    "NM1*QC*1*SYNTHETIC*STRANGER****MI*M000000009~",
    "CAS*CO*16*120~",
    "MOA***M127~",
]


def test_era_denials_join_the_same_table_and_portal_reports_do_not_duplicate_them(engine: Engine) -> None:
    result = import_era(engine, era(*DENIED_CLP, *PAID_CLP, *UNKNOWN_CLP), source="file", file_id="a.835", at=AT)
    assert (result.claims, result.new_denials, result.unmatched) == (3, 2, ["PW999999"])
    by_claim = {d.reported_claim_id: d for d in denials(engine)}
    assert by_claim["PW900001"].claim_id == "PW900001" and by_claim["PW900001"].carc == "197"
    assert by_claim["PW999999"].claim_id is None and by_claim["PW999999"].rarcs == ["M127"]
    with Session(engine) as session:
        assert session.exec(select(EraClaim).where(EraClaim.claim_id == None)).one().reported_claim_id == "PW999999"  # noqa: E711

    # the same denial, seen later on the portal: still one row
    portal(engine, denied("PW900001", AUTH), ClaimState.DENIED)
    assert len(denials(engine)) == 2

    # the same file again imports nothing
    assert import_era(
        engine, era(*DENIED_CLP, *PAID_CLP, *UNKNOWN_CLP), source="file", file_id="a-copy.835", at=AT
    ).already_imported


def test_a_reversal_closes_the_denial_and_the_reprocessed_claim_pays(engine: Engine) -> None:
    import_era(engine, era(*DENIED_CLP), source="file", file_id="1.835", at=AT)
    reversal = [
        "CLP*PW900001*22*-300*0**12*NWM0001~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*-300*0**1~",
        "CAS*CO*197*-300~",
    ]
    repaid = [
        "CLP*PW900001*1*300*240*0*12*NWM0001B~",
        "NM1*QC*1*SYNTHETIC*PERSON****MI*M000000001~",
        "SVC*HC:99213*300*240**1~",
        "CAS*CO*45*60~",
    ]
    result = import_era(
        engine,
        era(*reversal, *repaid, trace="EFT0000000002", total="240.00"),
        source="file",
        file_id="2.835",
        at=AT + timedelta(days=20),
    )
    assert result.resolved_denials == 1 and result.new_denials == 0
    [denial] = denials(engine)
    assert denial.status == "resolved" and "reversed" in (denial.resolution or "")


def test_a_malformed_era_names_the_segment_and_imports_nothing(engine: Engine) -> None:
    broken = era(*DENIED_CLP).replace(b"CLP*PW900001*4*300*0", b"CLP*PW900001*4*3x0*0")
    with pytest.raises(EraParseError) as error:
        import_era(engine, broken, source="file", file_id="bad.835", at=AT)
    assert "CLP" in str(error.value) and "SYNTHETIC" not in str(error.value)
    with Session(engine) as session:
        assert not session.exec(select(EraFile)).all() and not list_denials(session)


def test_a_file_that_is_not_text_is_refused_as_an_era(engine: Engine) -> None:
    with pytest.raises(EraParseError, match=r"bin\.835: not a text file"):
        import_era(engine, b"\xff\xfeISA", source="file", file_id="bin.835", at=AT)


# --- worklist and report -----------------------------------------------------------


def make_denial(id_: int, amount: str, kind: str, category: str, denial_date: date, payer: str = "UHP") -> Denial:
    return Denial(
        id=id_,
        fingerprint=str(id_),
        claim_id="PW900003",
        reported_claim_id="PW900003",
        source="portal",
        source_ref="unity",
        payer_id=payer,
        payer_claim_number="X",
        group_code="CO",
        carc="197",
        rarcs=[],
        amount=Decimal(amount),
        category=category,
        owner="billing",
        kind=kind,
        denial_date=denial_date,
        first_seen_at=AT,
        last_seen_at=AT,
    )


def test_urgency_and_priority_follow_the_rule() -> None:
    assert urgency(0) == 1.0 and urgency(14) == 0.5 and urgency(None) == 0.5 and urgency(-1) == 0.2
    # soft beats hard, and a usually-overturned category beats a rarely-overturned one, all else equal
    assert priority(Decimal("100"), 10, "soft", "coding") > priority(Decimal("100"), 10, "hard", "coding")
    assert priority(Decimal("100"), 10, "hard", "medical_necessity") > priority(
        Decimal("100"), 10, "hard", "timely_filing"
    )


CRAFTED_RULES = {
    "classes": {
        "commercial": {
            "timely_filing": {"days": 90},
            "corrected_claim": {"days": 60},
            "corrected_claim_within_timely_filing": False,
            "receipt_days": 0,
            "roll_weekends": False,
            "appeal_levels": [{"name": "appeal", "days": 60}],
        }
    }
}


def test_worklist_order_on_a_crafted_set() -> None:
    from flows.deadlines import rule_book

    today = date(2026, 11, 20)
    crafted = [
        make_denial(1, "1000.00", "hard", "timely_filing", today - timedelta(days=10)),  # big, rarely recovered
        make_denial(2, "1000.00", "soft", "coding", today - timedelta(days=10)),  # big and easy: 50 days left
        make_denial(3, "50.00", "soft", "coding", today - timedelta(days=10)),  # easy but small
        make_denial(4, "1000.00", "soft", "coding", today - timedelta(days=2)),  # as 2, with 58 days left
        make_denial(5, "900.00", "hard", "authorization", today - timedelta(days=400)),  # window long closed
    ]
    items = build_worklist(crafted, {}, rule_book(CRAFTED_RULES), today)
    # 1000 x 1/(1+50/14) = 219; 1000 x 1/(1+58/14) = 194; 900 x 0.2 x 0.6 x 0.6 = 65;
    # 1000 x 0.219 x 0.6 x 0.2 = 26; 50 x 0.219 = 11
    assert [item.denial.id for item in items] == [2, 4, 5, 1, 3]
    by_id = {item.denial.id: item for item in items}
    assert by_id[2].days_left == 50 and by_id[2].action == "resubmit corrected claim"
    assert by_id[1].action == "file appeal"
    assert by_id[5].days_left == -340 and "window closed" in by_id[5].action
    patient_owes = make_denial(6, "80.00", "hard", "non_covered", today)
    patient_owes.bill_patient = True
    [item] = build_worklist([patient_owes], {}, rule_book(CRAFTED_RULES), today)
    assert item.action == "file appeal; or bill the patient (PR)"


def test_an_unmatched_era_claim_attaches_when_the_practice_imports_that_claim(engine: Engine, tmp_path: Path) -> None:
    from flows.claim_import import import_claims_file

    import_era(engine, era(*UNKNOWN_CLP), source="file", file_id="u.835", at=AT)
    export = tmp_path / "claims.csv"
    export.write_text(
        "claim_id,payer_id,member_id,patient_name,dos_from,dos_to,billed_amount,submitted_date,"
        'rendering_npi\nPW999999,NWM,M000000009,"SYNTHETIC, STRANGER",2026-09-14,2026-09-14,'
        "120.00,2026-09-16,1234567893\n"
    )

    import_claims_file(engine, export, AT)

    [denial] = [d for d in denials(engine) if d.reported_claim_id == "PW999999"]
    assert denial.claim_id == "PW999999" and denial.payer_id == "NWM"
    with Session(engine) as session:
        assert (
            session.exec(select(EraClaim).where(EraClaim.reported_claim_id == "PW999999")).one().claim_id == "PW999999"
        )
