"""The bench's figures: one row per measurement, the ratios, the scaling curve; as a table and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WORKER, NAIVE, HTTP = "portal-worker", "naive script", "HTTP lower bound"


@dataclass(frozen=True)
class Row:
    name: str  # WORKER, NAIVE or HTTP
    runners: int | None  # None: not a worker
    db: str  # SQLite, PostgreSQL, or "-"
    claims: int  # checked in this measurement (the naive script: its sample)
    seconds: float
    pages: int  # requests the fake portal served during the measurement
    peak_pss_mb: float  # the headline memory figure (bench.measure)
    peak_rss_mb: float  # for comparison: counts Chromium's shared pages once per process
    cpu_s: float
    pace_s: float | None = None  # the worker's [portals.*] pace_seconds; None: not a worker
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def claims_per_min(self) -> float:
        return self.claims / self.seconds * 60 if self.seconds > 0 else 0.0

    @property
    def pages_per_claim(self) -> float:
        return self.pages / self.claims if self.claims else 0.0

    @property
    def cpu_s_per_claim(self) -> float:
        return self.cpu_s / self.claims if self.claims else 0.0

    @property
    def label(self) -> str:
        """ "4 runner(s), SQLite" (with ", pace 0.5 s" when paced), or the baseline's name."""
        if self.runners is None:
            return self.name
        pace = f", pace {self.pace_s:g} s" if self.pace_s else ""
        return f"{self.runners} runner(s), {self.db}{pace}"

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "claims_per_min": round(self.claims_per_min, 1),
            "pages_per_claim": round(self.pages_per_claim, 2),
            "cpu_s_per_claim": round(self.cpu_s_per_claim, 4),
        }


COLUMNS = (
    ("measurement", 17),
    ("runners", 7),
    ("db", 10),
    ("pace s", 6),
    ("claims", 6),
    ("seconds", 8),
    ("claims/min", 10),
    ("pages/claim", 11),
    ("peak PSS MB", 11),
    ("peak RSS MB", 11),
    ("CPU s/claim", 11),
)
LEFT = 3  # the first columns are text


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.name,
        "-" if row.runners is None else str(row.runners),
        row.db,
        "-" if row.pace_s is None else f"{row.pace_s:g}",
        str(row.claims),
        f"{row.seconds:.1f}",
        f"{row.claims_per_min:.1f}",
        f"{row.pages_per_claim:.2f}",
        f"{row.peak_pss_mb:.0f}",
        f"{row.peak_rss_mb:.0f}",
        f"{row.cpu_s_per_claim:.3f}",
    )


def table(rows: list[Row]) -> str:
    header = "  ".join(name.ljust(width) if i < LEFT else name.rjust(width) for i, (name, width) in enumerate(COLUMNS))
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            "  ".join(
                cell.ljust(width) if i < LEFT else cell.rjust(width)
                for i, (cell, (_, width)) in enumerate(zip(_cells(row), COLUMNS, strict=True))
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Ratio:
    runners: int
    db: str
    vs_naive: float | None  # worker claims/min / naive claims/min  (1/2)
    vs_http: float | None  # worker claims/min / HTTP lower bound claims/min  (1/3)


def ratios(worker_rows: list[Row], naive: Row | None, http: Row | None) -> list[Ratio]:
    def over(row: Row, base: Row | None) -> float | None:
        return round(row.claims_per_min / base.claims_per_min, 2) if base and base.claims_per_min else None

    return [Ratio(row.runners or 0, row.db, over(row, naive), over(row, http)) for row in worker_rows]


def curve_lines(curve: list[Row], accounts: int) -> str:
    lines = [
        f"  {row.runners:>2} runner(s): {row.claims_per_min:7.1f} claims/min, peak PSS {row.peak_pss_mb:5.0f} MB "
        f"(RSS {row.peak_rss_mb:5.0f} MB)"
        + (f"   (only {accounts} can work at once: one session per account)" if (row.runners or 0) > accounts else "")
        for row in curve
    ]
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
