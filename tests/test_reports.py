"""Every report on a crafted claim set (tests/report_data.py) in a real store, each figure worked out by hand
in the comments beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from flows.reports import Report, ReportFilter, load_reports
from flows.tables import Cell, Table
from store.db import create_schema, make_engine, session_scope
from tests import report_data
from tests.pg_support import fresh_schema, postgres_unreachable, require_postgres
from tests.report_data import TODAY


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


EVERYTHING = ReportFilter()


def run(engine: Engine, name: str, chosen: ReportFilter = EVERYTHING) -> Report:
    with session_scope(engine) as session:
        return load_reports()[name].compute(session, chosen, TODAY)


def table(report: Report, name: str) -> list[tuple[Cell, ...]]:
    found: Table = next(t for t in report.tables if t.name == name)
    return [tuple(row) for row in found.rows]


def rounded(rows: list[tuple[Cell, ...]]) -> list[tuple[Cell, ...]]:
    """Shares to four places, as the CSV writes them."""
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in row) for row in rows]


def D(text: str) -> Decimal:
    return Decimal(text)


def test_every_report_is_registered_in_the_order_it_is_listed() -> None:
    assert list(load_reports()) == ["ar-aging", "days-to-pay", "denials", "first-pass", "appeals", "exposure"]


def test_aging_puts_each_boundary_day_in_its_bucket(engine: Engine) -> None:
    report_data.aging_claims(engine)
    report = run(engine, "ar-aging")
    # NWM: 30 days -> 0-30; 31 and 60 -> 31-60; 61 -> 61-90. UHP: 90 -> 61-90; 91 and 120 -> 91-120; 121 -> 120+.
    # The paid claim P1 is not open.
    assert table(report, "ar-aging") == [
        ("NWM", 4, D("100.00"), D("500.00"), D("400.00"), D("0.00"), D("0.00"), D("1000.00")),
        ("UHP", 4, D("0.00"), D("0.00"), D("500.00"), D("1300.00"), D("800.00"), D("2600.00")),
        ("All payers", 8, D("100.00"), D("500.00"), D("900.00"), D("1300.00"), D("800.00"), D("3600.00")),
    ]
    # billed in the 90 days 2026-09-03..2026-12-01: A30 100 + A31 200 + A60 300 + A61 400 + P1 800 = 1800
    # (A90, submitted 2026-09-02, is day 91 back); 1800 / 90 = 20 a day; 3600 open / 20 = 180 days
    assert table(report, "ar-days") == [(TODAY, D("3600.00"), D("1800.00"), 180.0)]
    assert report.notes == [] and "Days in A/R" in report.definitions


def test_aging_as_of_the_range_end_and_for_one_payer(engine: Engine) -> None:
    report_data.aging_claims(engine)
    # as of 2026-11-01 every age is 30 days less: A30, A31, A60 are 0-30; A61 31-60
    report = run(engine, "ar-aging", ReportFilter(date_to=date(2026, 11, 1), payer="NWM"))
    assert table(report, "ar-aging") == [
        ("NWM", 4, D("600.00"), D("400.00"), D("0.00"), D("0.00"), D("0.00"), D("1000.00")),
        ("All payers", 4, D("600.00"), D("400.00"), D("0.00"), D("0.00"), D("0.00"), D("1000.00")),
    ]
    # billed by NWM 2026-08-04..2026-11-01: A30 100 + A31 200 + A60 300 + A61 400 = 1000 (P1 is later): 1000 / 90 a day
    assert table(report, "ar-days") == [(date(2026, 11, 1), D("1000.00"), D("1000.00"), 90.0)]
    # a range start leaves out the older claims: submitted 2026-10-01 (A61) or later
    later = run(engine, "ar-aging", ReportFilter(date_from=date(2026, 10, 1)))
    assert [row[0:2] + row[-1:] for row in table(later, "ar-aging")] == [
        ("NWM", 4, D("1000.00")),
        ("All payers", 4, D("1000.00")),
    ]


def test_nothing_open_says_so_instead_of_zeros(engine: Engine) -> None:
    report = run(engine, "ar-aging")
    assert table(report, "ar-aging") == [] and report.charts == []
    assert table(report, "ar-days") == [(TODAY, D("0.00"), D("0.00"), None)]
    assert any("no open claims" in n for n in report.notes) and any("no daily rate" in n for n in report.notes)


def test_days_to_pay_takes_the_payment_that_stands(engine: Engine) -> None:
    report_data.payment_claims(engine)
    report = run(engine, "days-to-pay")
    # NWM: D1 10 (ERA only), D2 20 (portal), D3 40 (paid again after its reversal); D4 reversed, never repaid
    # UHP: D6 30 (ERA), D7 10 (portal status date); D5 denied
    # median of 10, 20, 40 = 20; nearest-rank 90th: ceil(2.7) = 3rd = 40. 10, 30: 20.0 and ceil(1.8) = 2nd = 30
    # all: 10 10 20 30 40: median 20, ceil(4.5) = 5th = 40
    assert table(report, "days-to-pay") == [
        ("NWM", 3, 20.0, 40.0),
        ("UHP", 2, 20.0, 30.0),
        ("All payers", 5, 20.0, 40.0),
    ]
    # the range applies to the payment date: D2 on 2026-10-21 and D3 on 2026-11-10
    later = run(engine, "days-to-pay", ReportFilter(date_from=date(2026, 10, 15)))
    assert table(later, "days-to-pay") == [("NWM", 2, 30.0, 40.0), ("All payers", 2, 30.0, 40.0)]
    assert table(run(engine, "days-to-pay", ReportFilter(payer="UHP")), "days-to-pay")[0] == ("UHP", 2, 20.0, 30.0)
    nothing = run(engine, "days-to-pay", ReportFilter(date_from=date(2027, 1, 1)))
    assert table(nothing, "days-to-pay") == [] and nothing.notes == ["no payments recorded from 2027-01-01"]


def test_denial_rates_initial_and_final_by_payer_and_month(engine: Engine) -> None:
    report_data.denial_claims(engine)
    report = run(engine, "denials")
    # adjudicated: C1-C7, C9, C10 (C8 is pending) = 9; initially denied C3 C4 C5 C9 C10 = 5;
    # still denied: C3 (open), C5 and C9 (written off), C10 (open) = 4 (C4 was overturned)
    assert rounded(table(report, "denials-by-payer")) == [
        ("NWM", 4, 2, 0.5, 1, 0.25),  # C1 C2 C3 C4
        ("UHP", 5, 3, 0.6, 3, 0.6),  # C5 C6 C7 C9 C10
        ("All payers", 9, 5, 0.5556, 4, 0.4444),
    ]
    # first adjudication: C3's denial 2026-10-09 (before its ERA of 10-10); C1 10-10; C2 10-12; the rest November
    assert rounded(table(report, "denials-by-month")) == [
        ("2026-10", 3, 1, 0.3333, 1, 0.3333),
        ("2026-11", 6, 4, 0.6667, 3, 0.5),
    ]
    summary = {row[0]: row for row in table(report, "denials-summary")}
    assert summary["Initial denial rate"][2] == "5 of 9 adjudicated claims"
    # preventable: authorization 300 + documentation 100 + 50 + timely filing 20 = 470 of 670 (medical necessity is not)
    assert summary["Preventable share"][1] == pytest.approx(470 / 670)
    assert summary["Preventable share"][2] == "470.00 of 670.00 denied"


def test_the_carc_pareto_and_the_category_trend(engine: Engine) -> None:
    report_data.denial_claims(engine)
    report = run(engine, "denials")
    # 670 denied: 300 (44.8%), 200 (29.9%, 74.6% so far), 150 (22.4%, 97.0%), 20: past 80% before it
    assert rounded(table(report, "denials-carc-pareto")) == [
        ("CO-197", 1, D("300.00"), 0.4478, 0.4478, "yes"),
        ("CO-50", 1, D("200.00"), 0.2985, 0.7463, "yes"),
        ("CO-16", 2, D("150.00"), 0.2239, 0.9701, "yes"),
        ("CO-29", 1, D("20.00"), 0.0299, 1.0, ""),
    ]
    assert table(report, "denials-category-trend") == [
        ("2026-10", "authorization", 1, D("300.00")),
        ("2026-11", "documentation", 2, D("150.00")),
        ("2026-11", "medical_necessity", 1, D("200.00")),
        ("2026-11", "timely_filing", 1, D("20.00")),
    ]
    assert {c.kind for c in report.charts} == {"line", "pareto", "stacked_bar"}


def test_denials_filtered_by_date_and_payer(engine: Engine) -> None:
    report_data.denial_claims(engine)
    november = run(engine, "denials", ReportFilter(date_from=date(2026, 11, 1)))
    assert rounded(table(november, "denials-by-month")) == [("2026-11", 6, 4, 0.6667, 3, 0.5)]
    # C4 100 + C5 200 + C9 50 + C10 20 = 370 denied; preventable 100 + 50 + 20 = 170
    assert {r[0]: r[2] for r in table(november, "denials-summary")}["Preventable share"] == "170.00 of 370.00 denied"
    nwm = run(engine, "denials", ReportFilter(payer="NWM"))
    assert [r[0] for r in table(nwm, "denials-by-payer")] == ["NWM", "All payers"]
    assert [r[0] for r in table(nwm, "denials-carc-pareto")] == ["CO-197", "CO-16"]


def test_no_adjudicated_claims_is_a_note_not_a_zero_rate(engine: Engine) -> None:
    report = run(engine, "denials")
    summary = {row[0]: row for row in table(report, "denials-summary")}
    assert summary["Initial denial rate"][1:] == (None, "0 of 0 adjudicated claims")
    assert summary["Preventable share"][1] is None
    assert "no adjudicated claims over all dates: no denial rate to show" in report.notes


def test_first_pass_counts_claims_paid_without_a_denial_resubmission_or_reversal(engine: Engine) -> None:
    report_data.denial_claims(engine)
    # first pass: C1 (paid by ERA only) and C2; not C6 (a second payer claim number) nor C7 (reversed)
    assert rounded(table(run(engine, "first-pass"), "first-pass")) == [
        ("NWM", 4, 2, 0.5),
        ("UHP", 5, 0, 0.0),
        ("All payers", 9, 2, 0.2222),
    ]
    # October: C1, C2, C3
    october = run(engine, "first-pass", ReportFilter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)))
    assert rounded(table(october, "first-pass")) == [("NWM", 3, 2, 0.6667), ("All payers", 3, 2, 0.6667)]


def test_appeals_overturned_upheld_and_written_off(engine: Engine) -> None:
    report_data.denial_claims(engine)
    report = run(engine, "appeals")
    # C4 appealed, then paid by the payer: overturned, 100 recovered. C5 appealed, then written off: upheld.
    assert table(report, "appeals-by-payer") == [
        ("NWM", 1, 1, 0, 0, 1.0, D("100.00")),
        ("UHP", 1, 0, 1, 0, 0.0, D("0.00")),
        ("All", 2, 1, 1, 0, 0.5, D("100.00")),
    ]
    assert table(report, "appeals-by-category") == [
        ("authorization", 0, 0, 0, 0, None, D("0.00")),  # no decision: empty, not 0%
        ("documentation", 1, 1, 0, 0, 1.0, D("100.00")),
        ("medical_necessity", 1, 0, 1, 0, 0.0, D("0.00")),
        ("timely_filing", 0, 0, 0, 0, None, D("0.00")),
        ("All", 2, 1, 1, 0, 0.5, D("100.00")),
    ]
    # NWM: C3 300 + C4 100 denied, none written off. UHP: C5 200 + C9 50 + C10 20 = 270; C5 and C9 (250) written off
    assert rounded(table(report, "write-offs")) == [
        ("NWM", 2, D("400.00"), 0, 0, D("0.00"), 0.0),
        ("UHP", 3, D("270.00"), 2, 1, D("250.00"), 0.9259),
        ("All", 5, D("670.00"), 2, 1, D("250.00"), 0.3731),
    ]
    assert report.notes == []


def test_appeals_without_decisions_say_so(engine: Engine) -> None:
    with session_scope(engine) as session:
        report_data.claim(session, "X1", "NWM", date(2026, 10, 1), "100.00", "denied")
        report_data.denial(session, "X1", "NWM", "197", "100.00", date(2026, 10, 5), "authorization", "billing")
    report = run(engine, "appeals")
    assert table(report, "appeals-by-payer")[0] == ("NWM", 0, 0, 0, 0, None, D("0.00"))
    assert table(report, "write-offs")[0] == ("NWM", 1, D("100.00"), 0, 0, D("0.00"), None)
    assert [n for n in report.notes if "no decisions recorded yet" in n] == report.notes and len(report.notes) == 2


def test_exposure_outside_an_authorization_and_under_an_inactive_enrollment(engine: Engine) -> None:
    report_data.exposure_claims(engine)
    report = run(engine, "exposure")
    # E2: a code not on AU1 (billed under "au-1", the same number); E3: after AU1 ended, but paid.
    # E4: provider terminated; E5: served before the enrollment's effective date. E1 and E6 are fine.
    assert table(report, "exposure") == [
        ("NWM", "enrollment", 2, D("290.00"), D("290.00")),
        ("UHP", "authorization", 2, D("270.00"), D("150.00")),
    ]
    assert [(r[0], r[2], r[3]) for r in table(report, "exposure-claims")] == [
        ("E2", "authorization", date(2026, 10, 20)),
        ("E3", "authorization", date(2026, 11, 5)),
        ("E4", "enrollment", date(2026, 10, 10)),
        ("E5", "enrollment", date(2026, 9, 20)),
    ]
    # the range applies to the date of service
    later = run(engine, "exposure", ReportFilter(date_from=date(2026, 10, 15)))
    assert [r[0] for r in table(later, "exposure-claims")] == ["E2", "E3"]
    assert run(engine, "exposure", ReportFilter(payer="LSM")).notes == ["no exposed claims over all dates"]


CRAFTED: dict[str, Callable[[Engine], None]] = {
    "ar-aging": report_data.aging_claims,
    "days-to-pay": report_data.payment_claims,
    "denials": report_data.denial_claims,
    "first-pass": report_data.denial_claims,
    "appeals": report_data.denial_claims,
    "exposure": report_data.exposure_claims,
}


def test_postgresql_gives_the_same_figures_as_sqlite(engine: Engine) -> None:
    require_postgres(postgres_unreachable())
    for name, fill in CRAFTED.items():
        with fresh_schema() as url:
            pg = make_engine(url)
            try:
                create_schema(pg)
                fill(pg)
                on_postgres = run(pg, name)
            finally:
                pg.dispose()
        lite = make_engine(f"sqlite:///{Path(str(engine.url.database)).parent / f'{name}.db'}")
        create_schema(lite)
        fill(lite)
        on_sqlite = run(lite, name)
        lite.dispose()
        assert on_postgres.tables == on_sqlite.tables, name
