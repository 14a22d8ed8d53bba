"""The 835 parser against hand-written samples (tests/data/era) and one broken file per check."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flows.era import EraAdjustment, EraClaim, EraParseError, EraServiceLine, Remittance, parse_835

SAMPLES = Path(__file__).parent / "data" / "era"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def only(remittances: list[Remittance]) -> Remittance:
    assert len(remittances) == 1
    return remittances[0]


def claims_by_id(remittance: Remittance) -> dict[str, EraClaim]:
    return {c.claim_id: c for c in remittance.claims}


# --- well-formed samples ------------------------------------------------------------


def test_several_claims_with_one_payment() -> None:
    era = only(parse_835(sample("paid_denied_partial.835")))

    assert (era.payer_name, era.payer_id) == ("NORTHWIND MUTUAL", "NWM")
    assert (era.payee_name, era.payee_npi) == ("MAPLE STREET FAMILY MEDICINE", "1548726300")
    assert (era.payment_amount, era.payment_method) == (Decimal("390.00"), "ACH")
    assert (era.payment_date, era.production_date) == (date(2026, 11, 4), date(2026, 11, 2))
    assert era.trace_number == "EFT20261104001"
    assert [c.claim_id for c in era.claims] == ["PW900001", "PW900002", "PW900003", "PW900004"]
    assert sum(c.paid for c in era.claims) == era.payment_amount

    paid = era.claims[0]
    assert (paid.status_code, paid.billed, paid.paid, paid.patient_responsibility) == (
        "1",
        Decimal("150.00"),
        Decimal("150.00"),
        None,
    )
    assert paid.payer_claim_number == "NWM20261100001"
    assert (paid.statement_from, paid.statement_to, paid.received) == (
        date(2026, 10, 12),
        date(2026, 10, 12),
        date(2026, 10, 20),
    )
    assert paid.lines == (
        EraServiceLine(
            procedure="99213",
            modifiers=(),
            charge=Decimal("150.00"),
            paid=Decimal("150.00"),
            units=Decimal("1"),
            service_date=date(2026, 10, 12),
            adjustments=(),
            remark_codes=(),
            line_control_number="PW900001-1",
        ),
    )
    assert not paid.is_denied and not paid.is_reversal


def test_denied_claim_with_claim_level_adjustment() -> None:
    denied = claims_by_id(only(parse_835(sample("paid_denied_partial.835"))))["PW900004"]

    assert denied.status_code == "4" and denied.is_denied
    assert denied.paid == Decimal("0.00")
    assert denied.adjustments == (EraAdjustment("CO", "197", Decimal("180.00")),)
    assert denied.lines == ()
    assert denied.remark_codes == ("N54", "MA01")  # MOA03, MOA04


def test_partly_paid_claim_with_two_triplets_in_one_line_cas() -> None:
    partial = claims_by_id(only(parse_835(sample("paid_denied_partial.835"))))["PW900002"]

    assert not partial.is_denied
    assert partial.adjustments == ()  # everything was adjusted on the lines
    assert partial.remark_codes == ("MA01",)
    first, second = partial.lines
    assert (first.procedure, first.modifiers) == ("99214", ("25",))
    assert first.adjustments == (
        EraAdjustment("CO", "45", Decimal("20.00")),
        EraAdjustment("CO", "97", Decimal("40.00")),
    )
    assert first.remark_codes == ("N20",)
    assert first.charge - sum(a.amount for a in first.adjustments) == first.paid
    assert (second.procedure, second.line_control_number, second.remark_codes) == ("81002", "PW900002-2", ())
    assert second.adjustments == (EraAdjustment("CO", "45", Decimal("5.00")),)


def test_deductible_and_coinsurance_are_patient_responsibility() -> None:
    claim = claims_by_id(only(parse_835(sample("paid_denied_partial.835"))))["PW900003"]

    assert claim.patient_responsibility == Decimal("120.00")
    (line,) = claim.lines
    assert line.adjustments == (
        EraAdjustment("CO", "45", Decimal("50.00")),
        EraAdjustment("PR", "1", Decimal("100.00")),
        EraAdjustment("PR", "2", Decimal("20.00")),
    )
    assert sum(a.amount for a in line.adjustments if a.group_code == "PR") == claim.patient_responsibility


def test_reversal_keeps_negative_amounts_and_is_followed_by_the_correction() -> None:
    era = only(parse_835(sample("reversal_correction.835")))
    reversal, corrected = era.claims

    assert (era.payment_method, era.payment_amount, era.trace_number) == ("CHK", Decimal("32.50"), "CHK70011234")
    assert era.payment_date == date(2026, 11, 6)
    assert reversal.claim_id == corrected.claim_id == "PW900005"
    assert reversal.is_reversal and not reversal.is_denied
    assert (reversal.billed, reversal.paid, reversal.patient_responsibility) == (
        Decimal("-200.00"),
        Decimal("-120.00"),
        Decimal("-30.00"),
    )
    assert reversal.payer_claim_number == "NWM20261000055"
    (line,) = reversal.lines
    assert (line.charge, line.paid, line.units) == (Decimal("-200.00"), Decimal("-120.00"), Decimal("-1"))
    assert line.adjustments == (
        EraAdjustment("CO", "45", Decimal("-50.00")),
        EraAdjustment("PR", "2", Decimal("-30.00")),
    )

    assert corrected.status_code == "1" and not corrected.is_reversal
    assert (corrected.paid, corrected.payer_claim_number) == (Decimal("150.00"), "NWM20261100055")
    assert reversal.paid + corrected.paid == Decimal("30.00")  # PLB interest makes up the rest of BPR02


def test_two_transactions_in_one_interchange() -> None:
    first, second = parse_835(sample("two_transactions.835"))

    assert (first.payer_id, first.payment_method, first.payment_amount) == ("NWM", "ACH", Decimal("900.00"))
    (institutional,) = first.claims
    assert institutional.remark_codes == ("MA01", "N793")  # MIA05, MIA20
    (line,) = institutional.lines
    assert (line.procedure, line.modifiers) == ("99284", ("25", "GT"))
    assert line.service_date == date(2026, 10, 10)  # DTM*150, the period start
    assert (institutional.statement_from, institutional.statement_to) == (date(2026, 10, 10), date(2026, 10, 11))

    assert (second.payer_name, second.payer_id) == ("BLUEBIRD HEALTH", "BBH01")  # from N1*PR N104
    assert (second.payment_method, second.payment_amount, second.trace_number) == (
        "NON",
        Decimal("0.00"),
        "NONPAY20261109",
    )
    (denied,) = second.claims
    assert denied.is_denied and denied.adjustments == ()
    assert denied.lines[0].adjustments == (EraAdjustment("CO", "50", Decimal("95.00")),)
    assert denied.lines[0].remark_codes == ("N115", "M127")
    assert denied.lines[0].line_control_number is None


def test_bare_transaction_without_isa() -> None:
    era = only(parse_835(sample("bare_transaction.835")))

    assert (era.payer_id, era.payment_amount, era.production_date) == ("NWM", Decimal("145.00"), None)
    assert [(c.claim_id, c.paid, c.lines[0].service_date) for c in era.claims] == [
        ("PW900020", Decimal("145.00"), date(2026, 10, 20))
    ]


@pytest.mark.parametrize(
    ("element", "component", "terminator", "newline"),
    [
        ("*", ":", "~", ""),
        ("*", ":", "~", "\r\n"),
        ("|", ">", "~", "\n"),
        ("^", "\\", "'", "\n"),
        ("*", ":", "\n", ""),
    ],
)
def test_delimiters_come_from_isa(element: str, component: str, terminator: str, newline: str) -> None:
    expected = parse_835(sample("paid_denied_partial.835"))
    text = sample("paid_denied_partial.835").replace("~\n", "\0")
    text = text.replace("*^*", "*U*")  # ISA11 repetition separator, unused by the 835; frees '^'
    text = text.translate(str.maketrans("*:", element + component)).replace("\0", terminator + newline)

    assert parse_835(text) == expected


def test_byte_order_mark_and_non_ascii_name() -> None:
    text = "\ufeff" + sample("paid_denied_partial.835").replace("QUILL*AVERY", "MÜLLER*ZOË")

    claim = only(parse_835(text)).claims[0]

    assert claim.patient_name == "MÜLLER, ZOË"


def test_patient_name_is_kept_out_of_repr() -> None:
    claim = only(parse_835(sample("paid_denied_partial.835"))).claims[0]

    assert claim.patient_name == "QUILL, AVERY"
    assert "QUILL" not in repr(claim)


def _claim(
    status: str, paid: str, claim_level: tuple[EraAdjustment, ...] = (), line_level: tuple[EraAdjustment, ...] = ()
) -> EraClaim:
    line = EraServiceLine("99213", (), Decimal("100"), Decimal(paid), Decimal("1"), None, line_level, (), None)
    return EraClaim(
        "PW900099", status, Decimal("100"), Decimal(paid), None, None, claim_level, (line,), (), None, None, None
    )


@pytest.mark.parametrize(
    ("claim", "denied"),
    [
        (_claim("4", "0", (EraAdjustment("CO", "197", Decimal("100")),)), True),
        (_claim("4", "0"), True),
        (_claim("1", "0", line_level=(EraAdjustment("CO", "50", Decimal("100")),)), True),
        (
            _claim(
                "1", "0", line_level=(EraAdjustment("CO", "45", Decimal("40")), EraAdjustment("PR", "1", Decimal("60")))
            ),
            False,
        ),
        (_claim("1", "60", line_level=(EraAdjustment("CO", "97", Decimal("40")),)), False),
        (_claim("22", "-100"), False),
    ],
    ids=["status-4", "status-4-no-cas", "paid-0-co-50", "paid-0-deductible", "partly-paid", "reversal"],
)
def test_is_denied(claim: EraClaim, denied: bool) -> None:
    assert claim.is_denied is denied


# --- malformed files: each names the segment ----------------------------------------

ISA = "ISA*00*          *00*          *ZZ*NWMUTUAL       *ZZ*PORTALWORKER   *261102*0930*^*00501*000000201*0*T*:"
GOOD = [
    ISA,  # 1
    "GS*HP*NWMUTUAL*PORTALWORKER*20261102*0930*201*X*005010X221A1",  # 2
    "ST*835*0001",  # 3
    "BPR*I*100.00*C*ACH*CCP*01*011000015*DA*1234567890*1999999999**01*021000021*DA*987654321*20261104",
    "TRN*1*EFT1*1999999999",  # 5
    "DTM*405*20261102",  # 6
    "N1*PR*NORTHWIND MUTUAL",  # 7
    "N1*PE*MAPLE STREET FAMILY MEDICINE*XX*1548726300",  # 8
    "LX*1",  # 9
    "CLP*PW900001*1*120.00*100.00*20.00*12*NWM1*11*1",  # 10
    "NM1*QC*1*QUILL*AVERY****MI*N123456789",  # 11
    "DTM*232*20261012",  # 12
    "SVC*HC:99213*120.00*100.00**1",  # 13
    "DTM*472*20261012",  # 14
    "CAS*PR*2*20.00",  # 15
    "SE*14*0001",  # 16
    "GE*1*201",  # 17
    "IEA*1*000000201",  # 18
]
PHI = ("QUILL", "AVERY", "N123456789")


def x12(segments: list[str], fix_counts: bool = True) -> str:
    """Segments joined with '~' and a newline; SE01 recounted unless told not to."""
    segments = list(segments)
    if fix_counts:
        start = None
        for i, segment in enumerate(segments):
            if segment.startswith("ST*"):
                start = i
            elif segment.startswith("SE*") and start is not None:
                segments[i] = "*".join(["SE", str(i - start + 1), *segment.split("*")[2:]])
    return "".join(s + "~\n" for s in segments)


def edit(**changes: str | None) -> str:
    """GOOD with segment n replaced (s10="...") or removed (s10=None); numbers are GOOD's."""
    segments = []
    for number, segment in enumerate(GOOD, start=1):
        new = changes.get(f"s{number}", segment)
        if new is not None:
            segments.append(new)
    return x12(segments)


def cut_after(number: int) -> str:
    return x12(GOOD[:number])


MALFORMED: list[tuple[str, Callable[[], str], int | None, str | None, str]] = [
    ("missing ISA", lambda: edit(s1=None), 1, "GS", "starts with neither ISA nor ST"),
    ("missing GS", lambda: edit(s2=None), 2, "ST", "expected GS after ISA"),
    ("missing ST", lambda: edit(s3=None), 3, "BPR", "expected ST after GS"),
    ("missing BPR", lambda: edit(s4=None), 4, "TRN", "expected BPR after ST"),
    ("missing TRN", lambda: edit(s5=None), 5, "DTM", "expected TRN after BPR"),
    ("not an 835", lambda: edit(s3="ST*277*0001"), 3, "ST", "ST01 '277' is not 835"),
    (
        "SE count",
        lambda: x12([*GOOD[:15], "SE*15*0001", *GOOD[16:]], fix_counts=False),
        16,
        "SE",
        "SE01 '15' does not match the 14 segments from ST at segment 3",
    ),
    ("SE control number", lambda: edit(s16="SE*14*0002"), 16, "SE", "SE02 '0002' does not match ST02 '0001'"),
    (
        "SE count not a number",
        lambda: x12([*GOOD[:15], "SE*²*0001", *GOOD[16:]], fix_counts=False),
        16,
        "SE",
        "SE01 '²' does not match",
    ),
    ("GE count", lambda: edit(s17="GE*2*201"), 17, "GE", "GE01 '2' does not match the 1 transactions"),
    ("GE control number", lambda: edit(s17="GE*1*202"), 17, "GE", "GE02 '202' does not match GS06 at segment 2"),
    ("IEA control number", lambda: edit(s18="IEA*1*000000999"), 18, "IEA", "IEA02 '000000999' does not match ISA13"),
    (
        "CLP without CLP01",
        lambda: edit(s10="CLP**1*120.00*100.00*20.00*12*NWM1*11*1"),
        10,
        "CLP",
        "CLP01 (patient control number) is missing",
    ),
    (
        "CLP03 not an amount",
        lambda: edit(s10="CLP*PW900001*1*12x.00*100.00*20.00*12*NWM1*11*1"),
        10,
        "CLP",
        "CLP03 '12x.00' is not an amount",
    ),
    ("CLP04 missing", lambda: edit(s10="CLP*PW900001*1*120.00"), 10, "CLP", "CLP04 (payment amount) is missing"),
    ("BPR02 not an amount", lambda: edit(s4="BPR*I*1,000.00*C*ACH"), 4, "BPR", "BPR02 '1,000.00' is not an amount"),
    (
        "SVC03 not an amount",
        lambda: edit(s13="SVC*HC:99213*120.00*1OO.00**1"),
        13,
        "SVC",
        "SVC03 '1OO.00' is not an amount",
    ),
    (
        "SVC01 without qualifier",
        lambda: edit(s13="SVC*99213*120.00*100.00**1"),
        13,
        "SVC",
        "SVC01 '99213' is not qualifier:procedure",
    ),
    ("CAS amount", lambda: edit(s15="CAS*PR*2*twenty"), 15, "CAS", "CAS03 'twenty' is not an amount"),
    (
        "DTM impossible date",
        lambda: edit(s14="DTM*472*20261312"),
        14,
        "DTM",
        "DTM02 '20261312' is not a date (CCYYMMDD)",
    ),
    ("DTM short date", lambda: edit(s12="DTM*232*2026101"), 12, "DTM", "DTM02 '2026101' is not a date (CCYYMMDD)"),
    ("DTM without date", lambda: edit(s6="DTM*405"), 6, "DTM", "DTM02 (date) is missing"),
    (
        "BPR16 not CCYYMMDD",
        lambda: edit(s4=GOOD[3].replace("20261104", "2026-11-04")),
        4,
        "BPR",
        "BPR16 '2026-11-04' is not a date",
    ),
    ("CAS without reason", lambda: edit(s15="CAS*PR**20.00"), 15, "CAS", "CAS02 (reason code) is missing"),
    (
        "CAS second triplet without reason",
        lambda: edit(s15="CAS*PR*2*10.00***10.00"),
        15,
        "CAS",
        "CAS05 (reason code) is missing for CAS06",
    ),
    ("CAS reason without amount", lambda: edit(s15="CAS*PR*2"), 15, "CAS", "CAS03 (amount for reason 2) is missing"),
    (
        "CAS unknown group",
        lambda: edit(s15="CAS*XX*2*20.00"),
        15,
        "CAS",
        "CAS01 group code 'XX' is not one of CO, PR, OA, PI, CR",
    ),
    ("CAS without group", lambda: edit(s15="CAS**2*20.00"), 15, "CAS", "CAS01 (group code) is missing"),
    ("CAS seven triplets", lambda: edit(s15="CAS*PR" + "*2*1.00*" * 7), 15, "CAS", "more than 6 adjustments"),
    ("CAS before CLP", lambda: edit(s9="CAS*CO*45*1.00"), 9, "CAS", "CAS before any CLP"),
    ("unterminated file", lambda: edit().rstrip("~\n"), 18, "IEA", "is not terminated by '~'"),
    ("cut inside a segment", lambda: cut_after(12) + "SVC*HC:992", 13, "SVC", "is not terminated by '~'"),
    ("cut inside the transaction", lambda: cut_after(13), 13, "SVC", "transaction '0001' (ST at segment 3) has no SE"),
    ("transaction without SE", lambda: edit(s16=None), 16, "GE", "transaction '0001' (ST at segment 3) has no SE"),
    ("no GE", lambda: cut_after(16), 16, "SE", "ends without GE"),
    ("no IEA", lambda: cut_after(17), 17, "GE", "ends without IEA"),
    ("after IEA", lambda: edit() + "ST*835*0002~", 19, "ST", "expected ISA after IEA"),
    ("ISA too short", lambda: edit(s1="ISA*00*          *00"), 1, "ISA", "ISA03 is not 2 characters wide"),
    ("ISA nearly empty", lambda: "ISA*00~", 1, "ISA", "ISA has fewer than 16 elements"),
    (
        "ISA unpadded",
        lambda: edit(s1=ISA.replace("NWMUTUAL       ", "NWMUTUAL")),
        1,
        "ISA",
        "ISA06 is not 15 characters",
    ),
    ("empty segment", lambda: edit(s6=""), 6, None, "is empty"),
    ("bare: no BPR", lambda: x12(GOOD[2:3] + GOOD[4:16]), 2, "TRN", "expected BPR after ST"),
    ("bare: cut short", lambda: x12(GOOD[2:12]), 10, "DTM", "transaction '0001' (ST at segment 1) has no SE"),
    ("empty file", lambda: "\n", None, None, "no segments"),
]


@pytest.mark.parametrize(
    ("make", "number", "segment_id", "problem"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_malformed_file_names_the_segment(
    make: Callable[[], str], number: int | None, segment_id: str | None, problem: str
) -> None:
    with pytest.raises(EraParseError) as caught:
        parse_835(make())

    error = caught.value
    assert (error.segment_number, error.segment_id) == (number, segment_id)
    assert problem in str(error)
    if number is not None:
        assert str(error).startswith(f"segment {number}" + (f" ({segment_id}):" if segment_id else ":"))
    assert not any(secret in str(error).upper() for secret in PHI)


def test_message_reads_like_the_guide() -> None:
    with pytest.raises(EraParseError) as caught:
        parse_835(edit(s10="CLP*PW900001*1*12x.00*100.00*20.00*12*NWM1*11*1"))

    assert str(caught.value) == "segment 10 (CLP): CLP03 '12x.00' is not an amount"


@pytest.mark.parametrize(
    "text",
    [
        edit(s11="NM1*QC*1*QUILL~AVERY****MI*N123456789"),  # a stray terminator inside the name
        edit(s10="CLP*PW900001*1*QUILL*100.00"),  # the name where an amount belongs
        edit(s10="CLP*PW900001*1*120.00*N123456789"),  # the member id where an amount belongs
        edit(s15="CAS*AVERY*2*20.00"),
        edit(s12="DTM*232*QUILL AVERY"),
        edit(s16="SE*14*QUILL"),
    ],
    ids=["split-name", "name-as-amount", "member-id-as-amount", "name-as-group", "name-as-date", "name-as-control"],
)
def test_patient_name_and_member_id_never_in_error(text: str) -> None:
    with pytest.raises(EraParseError) as caught:
        parse_835(text)

    assert caught.value.segment_number is not None
    assert not any(secret in str(caught.value).upper() for secret in PHI)


def test_a_bad_second_transaction_rejects_the_whole_file() -> None:
    text = sample("two_transactions.835").replace("SE*17*1002~", "SE*17*1003~")

    with pytest.raises(EraParseError) as caught:
        parse_835(text)

    assert (caught.value.segment_number, caught.value.segment_id) == (39, "SE")


def test_error_survives_pickling_across_processes() -> None:
    with pytest.raises(EraParseError) as caught:
        parse_835(edit(s15="CAS*XX*2*20.00"))

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301  (its own exception, pickled a line above)
    assert (copy.segment_number, copy.segment_id, str(copy)) == (15, "CAS", str(caught.value))


# --- the fake portal's own generator ------------------------------------------------


def test_parses_what_the_fake_clearinghouse_generates() -> None:
    generator = pytest.importorskip("fake_portal.era")
    from fake_portal.data import generate

    start = date(2026, 11, 2)
    dataset = generate(seed=7, start=start)
    files = generator.remittance_files(dataset, start.replace(month=12), {"NWM", "BBH"})
    assert files

    statuses: set[str] = set()
    for file in files:
        era = only(parse_835(generator.render_835(file)))
        assert (era.payment_amount, era.trace_number) == (file.amount, file.trace)
        assert [c.claim_id for c in era.claims] == [c.claim.claim_id for c in file.claims]
        assert sum(c.paid for c in era.claims) == file.claims_total
        statuses.update(c.status_code for c in era.claims)
        for claim in era.claims:
            if claim.status_code == "4":
                assert claim.is_denied
            elif claim.paid > 0 or claim.is_reversal:
                assert not claim.is_denied
    assert {"1", "4", "22"} <= statuses
