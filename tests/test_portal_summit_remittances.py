"""Summit Exchange remittances: the fake portal's 835 files, listed and downloaded through a real Chromium.

The 835 text is checked with a minimal split on ~ and *, against the data set the
portal serves; flows/era.py (the real parser) is not needed here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page

from fake_portal import era
from fake_portal.data import Adjustment, Claim, Dataset, ServiceLine, Status, generate
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, PortalUnavailable, RateLimited
from portals.summit_exchange import RemittanceNotFound, SummitExchangeAdapter
from portals.types import Credentials, RemittanceFile

START = date(2026, 11, 2)
DATA = generate(seed=7, start=START)
CLEARINGHOUSE_PAYERS = {"NWM", "BBH"}
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "clearinghouse")
DEMO = Credentials(ACCOUNT.username, ACCOUNT.password, totp_secret=ACCOUNT.totp_secret)

Segment = list[str]


def make_adapter(page: Page, portal: RunningPortal) -> SummitExchangeAdapter:
    return SummitExchangeAdapter(
        page,
        portal="summit-exchange",
        base_url=f"{portal.url}/clearinghouse",
        credentials=DEMO,
        timeouts=Timeouts(element_ms=3000),
    )


def remitted_groups(today: date) -> dict[tuple[str, date], list[Claim]]:
    """The truth: finalised claims by payer and the day their remittance was produced."""
    groups: dict[tuple[str, date], list[Claim]] = defaultdict(list)
    for claim in DATA.claims_for(CLEARINGHOUSE_PAYERS):
        final = claim.final
        if final is not None and final.category in {"F1", "F2"}:
            day = final.payment_date or final.effective
            if day <= today:
                groups[(claim.payer_id, day)].append(claim)
    return groups


def reversed_claim() -> Claim:
    """The first NWM claim paid before start+5: the one the payer takes back (see fake_portal/era.py)."""
    return next(
        c
        for c in sorted(DATA.claims_for({"NWM"}), key=lambda c: c.claim_id)
        if c.outcome == "paid" and c.final and c.final.payment_date and c.final.payment_date < START + timedelta(days=5)
    )


# --- a minimal 835 reader, just enough to compare with the data set ------------------


def segments(text: str) -> list[Segment]:
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def first(segs: list[Segment], tag: str) -> Segment:
    return next(s for s in segs if s[0] == tag)


def money(text: str) -> Decimal:
    return Decimal(text) if text else Decimal("0")


def cas_total(seg: Segment) -> Decimal:
    return sum((money(seg[i]) for i in range(3, len(seg), 3)), Decimal("0"))


def claims_of(segs: list[Segment]) -> list[list[Segment]]:
    """Each CLP with the segments up to the next CLP (or the PLB/SE that ends the claims)."""
    claims: list[list[Segment]] = []
    for seg in segs:
        if seg[0] in {"PLB", "SE"}:
            break
        if seg[0] == "CLP":
            claims.append([])
        if claims:
            claims[-1].append(seg)
    return claims


def assert_well_formed(text: str) -> list[Segment]:
    """Envelope, counts and balancing, as a receiver's translator checks them."""
    assert all(line.endswith("~") for line in text.splitlines()), "one segment per line, each ending in ~"
    segs = segments(text)
    isa = text.split("~")[0]
    assert len(isa) == 105 and isa[104] == ":"  # 106 with its terminator; component separator in ISA16
    tags = [s[0] for s in segs]
    assert tags[:3] == ["ISA", "GS", "ST"] and tags[-3:] == ["SE", "GE", "IEA"]
    st, se = first(segs, "ST"), first(segs, "SE")
    assert int(se[1]) == tags.index("SE") - tags.index("ST") + 1 and se[2] == st[2]
    assert first(segs, "GS")[6] == first(segs, "GE")[2]
    assert first(segs, "ISA")[13] == first(segs, "IEA")[2]
    claims_paid = Decimal("0")
    for claim in claims_of(segs):
        clp = claim[0]
        adjustments = sum((cas_total(s) for s in claim if s[0] == "CAS"), Decimal("0"))
        assert money(clp[3]) - adjustments == money(clp[4]), f"claim {clp[1]} does not balance"
        claims_paid += money(clp[4])
        for i, seg in enumerate(claim):
            if seg[0] == "SVC":
                line = claim[i + 1 :]
                end = next((j for j, s in enumerate(line) if s[0] == "SVC"), len(line))
                line_cas = sum((cas_total(s) for s in line[:end] if s[0] == "CAS"), Decimal("0"))
                assert money(seg[2]) - line_cas == money(seg[3]), f"a line of claim {clp[1]} does not balance"
    for cas in (s for s in segs if s[0] == "CAS"):
        assert len(cas) <= 2 + 3 * 6
    plb = sum((money(s[i]) for s in segs if s[0] == "PLB" for i in range(4, len(s), 2)), Decimal("0"))
    assert money(first(segs, "BPR")[2]) == claims_paid - plb
    return segs


# --- the generator, without a browser --------------------------------------------------


def test_every_file_is_well_formed_and_matches_the_data_set() -> None:
    later = START + timedelta(days=40)
    files = era.remittance_files(DATA, later, CLEARINGHOUSE_PAYERS)
    assert {(f.payer.id, f.payment_date) for f in files} == set(remitted_groups(later)) | {
        ("NWM", START + timedelta(days=5))
    }
    for file in files:
        segs = assert_well_formed(era.render_835(file))
        assert first(segs, "TRN")[2] == file.trace and file.file_id.endswith(file.trace)
        for claim_segs in claims_of(segs):
            clp = claim_segs[0]
            if clp[2] == "1":  # paid: the allowed amounts add up to the data set's
                final = DATA.claims[clp[1]].final
                assert final is not None
                allowed = sum((money(s[2]) for s in claim_segs if s[:2] == ["AMT", "B6"]), Decimal("0"))
                assert allowed == final.allowed
    assert generate(seed=7, start=START).claims == DATA.claims  # the portal's own truth is untouched


def test_many_adjustments_of_one_group_take_several_cas_segments() -> None:
    line = ServiceLine(1, "99214", 1, Decimal("210.00"))
    reasons = ("45", "59", "94", "97", "131", "144", "253")
    adjustments = tuple(Adjustment("CO", carc, Decimal("10.00"), (), 1) for carc in reasons)
    final = Status(
        "F1",
        "65",
        "Paid",
        START,
        Decimal("140.00"),
        Decimal("140.00"),
        Decimal("0.00"),
        "EFT1234567890",
        START,
        adjustments,
    )
    claim = replace(DATA.claims["PW100013"], lines=(line,), final=final, history=[final])
    dataset = Dataset(START, DATA.providers, {claim.claim_id: claim})
    (file,) = era.remittance_files(dataset, START, {claim.payer_id})
    cas = [s for s in assert_well_formed(era.render_835(file)) if s[0] == "CAS"]
    assert [len(s[2::3]) for s in cas] == [6, 1]
    assert [carc for s in cas for carc in s[2::3]] == list(reasons)


# --- through the browser -------------------------------------------------------------------


@pytest.mark.browser
def test_lists_and_downloads_the_files_of_the_data_set(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    files = adapter.list_remittances()
    groups = remitted_groups(START)
    assert {(f.file_id.split("-")[0], f.issued) for f in files} == set(groups)
    assert len(files) == len(groups)
    issued = [f.issued for f in files if f.issued is not None]  # every one: the set above matched the groups
    assert issued == sorted(issued, reverse=True)  # newest first
    for file in files:
        assert file.name == f"{file.file_id}.835"
        assert file.issued is not None
        segs = assert_well_formed(adapter.download_remittance(file).decode())
        claims = sorted(groups[(file.file_id.split("-")[0], file.issued)], key=lambda c: c.claim_id)
        clps = [s for s in segs if s[0] == "CLP"]
        assert [c[1] for c in clps] == [c.claim_id for c in claims]
        for clp, claim in zip(clps, claims, strict=True):
            final = claim.final
            assert final is not None
            assert clp[2] == ("1" if final.category == "F1" else "4") and clp[7] == claim.payer_claim_number
            assert (money(clp[3]), money(clp[4]), money(clp[5])) == (
                claim.billed,
                final.paid,
                final.patient_responsibility,
            )
        bpr, trn = first(segs, "BPR"), first(segs, "TRN")
        assert money(bpr[2]) == sum((c.final.paid for c in claims if c.final and c.final.paid), Decimal("0"))
        assert bpr[4] == ("ACH" if money(bpr[2]) else "NON") and bpr[16] == f"{file.issued:%Y%m%d}"
        checks = [c.final.check_number for c in claims if c.final and c.final.check_number]
        assert file.file_id.endswith(trn[2]) and (not checks or trn[2] == checks[0])
    assert adapter.logins == 1


@pytest.mark.browser
def test_the_clock_brings_the_reversal_file(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    before = {f.file_id for f in adapter.list_remittances()}
    fake_portal.admin("clock", {"days": 6})
    after = adapter.list_remittances()
    reversal_day = START + timedelta(days=5)
    (reversal,) = [f for f in after if f.file_id.startswith(f"NWM-{reversal_day:%Y%m%d}-")]
    assert reversal.file_id not in before and reversal.issued == reversal_day
    segs = assert_well_formed(adapter.download_remittance(reversal).decode())
    claim = reversed_claim()
    assert claim.final is not None and claim.final.paid
    billed, paid = claim.billed, claim.final.paid
    assert [(s[1], s[2], money(s[3]), money(s[4])) for s in segs if s[0] == "CLP"] == [
        (claim.claim_id, "22", -billed, -paid),
        (claim.claim_id, "4", billed, Decimal("0")),
    ]
    correction = claims_of(segs)[1]
    assert [s[:3] for s in correction if s[0] == "CAS"] == [["CAS", "CO", "18"]] * len(claim.lines)
    assert money(first(segs, "BPR")[2]) == 0
    plb = first(segs, "PLB")
    assert plb[3].startswith("FB:") and money(plb[4]) == -paid
    assert adapter.logins == 1


@pytest.mark.browser
def test_session_expired_before_the_listing_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    first_listing = adapter.list_remittances()
    fake_portal.admin("sessions/expire", {})
    assert adapter.list_remittances() == first_listing
    assert adapter.logins == 2


@pytest.mark.browser
def test_session_expired_before_a_download_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    files = adapter.list_remittances()
    fake_portal.admin("sessions/expire", {})
    assert adapter.download_remittance(files[0]).startswith(b"ISA")
    assert adapter.logins == 2
    # Another run knows the file from an earlier listing: it finds the link again on the page.
    another = make_adapter(page, fake_portal)
    assert another.download_remittance(files[-1]).startswith(b"ISA")
    with pytest.raises(RemittanceNotFound):
        another.download_remittance(RemittanceFile("NWM-20200101-EFT0000000000", "old.835", date(2020, 1, 1)))
    assert another.logins == 0


@pytest.mark.browser
def test_layout_2_is_a_changed_layout(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"layout": 2})
    with pytest.raises(LayoutChanged, match="remittances"):
        adapter.list_remittances()


@pytest.mark.browser
def test_rate_limits_and_server_errors_on_download(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    files = adapter.list_remittances()
    fake_portal.admin("faults/clearinghouse", {"rate_limited": True})
    with pytest.raises(RateLimited) as caught:
        adapter.download_remittance(files[0])
    assert caught.value.retry_after is not None
    fake_portal.admin("faults/clearinghouse", {"rate_limited": False, "error_rate": 1.0})
    with pytest.raises(PortalUnavailable) as failed:
        adapter.download_remittance(files[0])
    assert not isinstance(failed.value, RateLimited)
    assert adapter.logins == 1


@pytest.mark.browser
def test_the_era_parser_reads_every_listed_file(page: Page, fake_portal: RunningPortal) -> None:
    from flows.era import parse_835  # the worker's own parser, written apart from the generator

    fake_portal.admin("clock", {"days": 6})  # the reversal file is listed too
    adapter = make_adapter(page, fake_portal)
    files = adapter.list_remittances()
    reversals = 0
    for file in files:
        (remittance,) = parse_835(adapter.download_remittance(file).decode())
        assert file.file_id.startswith(f"{remittance.payer_id}-") and file.file_id.endswith(remittance.trace_number)
        assert remittance.payment_date == file.issued
        assert all(c.claim_id in DATA.claims for c in remittance.claims)
        reversals += sum(c.is_reversal for c in remittance.claims)
    assert reversals == 1
