"""Authorization and enrollment findings on crafted data: each rule, its edges, and sync without repeats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session

from flows.authorizations import AUTH_FINDINGS, AuthRules, auth_findings
from flows.credentialing import CredentialingRules, enrollment_findings
from flows.findings import FindingDraft, sync_findings
from store.db import create_schema, make_engine, session_scope
from store.findings import all_findings
from store.models import Authorization, Claim, Enrollment, Provider

TODAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def auth(
    number: str = "UA1",
    status: str = "approved",
    used: int | None = 2,
    approved: int = 12,
    end_in_days: int = 60,
    scheduled_in_days: int | None = 7,
    codes: tuple[str, ...] = ("97110", "97140"),
    start_days_ago: int = 30,
) -> Authorization:
    return Authorization(
        auth_number=number,
        payer_id="UHP",
        member_id="M000000001",
        patient_name="SYNTHETIC, PERSON",
        servicing_npi="1234567893",
        procedure_codes=list(codes),
        units_approved=approved,
        start_date=TODAY - timedelta(days=start_days_ago),
        end_date=TODAY + timedelta(days=end_in_days),
        scheduled_date=None if scheduled_in_days is None else TODAY + timedelta(days=scheduled_in_days),
        imported_at=AT,
        updated_at=AT,
        status=status,
        units_used=used,
        denial_reason="not medically necessary" if status == "denied" else None,
    )


def claim(
    claim_id: str,
    npi: str = "1234567893",
    payer: str = "UHP",
    status: str = "pending",
    codes: tuple[str, ...] = ("97110",),
    dos_days_ago: int = 5,
    auth_number: str | None = None,
    billed: str = "150.00",
) -> Claim:
    dos = TODAY - timedelta(days=dos_days_ago)
    return Claim(
        claim_id=claim_id,
        payer_id=payer,
        member_id="M000000001",
        patient_name="SYNTHETIC, PERSON",
        dos_from=dos,
        dos_to=dos,
        billed_amount=Decimal(billed),
        submitted_date=dos,
        rendering_npi=npi,
        procedure_codes=list(codes),
        prior_auth_number=auth_number,
        imported_at=AT,
        updated_at=AT,
        status=status,
        paid_amount=None,
    )


def kinds(drafts: list[FindingDraft]) -> list[tuple[str, str]]:
    return sorted((d.kind, d.subject) for d in drafts)


@pytest.mark.parametrize(
    ("crafted", "expected"),
    [
        (auth(), []),
        (auth(end_in_days=14), [("auth_expiring", "UA1")]),  # the edge: exactly N days
        (auth(end_in_days=15), []),
        (auth(end_in_days=5, used=12), [("auth_units_high", "UA1")]),  # expiring, but no visits remain
        (auth(used=10), [("auth_units_high", "UA1")]),  # 83 %
        (auth(used=9, approved=12), []),  # 75 %
        (auth(status="denied", used=None), [("auth_denied", "UA1")]),
        (auth(status="pending", used=None, scheduled_in_days=0), [("auth_pending_overdue", "UA1")]),
        (auth(status="pending", used=None, scheduled_in_days=3), []),
        (auth(status="expired", end_in_days=-1), []),
        (auth(status="unchecked", used=None, end_in_days=3), []),  # nothing known from the payer yet
    ],
)
def test_each_authorization_rule(crafted: Authorization, expected: list[tuple[str, str]]) -> None:
    assert kinds(auth_findings([crafted], [], TODAY)) == expected


def test_thresholds_come_from_config() -> None:
    assert kinds(auth_findings([auth(used=9)], [], TODAY, AuthRules(units_threshold=0.75))) == [
        ("auth_units_high", "UA1")
    ]
    assert kinds(auth_findings([auth(end_in_days=20)], [], TODAY, AuthRules(expiry_days=30))) == [
        ("auth_expiring", "UA1")
    ]


def test_a_claim_billed_outside_its_authorization_is_found_with_the_money_at_risk() -> None:
    crafted = auth(codes=("97110", "97140"), start_days_ago=30, end_in_days=10)
    claims = [
        claim("PW1", codes=("97110",), auth_number="UA1"),  # inside: fine
        claim("PW2", codes=("97110", "97530"), auth_number="UA1", billed="240.00"),  # a code not approved
        claim("PW3", codes=("97110",), dos_days_ago=45, auth_number="UA1"),  # before the start date
        claim("PW4", codes=("99999",), auth_number=None),  # billed without an authorization number
    ]
    drafts = {d.subject: d for d in auth_findings([crafted], claims, TODAY) if d.kind == "claim_outside_auth"}
    assert sorted(drafts) == ["PW2", "PW3"]
    assert drafts["PW2"].amount_at_risk == Decimal("240.00") and "97530" in drafts["PW2"].message
    assert "outside" in drafts["PW3"].message
    assert "SYNTHETIC" not in drafts["PW2"].message and "M000000001" not in drafts["PW2"].message


def enrollment(
    npi: str, payer: str, status: str, revalidate_in_days: int | None = 900, terminated_days_ago: int | None = None
) -> Enrollment:
    return Enrollment(
        npi=npi,
        payer_id=payer,
        portal="p",
        status=status,
        last_checked_at=AT,
        status_changed_at=AT,
        revalidation_due=(None if revalidate_in_days is None else TODAY + timedelta(days=revalidate_in_days)),
        termination=None if terminated_days_ago is None else TODAY - timedelta(days=terminated_days_ago),
    )


def test_an_inactive_enrollment_with_unpaid_claims_lists_the_claims_and_their_total() -> None:
    claims = [
        claim("PW1", npi="1111111111", payer="LSM"),
        claim("PW2", npi="1111111111", payer="LSM", billed="50.00"),
        claim("PW3", npi="1111111111", payer="LSM", status="paid"),  # paid: no longer at risk
        claim("PW4", npi="2222222222", payer="LSM"),
    ]
    drafts = enrollment_findings(
        [
            enrollment("1111111111", "LSM", "terminated", terminated_days_ago=15),
            enrollment("2222222222", "LSM", "active"),
            enrollment("3333333333", "LSM", "in_process"),
        ],  # no claims: nothing at risk
        [],
        claims,
        TODAY,
    )
    [finding] = drafts
    assert (finding.kind, finding.subject) == ("enrollment_inactive", "1111111111/LSM")
    assert finding.claims_at_risk == ("PW1", "PW2") and finding.amount_at_risk == Decimal("200.00")
    assert finding.due == TODAY - timedelta(days=15)


@pytest.mark.parametrize(("days", "found"), [(90, True), (91, False), (-3, True)])
def test_revalidation_within_90_days_or_past(days: int, found: bool) -> None:
    drafts = enrollment_findings([enrollment("1111111111", "NWM", "active", revalidate_in_days=days)], [], [], TODAY)
    assert kinds(drafts) == ([("revalidation_due", "1111111111/NWM")] if found else [])


@pytest.mark.parametrize(("attested_days_ago", "found"), [(90, True), (89, False), (130, True)])
def test_caqh_reattestation_every_120_days_with_30_days_notice(attested_days_ago: int, found: bool) -> None:
    provider = Provider(
        npi="1111111111",
        name="Dr. Synthetic",
        imported_at=AT,
        updated_at=AT,
        caqh_attested_date=TODAY - timedelta(days=attested_days_ago),
    )
    drafts = enrollment_findings([], [provider], [], TODAY, CredentialingRules())
    assert kinds(drafts) == ([("caqh_due", "1111111111")] if found else [])


def test_sync_opens_once_updates_in_place_and_resolves_when_the_condition_ends(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    create_schema(engine)
    draft = auth_findings([auth(used=10)], [], TODAY)
    with session_scope(engine) as session:
        assert len(sync_findings(session, AUTH_FINDINGS, draft, AT).opened) == 1
    with session_scope(engine) as session:
        again = sync_findings(session, AUTH_FINDINGS, auth_findings([auth(used=11)], [], TODAY), AT)
        assert not again.opened and not again.resolved
    with Session(engine) as session:
        [finding] = all_findings(session)
        assert "11 of 12" in finding.message
    with session_scope(engine) as session:  # renewed: more units approved
        done = sync_findings(session, AUTH_FINDINGS, auth_findings([auth(used=11, approved=24)], [], TODAY), AT)
        assert [f.kind for f in done.resolved] == ["auth_units_high"]
    with Session(engine) as session:
        assert [f.status for f in all_findings(session)] == ["resolved"]
