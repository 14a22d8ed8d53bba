"""Issue 21's targets, each with the figure one run measured and whether it is met: printed, never asserted.

- claims/min at least 10x the naive script's, and at least 0.8x the plain-HTTP lower bound's
  (the lower bound and the naive script work one session at a time: at 1 runner the comparison
  is like for like, at 4 runners it shows what the runners add);
- at most 1.2 pages per claim (over 500 claims: a smaller run spreads the logins over fewer claims);
- peak PSS at 4 runners at most 1.5x that at 1 runner;
- throughput(4) / (4 x throughput(1)) at least 0.8 while the bottleneck is the portals' latency.
  Whether it is: the worker tree's CPU seconds per wall second plus the fake portal's own (it runs
  on the same machine), against the cores this process may run on; and the whole machine's busy
  share over the run (other load on a shared machine takes the cores too); and the worker's CPU
  against the cores its runners can keep busy: a runner's work is serial (its Python waits for its
  browser's page and the other way round), so one runner keeps at most about one core busy, and a
  one-runner run at 0.98 CPU s per s on 2 cores was bound by its own CPU at 49% of the machine.
  When any of them reaches CPU_BOUND_SHARE the run was CPU-bound, and the scaling target is not
  judged (the cores, not the portals, set the pace).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from bench.report import Row

VS_NAIVE = 10.0  # at least, x the naive script's claims/min
VS_HTTP = 0.8  # at least, x the lower bound's claims/min
PAGES_PER_CLAIM = 1.2  # at most
PSS_GROWTH = 1.5  # at most: peak PSS at 4 runners / at 1 runner
SCALING = 0.8  # at least: throughput(4) / (4 x throughput(1)), while latency-bound
SCALE_FROM, SCALE_TO = 1, 4
CPU_BOUND_SHARE = 0.8  # CPU busy at or above this share of the cores: CPU-bound

MET, NOT_MET = "met", "not met"


def cores() -> int:
    """The cores this process (and so what it measures) may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Verdict:
    target: str  # "claims/min vs naive"
    of: str  # which measurement(s): "4 runner(s), SQLite"
    measured: float | None
    shown: str  # "14.2x"
    wanted: str  # ">= 10x"
    verdict: str  # MET, NOT_MET, or "not judged: why"

    def line(self) -> str:
        return f"  {self.target} ({self.of}): {self.shown} (target {self.wanted}): {self.verdict}"


def _judge(value: float | None, ok: bool) -> str:
    return "not judged: not measured" if value is None else (MET if ok else NOT_MET)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


@dataclass(frozen=True)
class Bottleneck:
    """What limited one worker measurement: the cores, or the portals' latency."""

    cores: int
    worker_cpu_per_s: float  # the worker tree's CPU seconds per wall second (spawn to exit)
    portal_cpu_per_s: float  # the fake portal server's, over the same wall seconds
    busy_share: float  # (worker + portal) / cores
    runners_share: float  # worker / min(runners, cores): how busy the cores its runners can use were
    machine_busy_share: float | None  # the whole machine's, anyone's load included
    bound: str  # "CPU" or "portal latency"

    def why(self) -> str:
        machine = "" if self.machine_busy_share is None else f"; the machine {self.machine_busy_share:.0%} busy"
        serial = (
            f"; {self.runners_share:.0%} of the cores its runners can use"
            if self.runners_share > self.busy_share
            else ""
        )
        return (
            f"{self.worker_cpu_per_s:.2f} worker + {self.portal_cpu_per_s:.2f} fake portal CPU s per s on "
            f"{self.cores} cores = {self.busy_share:.0%}{machine}{serial}"
        )


def bottleneck(row: Row, n_cores: int) -> Bottleneck | None:
    wall = float(row.details.get("wall_s") or 0)
    if wall <= 0:
        return None
    worker = row.cpu_s / wall
    portal = float(row.details.get("portal_cpu_s") or 0) / wall
    share = (worker + portal) / n_cores
    machine = row.details.get("machine_busy_share")
    usable = min(row.runners or n_cores, n_cores)  # each runner's work is serial: about a core at most
    serial = worker / usable
    busiest = max(share, serial, float(machine) if machine is not None else 0.0)
    return Bottleneck(
        n_cores,
        round(worker, 2),
        round(portal, 2),
        round(share, 2),
        round(serial, 2),
        None if machine is None else round(float(machine), 2),
        "CPU" if busiest >= CPU_BOUND_SHARE else "portal latency",
    )


def by_runners(rows: list[Row]) -> dict[str, dict[int, Row]]:
    """Unpaced worker rows by database, then by runners."""
    found: dict[str, dict[int, Row]] = {}
    for row in rows:
        if row.runners is not None and not row.pace_s:
            found.setdefault(row.db, {})[row.runners] = row
    return found


def verdicts(worker_rows: list[Row], naive: Row | None, http: Row | None, n_cores: int) -> list[Verdict]:
    """Every target against every measurement it applies to (unpaced worker rows)."""
    found: list[Verdict] = []
    unpaced = [r for r in worker_rows if r.runners is not None and not r.pace_s]
    for row in unpaced:
        value = _ratio(row.claims_per_min, naive.claims_per_min) if naive else None
        found.append(
            Verdict(
                "claims/min vs naive",
                row.label,
                value,
                "n/a" if value is None else f"{value:.1f}x",
                f">= {VS_NAIVE:g}x",
                _judge(value, value is not None and value >= VS_NAIVE),
            )
        )
    for row in unpaced:
        value = _ratio(row.claims_per_min, http.claims_per_min) if http else None
        found.append(
            Verdict(
                "claims/min vs HTTP lower bound (1 session at a time)",
                row.label,
                value,
                "n/a" if value is None else f"{value:.2f}x",
                f">= {VS_HTTP:g}x",
                _judge(value, value is not None and value >= VS_HTTP),
            )
        )
    for row in unpaced:
        value = round(row.pages_per_claim, 2) if row.claims else None
        found.append(
            Verdict(
                f"pages per claim over {row.claims} claims",
                row.label,
                value,
                "n/a" if value is None else f"{value:.2f}",
                f"<= {PAGES_PER_CLAIM:g}",
                _judge(value, value is not None and value <= PAGES_PER_CLAIM),
            )
        )
    for db, rows in by_runners(unpaced).items():
        if SCALE_FROM not in rows or SCALE_TO not in rows:
            continue
        one, four = rows[SCALE_FROM], rows[SCALE_TO]
        value = _ratio(four.peak_pss_mb, one.peak_pss_mb)
        found.append(
            Verdict(
                f"peak PSS at {SCALE_TO} runners / at {SCALE_FROM}",
                f"{db}: {four.peak_pss_mb:.0f} MB / {one.peak_pss_mb:.0f} MB",
                value,
                "n/a" if value is None else f"{value:.2f}x",
                f"<= {PSS_GROWTH:g}x",
                _judge(value, value is not None and value <= PSS_GROWTH),
            )
        )
        found.append(scaling(db, one, four, n_cores))
    return found


def scaling(db: str, one: Row, four: Row, n_cores: int) -> Verdict:
    """throughput(4) / (4 x throughput(1)), judged only when the 4-runner run was not CPU-bound."""
    value = _ratio(four.claims_per_min, SCALE_TO * one.claims_per_min)
    limits = bottleneck(four, n_cores)
    if value is None or limits is None:
        verdict = "not judged: not measured"
    elif limits.bound == "CPU":
        verdict = f"not judged: CPU-bound ({limits.why()})"
    else:
        verdict = (MET if value >= SCALING else NOT_MET) + f" (latency-bound: {limits.why()})"
    return Verdict(
        f"scaling {SCALE_FROM} -> {SCALE_TO} runners, throughput({SCALE_TO}) / ({SCALE_TO} x throughput({SCALE_FROM}))",
        f"{db}: {four.claims_per_min:.1f} / ({SCALE_TO} x {one.claims_per_min:.1f})",
        value,
        "n/a" if value is None else f"{value:.2f}",
        f">= {SCALING:g} while latency-bound",
        verdict,
    )


def verdict_json(found: list[Verdict]) -> list[dict[str, Any]]:
    return [asdict(v) for v in found]


def bottleneck_json(rows: list[Row], n_cores: int) -> list[dict[str, Any]]:
    """Per worker row: CPU per wall second, the fake portal's, the share of the cores, the verdict."""
    out = []
    for row in rows:
        limits = bottleneck(row, n_cores)
        if row.runners is not None and limits is not None:
            out.append({"measurement": row.label, **asdict(limits)})
    return out
