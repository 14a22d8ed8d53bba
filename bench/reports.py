"""Each report's compute time on a busy practice's store: p50 over a few runs, SQLite and PostgreSQL.

    python -m bench.reports [--claims 50000] [--denials 5000] [--repeat 5] [--db sqlite|postgres|both] [--reuse]

Builds the synthetic store of bench/web_store.py (or, with --reuse, the one bench/web.py or a previous run
left in the same folder), then computes every registered report (flows/reports/) --repeat times over all
dates and all payers, as `portal-worker report NAME` does, and prints the p50 against a 1 s target. The
target is printed, never asserted. The synthetic store has no authorizations or enrollments, so `exposure`
measures its queries on empty tables.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench import web_store
from bench.web import prepare_store
from flows.reports import ReportFilter, load_reports
from store.db import make_engine, session_scope
from store.postgres import DEFAULT_URL, unreachable

TARGET_S = 1.0


def time_reports(url: str, repeat: int) -> dict[str, list[float]]:
    engine = make_engine(url)
    timings: dict[str, list[float]] = {}
    try:
        for name, spec in load_reports().items():
            timings[name] = []
            for _ in range(repeat):
                started = time.perf_counter()
                with session_scope(engine) as session:
                    spec.compute(session, ReportFilter(), web_store.TODAY)
                timings[name].append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return timings


def print_timings(db: str, claims: int, denials: int, timings: dict[str, list[float]]) -> None:
    print(f"\n{db}, {claims:,} claims, {denials:,} open denials (p50 of {len(next(iter(timings.values())))} runs):")
    for name, seconds in timings.items():
        p50 = statistics.median(seconds)
        verdict = "PASS" if p50 < TARGET_S else "FAIL"
        print(f"  {name:<14} {p50 * 1000:8.1f}ms  (target {TARGET_S:.0f} s)  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--denials", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per report.")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--reuse", action="store_true", help="Use the store a previous run built, if there.")
    parser.add_argument("--dir", type=Path, default=Path("bench-results/web"), help="Where the SQLite stores go.")
    parser.add_argument("--pg-url", default=DEFAULT_URL, help="The PostgreSQL server (any database on it).")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        if db == "postgres" and (why := unreachable(args.pg_url)):
            print(f"\npostgres: skipped ({why})")
            continue
        root = args.dir.resolve() / f"{db}-{args.claims}"
        url = prepare_store(db, root, args.pg_url, args.claims, args.denials, args.reuse)
        print_timings(db, args.claims, args.denials, time_reports(url, args.repeat))


if __name__ == "__main__":
    main()
