"""Appeals and write-offs: how often an appeal overturns a denial, what that recovered, and what was
written off.

A denial with a filed appeal (an appeal row: filed online, or sent by fax or mail) counts by the decision on
its highest filed level (flows/appeal_decisions.py): overturned, upheld, or pending while none came, and
recovered what that decision recorded. A denial only marked appealed by hand (`denial ID --status appealed`)
keeps the older reading: resolved since means overturned (its denied amount recovered), written off means
upheld. Write-offs count the amount staff wrote off, or the whole denied amount when none was recorded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from flows.reports import Chart, Report, ReportFilter, ReportSpec, Series, register
from flows.reports.figures import money, share
from flows.tables import Cell, Column, Kind, Table
from store.reports import DenialLine, denial_lines

NO_DECISIONS = "no decisions recorded yet"


def appealed(line: DenialLine) -> bool:
    return line.appeal_filed or line.appealed


def outcome(line: DenialLine) -> str | None:
    """overturned | upheld | None (pending, or never appealed)."""
    if line.appeal_filed:
        return line.appeal_decision
    if not line.appealed:
        return None
    return {"resolved": "overturned", "written_off": "upheld"}.get(line.status)


def overturned(line: DenialLine) -> bool:
    """The payer's decision on the last filed appeal; for an appeal marked by hand: appealed, then resolved."""
    return outcome(line) == "overturned"


def upheld(line: DenialLine) -> bool:
    """The payer's decision on the last filed appeal; for an appeal marked by hand: appealed, then written off."""
    return outcome(line) == "upheld"


def recovered(line: DenialLine) -> Decimal:
    """What an overturn recovered as recorded (the portal's, the ERA's or staff's amount), else the denied amount."""
    return line.recovered if line.appeal_filed and line.recovered is not None else line.amount


def written_off(line: DenialLine) -> Decimal:
    return line.write_off_amount if line.write_off_amount is not None else line.amount


def decided(line: DenialLine) -> bool:
    return line.status in ("resolved", "written_off")


def _overturn_rate(lines: Sequence[DenialLine]) -> float | None:
    won, lost = sum(overturned(d) for d in lines), sum(upheld(d) for d in lines)
    return share(won, won + lost)


def _dollars(lines: Sequence[DenialLine], amount: Callable[[DenialLine], Decimal] = lambda d: d.amount) -> Decimal:
    return money(sum((amount(d) for d in lines), Decimal(0)))


def _appeal_row(key: str, lines: Sequence[DenialLine]) -> tuple[Cell, ...]:
    tried = [d for d in lines if appealed(d)]
    won = [d for d in tried if overturned(d)]
    lost = sum(upheld(d) for d in tried)
    pending = len(tried) - len(won) - lost
    return key, len(tried), len(won), lost, pending, _overturn_rate(tried), _dollars(won, recovered)


def _write_off_row(key: str, lines: Sequence[DenialLine], any_decision: bool) -> tuple[Cell, ...]:
    written = [d for d in lines if d.status == "written_off"]
    gone = _dollars(written, written_off)
    rate = share(gone, _dollars(lines)) if any_decision else None
    after_appeal = sum(appealed(d) for d in written)
    return key, len(lines), _dollars(lines), len(written), after_appeal, gone, rate


def _groups(lines: Sequence[DenialLine], key: Callable[[DenialLine], str]) -> dict[str, list[DenialLine]]:
    groups: dict[str, list[DenialLine]] = defaultdict(list)
    for line in lines:
        groups[key(line)].append(line)
    return dict(sorted(groups.items()))


def _rows(
    groups: dict[str, list[DenialLine]], row: Callable[[str, Sequence[DenialLine]], tuple[Cell, ...]]
) -> list[tuple[Cell, ...]]:
    rows = [row(key, lines) for key, lines in groups.items()]
    if rows:
        rows.append(row("All", [d for lines in groups.values() for d in lines]))
    return rows


APPEAL_COLUMNS = (
    Column("appealed", "Appealed", Kind.COUNT),
    Column("overturned", "Overturned", Kind.COUNT),
    Column("upheld", "Upheld", Kind.COUNT),
    Column("pending", "Pending", Kind.COUNT),
    Column("overturn_rate", "Overturn rate", Kind.PERCENT),
    Column("recovered", "Dollars recovered", Kind.MONEY),
)


def compute(session: Session, chosen: ReportFilter, today: date) -> Report:
    lines = denial_lines(session, chosen.date_from, chosen.date_to, chosen.payer)
    any_decision = any(decided(d) or outcome(d) is not None for d in lines)
    by_payer = _groups(lines, lambda d: d.payer_id or "unknown")
    notes = []
    if not any(overturned(d) or upheld(d) for d in lines):
        notes.append(
            f"Appeals: {NO_DECISIONS} (the payer's decision on a filed appeal; an appeal marked by hand is decided "
            "when its denial is resolved or written off)"
        )
    if not any_decision:
        notes.append(f"Write-offs: {NO_DECISIONS}")
    payers = list(by_payer)
    charts = [
        Chart(
            "Overturn rate by payer",
            "bar",
            payers,
            [Series("Overturn rate", [_overturn_rate(by_payer[p]) for p in payers])],
            Kind.PERCENT,
        ),
        Chart(
            "Written-off dollars by payer",
            "bar",
            payers,
            [
                Series(
                    "Written off",
                    [
                        float(_dollars([d for d in by_payer[p] if d.status == "written_off"], written_off))
                        for p in payers
                    ],
                )
            ],
        ),
    ]
    return Report(
        "appeals",
        "Appeals and write-offs",
        chosen,
        [
            Table(
                "appeals-by-payer",
                "Appeals by payer",
                (Column("payer", "Payer"), *APPEAL_COLUMNS),
                _rows(by_payer, _appeal_row),
            ),
            Table(
                "appeals-by-category",
                "Appeals by category",
                (Column("category", "Category"), *APPEAL_COLUMNS),
                _rows(_groups(lines, lambda d: d.category), _appeal_row),
            ),
            Table(
                "write-offs",
                "Write-offs by payer",
                (
                    Column("payer", "Payer"),
                    Column("denials", "Denials", Kind.COUNT),
                    Column("denied", "Denied dollars", Kind.MONEY),
                    Column("written_off", "Written off", Kind.COUNT),
                    Column("written_off_after_appeal", "Of which after an appeal", Kind.COUNT),
                    Column("written_off_dollars", "Dollars written off", Kind.MONEY),
                    Column("write_off_rate", "Write-off rate", Kind.PERCENT),
                ),
                _rows(by_payer, lambda key, group: _write_off_row(key, group, any_decision)),
            ),
        ],
        charts if payers else [],
        {
            "Denials counted": "denials determined in the range (the payer's determination date, else the day the "
            "worker first saw them), whatever happened to them since",
            "Appealed": "denials with an appeal filed (online, or sent by fax or mail), or that staff marked "
            "appealed at least once (their history keeps it)",
            "Overturned": "the payer overturned the last filed appeal (its portal said so, an ERA paid the denied "
            "claim, or staff recorded it); for an appeal only marked by hand: the denial is now resolved (the payer "
            "paid the claim or stopped reporting the denial, or staff resolved it)",
            "Upheld": "the payer upheld the last filed appeal (the next level may still be filed); for an appeal "
            "only marked by hand: the denial is now written off",
            "Pending": "appealed, no decision yet",
            "Overturn rate": "overturned over decided appeals (overturned + upheld); pending appeals do not count",
            "Dollars recovered": "what the overturns recovered, as the portal, the ERA or staff recorded it; the "
            "denied amount for an appeal only marked by hand, or when no amount was recorded",
            "Dollars written off": "the amounts staff wrote off (the whole denied amount for write-offs recorded "
            "without one)",
            "Write-off rate": "dollars written off (after an appeal or without one) over all denied "
            "dollars; empty until any denial in the range has been decided (resolved or written off)",
        },
        notes,
    )


SPEC = register(
    ReportSpec(
        "appeals",
        "Appeals and write-offs",
        "Overturn rate by payer and category, dollars recovered, write-offs after denial.",
        compute,
    )
)
