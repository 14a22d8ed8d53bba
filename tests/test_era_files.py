"""Real-world 835s the parser once refused or misread, and the balancing rules, without a store.

Fixtures in tests/data/era are synthetic: several interchanges in one file, Latin-1 names,
claims the practice has not imported (CLP06 Medicaid, modifiers, MA130), and a file that
does not add up at line, claim and payment level.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flows.deadlines import NEW_CLAIM, load_payer_rules, next_deadline
from flows.era import EraParseError, ProviderAdjustment, Remittance, decode_x12, parse_835
from flows.era_balance import balance_warnings

SAMPLES = Path(__file__).parent / "data" / "era"
BALANCED = (
    "bare_transaction.835",
    "paid_denied_partial.835",
    "reversal_correction.835",
    "two_transactions.835",
    "two_interchanges.835",
    "latin1_names.835",
    "unknown_claims_medicaid.835",
    "claim_states.835",
)


def read(name: str) -> list[Remittance]:
    return parse_835(decode_x12((SAMPLES / name).read_bytes()))


# --- class 4: valid files that were refused or crashed --------------------------------------


def test_two_interchanges_one_after_another_give_every_transaction_of_each() -> None:
    remittances = read("two_interchanges.835")
    assert [r.trace_number for r in remittances] == ["EFT4000000001", "NP4000000002", "EFT4000000003"]
    assert [c.claim_id for r in remittances for c in r.claims] == ["PWE40001", "PWE40002", "PWE40003"]


def test_the_second_interchange_is_checked_like_the_first() -> None:
    text = (SAMPLES / "two_interchanges.835").read_text().replace("IEA*1*000000402~", "IEA*1*000000499~")
    with pytest.raises(EraParseError, match=r"\(IEA\): IEA02 '000000499' does not match ISA13"):
        parse_835(text)


def test_a_latin1_name_is_read_as_latin1_and_utf8_stays_utf8() -> None:
    data = (SAMPLES / "latin1_names.835").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    [remittance] = parse_835(decode_x12(data))
    assert remittance.payer_name == "PAGADOR ESPAÑOL"
    assert remittance.claims[0].patient_name == "NÚÑEZ, JOSÉ"
    assert decode_x12("NÚÑEZ".encode()) == "NÚÑEZ"


@pytest.mark.parametrize("data", [b"I\x00S\x00A\x00", "ISA".encode("utf-16")], ids=["nul-bytes", "utf-16"])
def test_nul_bytes_or_utf16_are_not_x12_text(data: bytes) -> None:
    with pytest.raises(EraParseError, match="not a text file"):
        decode_x12(data)


def test_an_amount_too_large_to_store_is_refused_naming_its_segment() -> None:
    text = (SAMPLES / "two_interchanges.835").read_text().replace("CLP*PWE40001*1*120*", "CLP*PWE40001*1*12000000000*")
    with pytest.raises(EraParseError, match=r"\(CLP\): CLP03 is beyond what an amount can hold"):
        parse_835(text)


# --- class 5: what the ERA says is kept -----------------------------------------------------


def test_svc01_keeps_the_procedure_with_its_modifiers_as_billed() -> None:
    [remittance] = read("unknown_claims_medicaid.835")
    lines = remittance.claims[0].lines
    assert [line.billed_code for line in lines] == ["62321-LT", "62321-RT"]
    assert [(line.procedure, line.modifiers) for line in lines] == [("62321", ("LT",)), ("62321", ("RT",))]


def test_clp06_and_the_dates_of_service_are_kept_for_each_claim() -> None:
    [remittance] = read("unknown_claims_medicaid.835")
    first, second = remittance.claims
    assert (first.filing_indicator, first.service_from, first.service_to) == (
        "MC",
        date(2023, 3, 10),
        date(2023, 3, 10),
    )
    # no DTM*232/233: the lines' dates of service
    assert (second.filing_indicator, second.service_from, second.service_to) == (
        "MC",
        date(2023, 3, 10),
        date(2023, 3, 10),
    )


# --- class 6: appeal rights and Medicaid's 12 months ----------------------------------------


def test_ma130_means_a_new_claim_by_the_timely_filing_limit_not_a_year_from_the_denial() -> None:
    medicare = load_payer_rules().for_payer("MCR")
    deadline = next_deadline(medicare, "soft", date(2026, 6, 1), date(2026, 1, 15), date(2026, 1, 15), appealable=False)
    # one calendar year from the date of service; a reopening would have run to 2027-06-01
    assert deadline is not None and (deadline.action, deadline.due) == (NEW_CLAIM, date(2027, 1, 15))


def test_medicaid_timely_filing_is_twelve_calendar_months_not_365_days_across_feb_29() -> None:
    medicaid = load_payer_rules().for_claim("ZZMCD", "MC")
    assert medicaid.payer_class == "medicaid" and medicaid.assumed
    deadline = next_deadline(
        medicaid, "soft", date(2023, 4, 14), date(2023, 3, 10), date(2023, 3, 10), appealable=False
    )
    assert deadline is not None and deadline.due == date(2024, 3, 10)  # 365 days would say 2024-03-09


def test_medicaid_corrected_claim_window_is_twelve_calendar_months_across_feb_29() -> None:
    medicaid = load_payer_rules().for_claim("ZZMCD", "MC")
    deadline = next_deadline(medicaid, "soft", date(2023, 4, 14), date(2023, 3, 10), date(2023, 3, 10))
    assert deadline is not None and deadline.due == date(2024, 4, 14)  # 365 days would say 2024-04-13


@pytest.mark.parametrize(
    ("payer", "indicator", "expected"),
    [
        ("ZZMCD", "MC", "medicaid"),
        ("ZZMCR", "MB", "medicare"),
        ("ZZMCR", "MA", "medicare"),
        ("ZZHMO", "HM", "commercial"),
        ("ZZNONE", None, "commercial"),
        ("NWM", "MC", "commercial"),  # a payer the rule file names keeps its own rules
    ],
)
def test_clp06_chooses_the_payer_class_of_a_payer_the_rules_do_not_name(
    payer: str, indicator: str | None, expected: str
) -> None:
    assert load_payer_rules().for_claim(payer, indicator).payer_class == expected


# --- class 7: money that does not add up ----------------------------------------------------


@pytest.mark.parametrize("name", BALANCED)
def test_a_balanced_file_raises_no_warning(name: str) -> None:
    assert [w for r in read(name) for w in balance_warnings(r)] == []


def test_plb_amounts_are_read_with_reason_and_reference() -> None:
    [remittance] = read("out_of_balance.835")
    assert remittance.provider_adjustments == (
        ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "OVERPAY0001", Decimal("25")),
        ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", None, Decimal("-3.5")),
    )


def test_each_balancing_rule_names_the_claim_and_the_difference() -> None:
    [remittance] = read("out_of_balance.835")
    warnings = balance_warnings(remittance)
    assert [(w.level, w.claim_id, w.difference) for w in warnings] == [
        ("claim", "PWE70001", Decimal("-10")),  # CLP03 200 - CAS 50 = 150, CLP04 says 140
        ("line", "PWE70002", Decimal("-10")),  # SVC02 100 - CAS 30 = 70, SVC03 says 60
        ("claim", "PWE70002", Decimal("-10")),
        ("file", None, Decimal("1.5")),  # BPR02 180, but 200 paid - PLB (25 - 3.50) = 178.50
    ]
    assert "claim PWE70002 line 1 (97110) is out of balance by -10.00" in warnings[1].text
    assert "payment EFT7000000001 is out of balance by 1.50" in warnings[3].text
    assert "SYNTHETIC" not in " ".join(w.text for w in warnings)
