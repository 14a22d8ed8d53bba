"""First-pass resolution: the share of claims the payer paid on their first submission."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session

from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.reports.adjudication import Adjudicated, adjudicated_claims
from flows.reports.figures import range_words, share
from flows.tables import Cell, Column, Kind, Table


def _figures(claims: list[Adjudicated]) -> tuple[int, int, float | None]:
    passed = sum(c.first_pass for c in claims)
    return len(claims), passed, share(passed, len(claims))


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    by_payer: dict[str, list[Adjudicated]] = defaultdict(list)
    for claim in adjudicated_claims(session, chosen, today):
        by_payer[claim.facts.payer_id].append(claim)
    payers = sorted(by_payer)
    figures = {p: _figures(by_payer[p]) for p in payers}
    rows: list[tuple[Cell, ...]] = [(p, *figures[p]) for p in payers]
    if rows:
        rows.append(("All payers", *_figures([c for p in payers for c in by_payer[p]])))
    table = Table(
        "first-pass",
        "First-pass resolution by payer",
        (
            Column("payer", "Payer"),
            Column("adjudicated", "Adjudicated claims", Kind.COUNT),
            Column("paid_first_pass", "Paid first pass", Kind.COUNT),
            Column("first_pass_rate", "First-pass rate", Kind.PERCENT),
        ),
        rows,
    )
    chart = Chart(
        "First-pass rate by payer",
        "bar",
        payers,
        [Series("First-pass rate", [figures[p][2] for p in payers])],
        Kind.PERCENT,
    )
    return Report(
        "first-pass",
        "First-pass resolution",
        chosen,
        [table],
        [chart] if payers else [],
        {
            "Adjudicated claims": "claims a payer decided (paid, partially paid, denied or finalized, on a portal "
            "or an ERA), first adjudicated in the range",
            "Paid first pass": "of those, claims now paid with no denial ever recorded, never rejected, never "
            "marked resubmitted, never reversed on an ERA, and only one payer claim number (a resubmission "
            "gets a new one)",
            "First-pass rate": "paid first pass over adjudicated claims",
        },
        [] if payers else [f"no adjudicated claims {range_words(chosen)}"],
    )


SPEC = register(
    ReportSpec(
        "first-pass", "First-pass resolution", "Claims paid without a denial or resubmission, by payer.", compute
    )
)
