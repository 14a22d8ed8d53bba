"""Denials by payer, category, CARC, owner and month, with the initial denial rate and the preventable
share: the monthly denial review, as a report."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from flows.denial_report import Breakdown, denial_trends
from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.tables import Column, Kind, Table
from store.claims import list_claims
from store.denials import list_denials
from store.models import Denial


def _kept(denial: Denial, chosen: ReportFilter) -> bool:
    day = denial.denial_date or denial.first_seen_at.date()
    return (
        (chosen.payer is None or denial.payer_id == chosen.payer)
        and (chosen.date_from is None or day >= chosen.date_from)
        and (chosen.date_to is None or day <= chosen.date_to)
    )


def _table(breakdown: Breakdown) -> Table:
    key = breakdown.title.removeprefix("By ").lower()
    return Table(
        f"denials-by-{key}",
        breakdown.title,
        (
            Column(key, key.capitalize()),
            Column("denials", "Denials", Kind.COUNT),
            Column("dollars", "Dollars", Kind.MONEY),
        ),
        breakdown.rows,
    )


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    denials = [d for d in list_denials(session) if _kept(d, chosen)]
    claims = list_claims(session, payer_id=chosen.payer)
    trends = denial_trends(denials, claims)
    by_month = next(b for b in trends.breakdowns if b.title == "By month")
    months = sorted(by_month.rows)
    charts = [
        Chart(
            "Denied dollars by month",
            "bar",
            [m for m, _, _ in months],
            [Series("Dollars", [float(d) for *_, d in months])],
        )
    ]
    summary = Table(
        "denials-summary",
        "Summary",
        (Column("figure", "Figure"), Column("value", "Value", Kind.PERCENT), Column("of", "Of")),
        [
            (
                "Initial denial rate",
                trends.initial_denial_rate,
                f"{trends.denied_claims} of {trends.adjudicated_claims} adjudicated claims",
            ),
            (
                "Preventable share",
                trends.preventable_share,
                f"{trends.preventable_dollars:,.2f} of {trends.total_dollars:,.2f} denied",
            ),
        ],
    )
    return Report(
        "denials",
        "Denials",
        chosen,
        [summary, *(_table(b) for b in trends.breakdowns)],
        charts,
        {
            "Initial denial rate": "adjudicated claims with at least one denial, over adjudicated claims",
            "Preventable share": "denied dollars in categories a practice can prevent, over all denied dollars",
        },
    )


SPEC = register(
    ReportSpec("denials", "Denials", "Denials and dollars by payer, category, CARC, owner and month.", compute)
)
