"""Throughput: portal-worker against the naive script and the plain-HTTP lower bound, in one run.

    python -m bench.throughput [--claims 500] [--latency-ms 50] [--runners-curve 1,2,4,8]
                               [--naive-sample 30] [--out bench-results/] [--skip-postgres] [--quick]

Starts the fake portal with N claims and the same fixed latency on every portal request, then
measures, each time after resetting the portal (sessions, counters) and with a fresh install:
  1. portal-worker checking every claim: 1 and 4 runners, on SQLite and on PostgreSQL;
  2. the naive script (bench.naive): a fresh browser and a login per claim, on a sample;
  3. the lower bound (bench.http_baseline): the same requests from one plain HTTP session.
and the scaling curve (portal-worker on SQLite with 1, 2, 4, 8 runners). Every measurement
runs as its own process, whose whole tree (Python, Playwright's driver, Chromium) is sampled
for memory and CPU (bench.measure). Writes throughput.json and throughput.png to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil

from bench import fake
from bench.measure import Measured, run_measured
from bench.report import HTTP, NAIVE, WORKER, Row, curve_lines, ratio_lines, ratios, table, write_json
from bench.worker_run import WorkerOutcome, measure_worker
from fake_portal.launcher import RunningPortal
from store.postgres import DEFAULT_URL, unreachable
from worker.runtime.browser import find_chromium

REPO = Path(__file__).resolve().parents[1]
MAIN_RUNNERS = (1, 4)
QUICK = {"claims": 40, "runners_curve": "1,2", "naive_sample": 6}
DEFAULTS = {"claims": 500, "runners_curve": "1,2,4,8", "naive_sample": 30}
ACCOUNTS = len(fake.PORTALS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--claims", type=int, help="claims in the fake portal (rounded up to a multiple of 4); 500")
    p.add_argument("--latency-ms", type=int, default=50, help="delay on every portal request (default 50)")
    p.add_argument("--runners-curve", help="runner counts for the scaling curve (default 1,2,4,8)")
    p.add_argument("--naive-sample", type=int, help="claims the naive script checks (default 30)")
    p.add_argument("--out", type=Path, default=REPO / "bench-results")
    p.add_argument("--skip-postgres", action="store_true", help="measure on SQLite only")
    p.add_argument("--quick", action="store_true", help="a smoke run: 40 claims, curve 1,2, naive sample 6")
    p.add_argument("--batch-size", type=int, default=25, help="[run] batch_size (default: the shipped 25)")
    p.add_argument(
        "--pace-seconds",
        type=float,
        default=0.0,
        help="[portals.*] pace_seconds (default 0: no pacing; the shipped default is 0.5)",
    )
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.curve = sorted({int(n) for n in str(args.runners_curve).split(",") if n.strip()})
    return args


# --- the machine ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    chromium = find_chromium()
    try:
        version = subprocess.run(
            [chromium.executable_path or "chromium", "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    return {
        "cpu_model": model,
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "chromium": version,
        "chromium_source": chromium.source,
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- the measurements -----------------------------------------------------------------------------


def _details(measured: Measured, served: fake.Served) -> dict[str, Any]:
    return {
        "wall_s": round(measured.wall_s, 2),
        "exit_code": measured.exit_code,
        "timed_out": measured.timed_out,
        "cpu_s_rusage": round(measured.usage.cpu_s_rusage, 2),
        "processes_seen": measured.usage.processes_seen,
        "samples": measured.usage.samples,
        "requests_by_portal": served.requests,
        "logins": served.logins,
        "stale_session_requests": served.stale_session_requests,
    }


def _script(
    portal: RunningPortal, module: str, claims_csv: Path, out: Path, extra: list[str], log: Path, timeout_s: float
) -> tuple[dict[str, Any], Measured]:
    command = [
        sys.executable,
        "-m",
        module,
        "--portal-url",
        portal.url,
        "--claims-csv",
        str(claims_csv),
        "--out",
        str(out),
        *extra,
    ]
    measured = run_measured(command, env=dict(os.environ), cwd=REPO, log_path=log, timeout_s=timeout_s)
    if measured.exit_code != 0 or not out.exists():
        raise RuntimeError(f"{module} failed (exit {measured.exit_code}); see {log}")
    return json.loads(out.read_text()), measured


def measure_script(
    name: str,
    portal: RunningPortal,
    module: str,
    claims_csv: Path,
    work: Path,
    logs: Path,
    latency_ms: int,
    extra: list[str],
    timeout_s: float,
) -> tuple[Row, dict[str, Any]]:
    fake.prepare(portal, latency_ms)
    slug = module.rsplit(".", 1)[-1]
    result, measured = _script(
        portal, module, claims_csv, work / f"{slug}.json", extra, logs / f"{slug}.log", timeout_s
    )
    served = fake.served(portal)
    details = {**_details(measured, served), "outcomes": result["outcomes"], "errors": result["errors"]}
    row = Row(
        name,
        None,
        "-",
        result["claims"],
        result["seconds"],
        served.total_requests,
        measured.usage.peak_rss_mb,
        measured.usage.cpu_s,
        details,
    )
    return row, result


def worker_row(outcome: WorkerOutcome, served: fake.Served) -> Row:
    m = outcome.measured
    details = {
        **_details(m, served),
        "startup_s": round(outcome.startup_s, 2),
        "failed": outcome.claims_failed,
        "retries": outcome.retries,
        "claims_per_portal": outcome.claims_per_portal,
    }
    return Row(
        WORKER,
        outcome.runners,
        outcome.db,
        outcome.claims_done,
        outcome.seconds,
        served.total_requests,
        m.usage.peak_rss_mb,
        m.usage.cpu_s,
        details,
    )


def request_check(browser: dict[str, list[list[str]]], http: dict[str, list[list[str]]]) -> list[str]:
    """One line per portal whose login + first claim requests differ between the browser and the HTTP client."""
    differ = []
    for name, lines in browser.items():
        theirs = http.get(name, [])
        if [tuple(x) for x in lines] != [tuple(x) for x in theirs]:
            differ.append(
                f"{name}: the browser requested {[' '.join(x) for x in lines]}, the HTTP lower bound "
                f"{[' '.join(x) for x in theirs]}"
            )
    return differ


def progress(row: Row, so_far: Path) -> None:
    """Say what was just measured, and keep it (rows-so-far.jsonl) in case the run is cut short."""
    runners = f" {row.runners} runner(s), {row.db}" if row.runners else ""
    print(
        f"  measured {row.name}{runners}: {row.claims} claims in {row.seconds:.1f} s ({row.claims_per_min:.1f}/min, "
        f"{row.pages_per_claim:.2f} pages/claim, peak RSS {row.peak_rss_mb:.0f} MB, "
        f"{row.cpu_s_per_claim:.3f} CPU s/claim)",
        flush=True,
    )
    with so_far.open("a") as out:
        out.write(json.dumps(row.as_json(), default=str) + "\n")


# --- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    logs, so_far = args.out / "logs", args.out / "rows-so-far.jsonl"
    logs.mkdir(parents=True, exist_ok=True)
    so_far.unlink(missing_ok=True)
    skip_pg = "skipped with --skip-postgres" if args.skip_postgres else unreachable(DEFAULT_URL)
    if skip_pg and not args.skip_postgres:
        print(f"PostgreSQL skipped: {skip_pg}", flush=True)
    load_before = load_average()
    portal = fake.start(args.claims)
    try:
        with tempfile.TemporaryDirectory(prefix="portal-worker-bench-") as tmp:
            work = Path(tmp)
            claims_csv = fake.export_claims(portal, work / "claims.csv")
            claims = sum(1 for _ in claims_csv.open()) - 1
            print(f"fake portal: {claims} claims, {args.latency_ms} ms per request, {ACCOUNTS} accounts", flush=True)

            fake.prepare(portal, args.latency_ms)
            recorded, _ = _script(
                portal, "bench.naive", claims_csv, work / "recorded.json", ["--record"], logs / "record.log", 600
            )
            http, http_result = measure_script(
                HTTP, portal, "bench.http_baseline", claims_csv, work, logs, args.latency_ms, [], 120 + 2 * claims
            )
            progress(http, so_far)
            differ = request_check(recorded["requests"], http_result["requests"])
            for line in differ:
                print(f"REQUEST LISTS DIFFER: {line}", flush=True)
            if not differ:
                print(
                    "request lists (login + one claim per portal): the browser and the HTTP lower bound agree",
                    flush=True,
                )
            naive, _ = measure_script(
                NAIVE,
                portal,
                "bench.naive",
                claims_csv,
                work,
                logs,
                args.latency_ms,
                ["--sample", str(args.naive_sample)],
                300 + 120 * args.naive_sample,
            )
            progress(naive, so_far)

            configs: list[str] = []

            def worker(runners: int, postgres: bool) -> Row:
                fake.prepare(portal, args.latency_ms)
                db = "pg" if postgres else "sqlite"
                outcome = measure_worker(
                    work,
                    portal.url,
                    claims_csv,
                    claims,
                    runners=runners,
                    postgres=postgres,
                    batch_size=args.batch_size,
                    pace_seconds=args.pace_seconds,
                    log_path=logs / f"worker-{runners}-{db}.log",
                    timeout_s=600 + 4 * claims,
                )
                row = worker_row(outcome, fake.served(portal))
                configs.append(outcome.config)
                progress(row, so_far)
                return row

            sqlite_rows = {n: worker(n, False) for n in MAIN_RUNNERS}
            pg_rows = {} if skip_pg else {n: worker(n, True) for n in MAIN_RUNNERS}
            curve = [sqlite_rows[n] if n in sqlite_rows else worker(n, False) for n in args.curve]
    finally:
        portal.stop()
    worker_rows = [*sqlite_rows.values(), *pg_rows.values()]
    rows = [*worker_rows, *[r for r in curve if r not in worker_rows], naive, http]
    return {
        "rows": rows,
        "worker_rows": worker_rows,
        "curve": curve,
        "naive": naive,
        "http": http,
        "claims": claims,
        "request_differences": differ,
        "postgres_skipped": skip_pg or None,
        "load_before": load_before,
        "load_after": load_average(),
        "worker_config": configs[0],
    }


def document(args: argparse.Namespace, found: dict[str, Any], chart: Path | None) -> dict[str, Any]:
    naive, http = found["naive"], found["http"]
    per_portal = next((r.details.get("claims_per_portal") for r in found["worker_rows"]), None)
    return {
        "machine": machine(),
        "load_average_1_5_15min": {"before": found["load_before"], "after": found["load_after"]},
        "settings": {
            "claims": found["claims"],
            "latency_ms": args.latency_ms,
            "naive_sample": args.naive_sample,
            "runners_curve": args.curve,
            "batch_size": args.batch_size,
            "pace_seconds": args.pace_seconds,
            "postgres_skipped": found["postgres_skipped"],
        },
        "accounts": {
            "count": ACCOUNTS,
            "portals": {
                p.name: {"payers": list(p.payers), "claims": (per_portal or {}).get(p.name)} for p in fake.PORTALS
            },
            "rule": "at most one live session per portal account, so at most "
            f"{ACCOUNTS} runners work at once; the clearinghouse account serves 2 of the 4 payers, "
            "so half the claims wait for one session whatever the number of runners",
        },
        "notes": {
            "latency": f"the fake portal delays every portal request by {args.latency_ms} ms, on all three portals "
            "alike (the Medicaid portal's own extra latency is set to 0); static CSS/JS is not delayed",
            "pages": "every HTTP request a portal served: documents, form posts, redirect hops, JSON API calls "
            "(login, probes and re-logins included); static CSS/JS not counted; images/fonts blocked",
            "seconds": "portal-worker: first claim task leased to last one finished (browser launch and first "
            "login inside); naive and HTTP: the script's own timer around its work",
            "naive": f"claims/min from a sample of {naive.claims} claims spread evenly over the payers, a fresh "
            "Chromium and a login each (adapter.login(): a fresh browser has no session to probe)",
            "http": "one httpx session per portal account, logged in once, claims one after the other",
            "peak_rss": "largest sum of RSS over the measured process tree (Python, Playwright driver, Chromium) "
            "in one 0.2 s sample; shared pages count once per process, so it overstates",
            "cpu": "sum over every process of the tree of its last-seen user+system time (0.2 s samples; what a "
            "process used after its last sample is missed); details.cpu_s_rusage is the kernel's count "
            "for reaped descendants only (Chromium does not wait for all its helpers, so it is lower)",
            "pacing": f"pace_seconds = {args.pace_seconds} per portal (the shipped default is 0.5 s, which caps "
            "one account at 120 checks/min)",
            "noise": f"the fake portal runs on the same {os.cpu_count()}-core machine and takes its share of the "
            "CPU; other load shows in the load averages: compare ratios within one run",
        },
        "rows": [r.as_json() for r in found["rows"]],
        "ratios": [asdict(r) for r in ratios(found["worker_rows"], naive, http)],
        "curve": [
            {
                "runners": r.runners,
                "db": r.db,
                "claims_per_min": round(r.claims_per_min, 1),
                "peak_rss_mb": round(r.peak_rss_mb),
                "cpu_s_per_claim": round(r.cpu_s_per_claim, 4),
            }
            for r in found["curve"]
        ],
        "request_differences": found["request_differences"],
        "worker_config": found["worker_config"],
        "chart": str(chart) if chart else None,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = run(args)
    from bench.chart import scaling_chart  # matplotlib only once there is something to draw

    chart = scaling_chart(
        args.out / "throughput.png",
        found["curve"],
        naive=found["naive"],
        http=found["http"],
        accounts=ACCOUNTS,
        title=f"{found['claims']} claims, {args.latency_ms} ms per request, {ACCOUNTS} portal accounts",
    )
    doc = document(args, found, chart)
    write_json(args.out / "throughput.json", doc)
    print()
    print(table(found["rows"]))
    print("\nratios of claims/min (portal-worker / baseline):")
    print(ratio_lines(ratios(found["worker_rows"], found["naive"], found["http"])))
    print(f"\nscaling curve ({found['curve'][0].db}):")
    print(curve_lines(found["curve"], ACCOUNTS))
    print(f"\n{doc['notes']['pages']}.\n{doc['notes']['naive']}.\n{doc['notes']['noise']}.")
    print(f"load average before/after: {found['load_before']} / {found['load_after']}")
    print(f"\nwrote {args.out / 'throughput.json'} and {chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
