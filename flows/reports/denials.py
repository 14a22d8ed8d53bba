"""The monthly denial review: denial rate by payer and month (initial and final), the CARC Pareto, the
root-cause categories by month and the preventable share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.reports.adjudication import Adjudicated, adjudicated_claims
from flows.reports.figures import day_of, money, month_of, range_words, share
from flows.tables import Cell, Column, Kind, Table
from flows.worklist import outlook
from store.reports import DenialLine, denial_lines, denied_dollars_by_code

PARETO_CUT = 0.8  # the "vital few": the codes that together make up this share of denied dollars

RATE_COLUMNS = (
    Column("adjudicated", "Adjudicated claims", Kind.COUNT),
    Column("initially_denied", "Initially denied", Kind.COUNT),
    Column("initial_rate", "Initial denial rate", Kind.PERCENT),
    Column("still_denied", "Still denied", Kind.COUNT),
    Column("final_rate", "Final denial rate", Kind.PERCENT),
)


def _rates(claims: Sequence[Adjudicated]) -> tuple[int, int, float | None, int, float | None]:
    initial = sum(c.initially_denied for c in claims)
    final = sum(c.finally_denied for c in claims)
    return len(claims), initial, share(initial, len(claims)), final, share(final, len(claims))


def _rate_rows(groups: dict[str, list[Adjudicated]], total: str | None) -> list[tuple[Cell, ...]]:
    rows: list[tuple[Cell, ...]] = [(key, *_rates(groups[key])) for key in sorted(groups)]
    if total and rows:
        rows.append((total, *_rates([c for key in groups for c in groups[key]])))
    return rows


def _denial_day(line: DenialLine) -> date:
    return line.denied_on or day_of(line.first_seen_at)


def _pareto(session: Session, chosen: ReportFilter) -> tuple[Table, Chart | None]:
    codes = denied_dollars_by_code(session, chosen.date_from, chosen.date_to, chosen.payer)
    total = sum((c.dollars for c in codes), Decimal(0))
    rows, running = [], Decimal(0)
    for c in codes:
        before = share(running, total) or 0.0
        running += c.dollars
        rows.append(
            (
                f"{c.group_code}-{c.carc}",
                c.denials,
                money(c.dollars),
                share(c.dollars, total),
                share(running, total),
                "yes" if before < PARETO_CUT else "",
            )
        )
    table = Table(
        "denials-carc-pareto",
        "CARC Pareto",
        (
            Column("code", "Group-CARC"),
            Column("denials", "Denials", Kind.COUNT),
            Column("dollars", "Denied dollars", Kind.MONEY),
            Column("share", "Share of dollars", Kind.PERCENT),
            Column("cumulative_share", "Cumulative share", Kind.PERCENT),
            Column("vital_few", f"Within the first {PARETO_CUT:.0%}"),
        ),
        rows,
    )
    if not rows:
        return table, None
    chart = Chart(
        "Denied dollars by CARC",
        "pareto",
        [str(r[0]) for r in rows],
        [Series("Denied dollars", [float(r[2]) for r in rows]), Series("Cumulative share", [r[4] for r in rows])],
    )
    return table, chart


def _category_trend(lines: Iterable[DenialLine]) -> tuple[Table, Chart | None]:
    dollars: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        key = (month_of(_denial_day(line)), line.category)
        dollars[key] += line.amount
        counts[key] += 1
    rows = [(m, c, counts[(m, c)], money(dollars[(m, c)])) for m, c in sorted(dollars)]
    table = Table(
        "denials-category-trend",
        "Root-cause categories by month",
        (
            Column("month", "Month"),
            Column("category", "Category"),
            Column("denials", "Denials", Kind.COUNT),
            Column("dollars", "Denied dollars", Kind.MONEY),
        ),
        rows,
    )
    months = sorted({m for m, _ in dollars})
    categories = sorted({c for _, c in dollars})
    chart = Chart(
        "Denied dollars by category and month",
        "stacked_bar",
        months,
        [Series(c, [float(dollars[(m, c)]) if (m, c) in dollars else None for m in months]) for c in categories],
    )
    return table, chart if rows else None


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    claims = list(adjudicated_claims(session, chosen, today))
    by_payer: dict[str, list[Adjudicated]] = defaultdict(list)
    by_month: dict[str, list[Adjudicated]] = defaultdict(list)
    for claim in claims:
        by_payer[claim.facts.payer_id].append(claim)
        by_month[month_of(claim.first_on)].append(claim)
    lines = denial_lines(session, chosen.date_from, chosen.date_to, chosen.payer)
    denied = sum((d.amount for d in lines), Decimal(0))
    preventable = sum((d.amount for d in lines if outlook(d.category).preventable), Decimal(0))
    adjudicated, initial, initial_rate, final, final_rate = _rates(claims)
    summary = Table(
        "denials-summary",
        "Summary",
        (Column("figure", "Figure"), Column("value", "Value", Kind.PERCENT), Column("of", "Of")),
        [
            ("Initial denial rate", initial_rate, f"{initial} of {adjudicated} adjudicated claims"),
            ("Final denial rate", final_rate, f"{final} of {adjudicated} adjudicated claims"),
            (
                "Preventable share",
                share(preventable, denied),
                f"{money(preventable):,.2f} of {money(denied):,.2f} denied",
            ),
        ],
    )
    pareto, pareto_chart = _pareto(session, chosen)
    trend, trend_chart = _category_trend(lines)
    months = sorted(by_month)
    monthly = {m: _rates(by_month[m]) for m in months}
    charts = (
        [
            Chart(
                "Denial rate by month",
                "line",
                months,
                [
                    Series("Initial", [monthly[m][2] for m in months]),
                    Series("Final", [monthly[m][4] for m in months]),
                ],
                Kind.PERCENT,
            )
        ]
        if months
        else []
    )
    charts += [c for c in (pareto_chart, trend_chart) if c is not None]
    notes = []
    if not claims:
        notes.append(f"no adjudicated claims {range_words(chosen)}: no denial rate to show")
    if not lines:
        notes.append(f"no denials {range_words(chosen)}")
    return Report(
        "denials",
        "Denials",
        chosen,
        [
            summary,
            Table(
                "denials-by-payer",
                "Denial rate by payer",
                (Column("payer", "Payer"), *RATE_COLUMNS),
                _rate_rows(by_payer, "All payers"),
            ),
            Table(
                "denials-by-month",
                "Denial rate by month",
                (Column("month", "Month"), *RATE_COLUMNS),
                _rate_rows(by_month, None),
            ),
            pareto,
            trend,
        ],
        charts,
        {
            "Adjudicated claims": "claims a payer decided (paid, partially paid, denied or finalized), on a portal "
            "or on an ERA; the date range applies to the day of the claim's first adjudication (its first "
            "such portal status date, ERA check/EFT date or denial date), and the month is that day's",
            "Initial denial rate": "adjudicated claims whose first adjudication carried a denial (their earliest "
            "denial is dated on or before their first adjudication), over adjudicated claims",
            "Final denial rate": "adjudicated claims with a denial that still stands (open, appealed, "
            "resubmitted or written off; not paid or overturned), over adjudicated claims",
            "CARC Pareto": "denials determined in the range (the payer's determination date, else the day the "
            f"worker first saw them) by group code and CARC, most dollars first; the codes marked make up the "
            f"first {PARETO_CUT:.0%} of denied dollars",
            "Root-cause categories": "the same denials by the category their CARC and RARCs file them under "
            "(config/reason_codes.csv), by month of determination",
            "Preventable share": "denied dollars in categories the practice can prevent (config/recoverability.csv, "
            "preventable = yes), over all denied dollars, for denials determined in the range",
        },
        notes,
    )


SPEC = register(
    ReportSpec(
        "denials",
        "Denials",
        "Denial rate by payer and month, CARC Pareto, categories by month, preventable share.",
        compute,
    )
)
