"""A/R aging: the dollars still owed on submitted claims, by how long ago they went out, and days in A/R."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from flows.claim_states import ClaimState
from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.reports.figures import money
from flows.tables import Cell, Column, Kind, Table
from store.reports import billed_between, open_billed_by_payer

# A claim the payer has settled is out of A/R: paid (in full, or in part with the rest denied or the
# patient's) or finalized with nothing owed. Everything else still waits on the payer or on the practice.
CLOSED_STATES = (ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.FINALIZED)
BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("91-120", 91, 120), ("120+", 121, None))
REVENUE_DAYS = 90


def windows(as_of: date, earliest: date | None) -> list[tuple[date | None, date]]:
    """Each bucket's submission dates: aged `low` to `high` days on `as_of`, none before `earliest`."""
    spans: list[tuple[date | None, date]] = []
    for _, low, high in BUCKETS:
        start = None if high is None else as_of - timedelta(days=high)
        if earliest is not None:
            start = max(start, earliest) if start else earliest
        spans.append((start, as_of - timedelta(days=low)))
    return spans


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    as_of = chosen.date_to or today
    rows = open_billed_by_payer(session, windows(as_of, chosen.date_from), CLOSED_STATES, chosen.payer)
    columns = (
        Column("payer", "Payer"),
        Column("claims", "Open claims", Kind.COUNT),
        *(
            Column(f"days_{label.replace('-', '_').replace('+', '_plus')}", f"{label} days", Kind.MONEY)
            for label, *_ in BUCKETS
        ),
        Column("total", "Total open", Kind.MONEY),
    )
    table_rows: list[tuple[Cell, ...]] = [
        (r.payer_id, r.claims, *map(money, r.buckets), money(sum(r.buckets, Decimal(0)))) for r in rows
    ]
    totals = [money(sum((r.buckets[i] for r in rows), Decimal(0))) for i in range(len(BUCKETS))]
    open_total = money(sum(totals, Decimal(0)))
    if rows:
        table_rows.append(("All payers", sum(r.claims for r in rows), *totals, open_total))
    revenue_start = as_of - timedelta(days=REVENUE_DAYS - 1)
    billed = billed_between(session, revenue_start, as_of, chosen.payer)
    daily = billed / REVENUE_DAYS
    days_in_ar = float(open_total / daily) if daily else None
    notes = [] if rows else [f"no open claims submitted on or before {as_of}"]
    if days_in_ar is None:
        notes.append(f"days in A/R: nothing was billed from {revenue_start} to {as_of}, so there is no daily rate")
    summary = Table(
        "ar-days",
        "Days in A/R",
        (
            Column("as_of", "As of", Kind.DATE),
            Column("open", "Open A/R", Kind.MONEY),
            Column("billed_90_days", f"Billed in the last {REVENUE_DAYS} days", Kind.MONEY),
            Column("days_in_ar", "Days in A/R", Kind.NUMBER),
        ),
        [(as_of, open_total, money(billed), None if days_in_ar is None else round(days_in_ar, 1))],
    )
    charts = (
        [
            Chart(
                "Open dollars by age",
                "stacked_bar",
                [r.payer_id for r in rows],
                [Series(f"{label} days", [float(r.buckets[i]) for r in rows]) for i, (label, *_) in enumerate(BUCKETS)],
            )
        ]
        if rows
        else []
    )
    return Report(
        "ar-aging",
        "A/R aging",
        chosen,
        [Table("ar-aging", "Open A/R by age and payer", columns, table_rows), summary],
        charts,
        {
            "Open A/R": "billed dollars of claims not yet paid, partially paid or finalized (their state as known "
            "today), submitted on or before the as-of date: the range's end, or today",
            "Age buckets": "days from the claim's submission date to the as-of date: 0-30 includes day 30, "
            "31-60 day 60, 61-90 day 90, 91-120 day 120, 120+ is 121 days and older; with a range start, "
            "only claims submitted on or after it",
            "Days in A/R": f"open A/R over the average daily billed dollars of the {REVENUE_DAYS} days ending on "
            "the as-of date (every claim submitted then, whatever its state). The textbook formula divides net "
            "A/R by net revenue; the store knows billed charges, not contractual allowances, for most claims, "
            "so this is gross days in A/R: comparable month to month, not to a net benchmark",
        },
        notes,
    )


SPEC = register(
    ReportSpec("ar-aging", "A/R aging", "Open claim dollars by age from submission and payer; days in A/R.", compute)
)
