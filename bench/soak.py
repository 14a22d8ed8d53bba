"""Soak: thousands of checks in one `portal-worker run`, and whether its memory stays flat.

    python -m bench.soak [--claims 3000] [--runners 1] [--latency-ms 0] [--out bench-results/] [--quick]

Starts the fake portal with N claims and one fresh install, runs the worker until every claim
is checked, and samples its process tree (Python, Playwright's driver, Chromium) every 0.2 s.
The run is cut into tenths by claims checked; for each tenth it prints the median RSS of the
worker's own Python process and of the whole tree, and the most processes seen at once. A
leak shows as a worker RSS that keeps rising from tenth to tenth; Chromium is recycled every
`run.browser_recycle_tasks` tasks, so the tree saw-tooths around a level instead. Also
counts Chromium processes on the machine before and after: the worker must leave none living
(a killed helper may linger a moment as a zombie until its parent reaps it).
Writes soak.json to --out. Figures, not a pass/fail: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench import fake
from bench.measure import Measured, run_measured
from bench.worker_run import ENTRY, all_checked, reader_engine
from bench.workspace import make_workspace
from store.models import Task
from worker.clock import aware

REPO = Path(__file__).resolve().parents[1]
TENTHS = 10
MB = 2**20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--claims", type=int, default=3000, help="claims checked (rounded up to a multiple of 4)")
    p.add_argument("--runners", type=int, default=1, help="[run] runners (default 1: one browser to watch)")
    p.add_argument("--latency-ms", type=int, default=0, help="delay on every portal request (default 0)")
    p.add_argument("--out", type=Path, default=REPO / "bench-results")
    p.add_argument("--quick", action="store_true", help="a smoke run of 200 claims")
    args = p.parse_args(argv)
    if args.quick:
        args.claims = 200
    return args


def chromium_processes() -> dict[str, int]:
    """Chromium processes on the machine: living, and exited but not yet reaped by their parent (zombies)."""
    counts = {"living": 0, "zombies": 0}
    for process in psutil.process_iter(["name", "status"]):
        if "chrom" in (process.info["name"] or "").lower():
            counts["zombies" if process.info["status"] == psutil.STATUS_ZOMBIE else "living"] += 1
    return counts


def finish_times(engine: Engine) -> list[datetime]:
    with Session(engine) as session:
        finished = session.exec(
            select(Task.finished_at).where(col(Task.state) == "done", col(Task.kind) == "claim_status")
        )
        return sorted(aware(moment) for moment in finished if moment is not None)


def tenths(measured: Measured, spawned: datetime, finished: list[datetime]) -> list[dict[str, Any]]:
    """The samples of each tenth of the checks, by when its claims finished."""
    rows = []
    for tenth in range(TENTHS):
        first = finished[len(finished) * tenth // TENTHS]
        last = finished[len(finished) * (tenth + 1) // TENTHS - 1]
        start, end = (first - spawned).total_seconds(), (last - spawned).total_seconds()
        window = [sample for sample in measured.series if start <= sample[0] <= end]
        if not window:
            continue
        rows.append(
            {
                "tenth": tenth + 1,
                "claims_done": len(finished) * (tenth + 1) // TENTHS,
                "worker_rss_mb": round(statistics.median(s[2] for s in window) / MB, 1),
                "tree_rss_mb": round(statistics.median(s[1] for s in window) / MB, 1),
                "tree_rss_max_mb": round(max(s[1] for s in window) / MB, 1),
                "processes_max": max(s[3] for s in window),
                "samples": len(window),
            }
        )
    return rows


def growth(rows: list[dict[str, Any]], key: str) -> dict[str, float] | None:
    """From the second tenth (the first includes start-up) to the last: MB, and MB per 1000 claims."""
    if len(rows) < 3:
        return None
    early, late = rows[1], rows[-1]
    mb = late[key] - early[key]
    span = late["claims_done"] - early["claims_done"]
    return {
        "mb": round(mb, 1),
        "mb_per_1000_claims": round(mb * 1000 / span, 2) if span else 0.0,
        "percent": round(100 * mb / early[key], 1) if early[key] else 0.0,
    }


def soak(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        portal = fake.start(args.claims)
        stack.callback(portal.stop)
        mark = fake.prepare(portal, args.latency_ms)
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pw-soak-")))
        claims_csv = fake.export_claims(portal, root / "claims.csv")
        claims = sum(1 for _ in claims_csv.open()) - 1
        ws = make_workspace(
            root / "install", portal.url, claims_csv, None, runners=args.runners, batch_size=25, pace_seconds=0
        )
        engine = reader_engine(ws.database_url)
        stack.callback(engine.dispose)
        chromium_before = chromium_processes()
        spawned = datetime.now(UTC)
        measured = run_measured(
            [sys.executable, *ENTRY],
            env=ws.env,
            cwd=root,
            log_path=args.out / "soak-worker.log",
            timeout_s=600 + 4 * claims,
            done=lambda: all_checked(engine, claims),
        )
        finished = finish_times(engine)
        chromium_after = chromium_processes()
        served = fake.served(portal, mark)
    rows = tenths(measured, spawned, finished) if finished else []
    return {
        "settings": {
            "claims": claims,
            "runners": args.runners,
            "latency_ms": args.latency_ms,
            "browser_recycle_tasks": "the shipped default",
        },
        "claims_checked": len(finished),
        "exit_code": measured.exit_code,
        "timed_out": measured.timed_out,
        "wall_s": round(measured.wall_s, 1),
        "pages_loaded": served.total_requests,
        "peak_tree_pss_mb": round(measured.usage.peak_pss_mb),
        "peak_tree_rss_mb": round(measured.usage.peak_rss_mb),
        "tenths": rows,
        "worker_rss_growth": growth(rows, "worker_rss_mb"),
        "tree_rss_growth": growth(rows, "tree_rss_mb"),
        "chromium_processes": {"before": chromium_before, "after": chromium_after},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    found = soak(args)
    (args.out / "soak.json").write_text(json.dumps(found, indent=2) + "\n")
    print(
        f"{found['claims_checked']} of {found['settings']['claims']} claims checked in {found['wall_s']} s, "
        f"{found['pages_loaded']} pages, exit {found['exit_code']}"
    )
    print(f"{'tenth':>5} {'claims':>7} {'worker MB':>10} {'tree MB':>8} {'tree max':>9} {'procs':>6}")
    for row in found["tenths"]:
        print(
            f"{row['tenth']:>5} {row['claims_done']:>7} {row['worker_rss_mb']:>10} {row['tree_rss_mb']:>8} "
            f"{row['tree_rss_max_mb']:>9} {row['processes_max']:>6}"
        )
    print(f"worker RSS, second tenth to last: {found['worker_rss_growth']}")
    print(f"tree RSS, second tenth to last: {found['tree_rss_growth']}")
    print(f"Chromium processes on the machine before/after: {found['chromium_processes']}")
    print(f"wrote {args.out / 'soak.json'}")
    return 0 if found["claims_checked"] == found["settings"]["claims"] and not found["timed_out"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
