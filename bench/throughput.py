"""Throughput: portal-worker against the naive script and the plain-HTTP lower bound, in one run.

    python -m bench.throughput [--claims 500] [--latency-ms 50] [--runners-curve 1,2,4,8]
                               [--naive-sample 30] [--out bench-results/] [--skip-postgres] [--quick]

Starts the fake portal with N claims and the same fixed latency on every portal request, with
4 portal accounts (one per payer), then measures, each time after resetting the portal
(sessions, counters) and with a fresh install:
  1. portal-worker checking every claim: 1 and 4 runners, on SQLite and on PostgreSQL, unpaced
     (--pace-seconds, default 0), and once more with 4 runners on SQLite at the shipped pacing;
  2. the naive script (bench.naive): a fresh browser and a login per claim, on a sample;
  3. the lower bound (bench.http_baseline): the same work as the worker (log in, read the claim
     lists month by month, open each claim's detail page) from plain HTTP sessions, one at a time;
and the scaling curve (portal-worker on SQLite with 1, 2, 4, 8 runners). Every measurement
runs as its own process, whose whole tree (Python, Playwright's driver, Chromium) is sampled
for memory (PSS, and RSS for comparison) and CPU (bench.measure); the fake portal's own CPU is
read around each one (bench.fake). It prints issue 21's targets with the figures measured and
whether each is met (bench.targets: printed, never asserted), and says whether the scaling was
CPU-bound. Writes throughput.json and throughput.png to --out.
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
from bench.report import HTTP, NAIVE, WORKER, Row, curve_lines, ratios, table, write_json
from bench.targets import bottleneck_json, cores, verdict_json, verdicts
from bench.worker_run import WorkerOutcome, measure_worker
from fake_portal.launcher import RunningPortal
from store.postgres import DEFAULT_URL, unreachable
from worker.runtime.browser import find_chromium
from worker.settings import PortalSettings, RunSettings

REPO = Path(__file__).resolve().parents[1]
MAIN_RUNNERS = (1, 4)
QUICK = {"claims": 40, "runners_curve": "1,2", "naive_sample": 6}
DEFAULTS = {"claims": 500, "runners_curve": "1,2,4,8", "naive_sample": 30}
ACCOUNTS = len(fake.PORTALS)
SHIPPED_PACE_S = float(PortalSettings.model_fields["pace_seconds"].default)  # [portals.*] pace_seconds
SHIPPED_BATCH = int(RunSettings.model_fields["batch_size"].default)  # [run] batch_size
PACED_RUNNERS = 4


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--claims", type=int, help="claims in the fake portal (rounded up to a multiple of 4); 500")
    p.add_argument("--latency-ms", type=int, default=50, help="delay on every portal request (default 50)")
    p.add_argument("--runners-curve", help="runner counts for the scaling curve (default 1,2,4,8)")
    p.add_argument("--naive-sample", type=int, help="claims the naive script checks (default 30)")
    p.add_argument("--out", type=Path, default=REPO / "bench-results")
    p.add_argument("--skip-postgres", action="store_true", help="measure on SQLite only")
    p.add_argument("--quick", action="store_true", help="a smoke run: 40 claims, curve 1,2, naive sample 6")
    p.add_argument(
        "--batch-size", type=int, default=SHIPPED_BATCH, help=f"[run] batch_size (default: the shipped {SHIPPED_BATCH})"
    )
    p.add_argument(
        "--pace-seconds",
        type=float,
        default=0.0,
        help=f"[portals.*] pace_seconds (default 0: no pacing; one more run at the shipped {SHIPPED_PACE_S:g} s)",
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


def pages_per_claim_by_portal(served: fake.Served, claims_by_account: dict[str, int]) -> dict[str, float | None]:
    """Requests a portal served over the claims checked on it (all its accounts'); None: no claims there."""
    claims = fake.claims_by_site(claims_by_account)
    return {site: round(served.requests[site] / n, 2) if n else None for site, n in claims.items()}


def _details(measured: Measured, served: fake.Served, claims_by_account: dict[str, int]) -> dict[str, Any]:
    return {
        "wall_s": round(measured.wall_s, 2),
        "exit_code": measured.exit_code,
        "timed_out": measured.timed_out,
        "cpu_s_rusage": round(measured.usage.cpu_s_rusage, 2),
        "processes_seen": measured.usage.processes_seen,
        "samples": measured.usage.samples,
        "machine_busy_share": measured.usage.machine_busy_share,
        "portal_cpu_s": served.portal_cpu_s,
        "portal_wall_s": served.portal_wall_s,
        "claims_by_account": claims_by_account,
        "requests_by_portal": served.requests,
        "pages_per_claim_by_portal": pages_per_claim_by_portal(served, claims_by_account),
        "requests_by_kind": served.requests_by_kind,
        "logins": served.logins,
        "stale_session_requests": served.stale_session_requests,
    }


class ScriptFailed(RuntimeError):
    """A measured script exited with an error; `reason` is the last line it logged (its exception)."""

    def __init__(self, module: str, exit_code: int, log: Path) -> None:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()] if log.exists() else []
        self.reason = lines[-1].strip() if lines else "no output"
        super().__init__(f"{module} failed (exit {exit_code}): {self.reason}; see {log}")


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
        raise ScriptFailed(module, measured.exit_code, log)
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
    mark = fake.prepare(portal, latency_ms)
    slug = module.rsplit(".", 1)[-1]
    result, measured = _script(
        portal, module, claims_csv, work / f"{slug}.json", extra, logs / f"{slug}.log", timeout_s
    )
    served = fake.served(portal, mark)
    details = {
        **_details(measured, served, result["claims_by_account"]),
        "outcomes": result["outcomes"],
        "errors": result["errors"],
    }
    row = Row(
        name,
        None,
        "-",
        result["claims"],
        result["seconds"],
        served.total_requests,
        measured.usage.peak_pss_mb,
        measured.usage.peak_rss_mb,
        measured.usage.cpu_s,
        details=details,
    )
    return row, result


def worker_row(outcome: WorkerOutcome, served: fake.Served, pace_s: float) -> Row:
    m = outcome.measured
    details = {
        **_details(m, served, outcome.claims_per_portal),
        "startup_s": round(outcome.startup_s, 2),
        "failed": outcome.claims_failed,
        "retries": outcome.retries,
    }
    return Row(
        WORKER,
        outcome.runners,
        outcome.db,
        outcome.claims_done,
        outcome.seconds,
        served.total_requests,
        m.usage.peak_pss_mb,
        m.usage.peak_rss_mb,
        m.usage.cpu_s,
        pace_s=pace_s,
        details=details,
    )


def request_check(browser: dict[str, dict[str, list[list[str]]]], http: dict[str, list[list[str]]]) -> list[str]:
    """One line per portal account whose login requests differ between the browser and the HTTP client.

    Only the login: the naive script searches claim by claim, the lower bound reads claim lists."""
    differ = []
    for name, recorded in browser.items():
        lines, theirs = recorded["login"], http.get(name, [])
        if [tuple(x) for x in lines] != [tuple(x) for x in theirs]:
            differ.append(
                f"{name}: the browser's login requested {[' '.join(x) for x in lines]}, the HTTP lower bound's "
                f"{[' '.join(x) for x in theirs]}"
            )
    return differ


def progress(row: Row, so_far: Path) -> None:
    """Say what was just measured, and keep it (rows-so-far.jsonl) in case the run is cut short."""
    runners = f" {row.label}" if row.runners else ""
    print(
        f"  measured {row.name}{runners}: {row.claims} claims in {row.seconds:.1f} s ({row.claims_per_min:.1f}/min, "
        f"{row.pages_per_claim:.2f} pages/claim, peak PSS {row.peak_pss_mb:.0f} MB (RSS {row.peak_rss_mb:.0f} MB), "
        f"{row.cpu_s_per_claim:.3f} CPU s/claim, fake portal {row.details.get('portal_cpu_s', 0):.1f} CPU s)",
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
            print(f"fake portal: {claims} claims, {args.latency_ms} ms per request, {fake.ACCOUNTS_NOTE}", flush=True)
            answer_ms = fake.answer_ms(portal, args.latency_ms)
            print(f"fake portal: a page answers in {answer_ms:.1f} ms (median, kept-alive connection)", flush=True)

            fake.prepare(portal, args.latency_ms)
            recorded, _ = _script(
                portal, "bench.naive", claims_csv, work / "recorded.json", ["--record"], logs / "record.log", 600
            )
            http: Row | None = None
            http_missing: str | None = None
            differ: list[str] = []
            try:
                http, http_result = measure_script(
                    HTTP, portal, "bench.http_baseline", claims_csv, work, logs, args.latency_ms, [], 120 + 2 * claims
                )
            except ScriptFailed as failed:  # e.g. a claim list this fake portal does not have yet
                http_missing = failed.reason
                print(f"HTTP LOWER BOUND NOT MEASURED: {failed}", flush=True)
            else:
                progress(http, so_far)
                differ = request_check(recorded["requests"], http_result["login_requests"])
                for line in differ:
                    print(f"LOGIN REQUESTS DIFFER: {line}", flush=True)
                if not differ:
                    print("login requests: the browser and the HTTP lower bound agree on every account", flush=True)
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

            def worker(runners: int, postgres: bool, pace_s: float = args.pace_seconds) -> Row:
                mark = fake.prepare(portal, args.latency_ms)
                db = "pg" if postgres else "sqlite"
                outcome = measure_worker(
                    work,
                    portal.url,
                    claims_csv,
                    claims,
                    runners=runners,
                    postgres=postgres,
                    batch_size=args.batch_size,
                    pace_seconds=pace_s,
                    log_path=logs / f"worker-{runners}-{db}-pace{pace_s:g}.log",
                    timeout_s=600 + 4 * claims,
                )
                row = worker_row(outcome, fake.served(portal, mark), pace_s)
                configs.append(outcome.config)
                progress(row, so_far)
                return row

            sqlite_rows = {n: worker(n, False) for n in MAIN_RUNNERS}
            pg_rows = {} if skip_pg else {n: worker(n, True) for n in MAIN_RUNNERS}
            paced = None if args.pace_seconds == SHIPPED_PACE_S else worker(PACED_RUNNERS, False, SHIPPED_PACE_S)
            curve = [sqlite_rows[n] if n in sqlite_rows else worker(n, False) for n in args.curve]
    finally:
        portal.stop()
    worker_rows = [*sqlite_rows.values(), *pg_rows.values()]
    rows = [*worker_rows, *([paced] if paced else []), *[r for r in curve if r not in worker_rows], naive]
    rows += [http] if http else []
    return {
        "rows": rows,
        "worker_rows": worker_rows,
        "paced": paced,
        "curve": curve,
        "naive": naive,
        "http": http,
        "http_missing": http_missing,
        "claims": claims,
        "request_differences": differ,
        "postgres_skipped": skip_pg or None,
        "load_before": load_before,
        "load_after": load_average(),
        "answer_ms": answer_ms,
        "worker_config": configs[0],
    }


def notes(args: argparse.Namespace, naive: Row) -> dict[str, str]:
    return {
        "accounts": f"{fake.ACCOUNTS_NOTE}: Summit (the clearinghouse) serves NWM and BBH and has an account for "
        "each, so 4 runners can each hold one account's session (one live session per account)",
        "latency": f"the fake portal delays every portal request by {args.latency_ms} ms, on all three portals "
        "alike (the Medicaid portal's own extra latency is set to 0); static CSS/JS is not delayed",
        "pages": "a page is every HTTP request a portal served: documents, form posts, redirect hops, JSON and "
        "CSV calls (login, probes, list pages and re-logins included); static CSS/JS not counted; "
        "images/fonts blocked. Per portal: its requests over the claims checked on it",
        "seconds": "portal-worker: first claim task leased to last one finished (browser launch and first "
        "login inside); naive and HTTP: the script's own timer around its work",
        "naive": f"claims/min from a sample of {naive.claims} claims spread evenly over the payers, a fresh "
        "Chromium and a login each (adapter.login(): a fresh browser has no session to probe), then a search",
        "http": "one httpx session per portal account, one account after the other: log in once, read the claim "
        "list of each calendar month holding a claim's service dates (every page), open each claim's detail "
        "page by the list's link: the worker's work with no browser; only login requests are compared with "
        "the browser's (the naive script searches claim by claim)",
        "peak_pss": "the headline memory figure: largest sum of PSS (/proc/PID/smaps_rollup) over the measured "
        "process tree (Python, Playwright driver, Chromium) in one 0.2 s sample; shared pages are split "
        "between the processes that map them",
        "peak_rss": "for comparison: the same with RSS, which counts Chromium's shared pages once per process, "
        "so it overstates",
        "cpu": "sum over every process of the tree of its last-seen user+system time (0.2 s samples; what a "
        "process used after its last sample is missed); details.cpu_s_rusage is the kernel's count "
        "for reaped descendants only (Chromium does not wait for all its helpers, so it is lower); "
        "details.portal_cpu_s is the fake portal server's own CPU over the measurement",
        "bottleneck": "per worker run: the tree's CPU seconds per wall second (spawn to exit) plus the fake "
        f"portal's, over the {cores()} cores; the whole machine's busy share over the run (other load "
        "included); and the tree's CPU over the cores its runners can keep busy (a runner's work is serial: "
        "about one core each); any at 80% or more: the run was CPU-bound and the scaling target is not judged",
        "pacing": f"pace_seconds = {args.pace_seconds} per portal account in the main runs; the shipped default, "
        f"{SHIPPED_PACE_S:g} s (at most {60 / SHIPPED_PACE_S:.0f} checks/min per account), has its own row "
        f"({PACED_RUNNERS} runners, SQLite)",
        "noise": f"the fake portal runs on the same {os.cpu_count()}-core machine and takes its share of the "
        "CPU; other load shows in the load averages: compare ratios within one run",
    }


def document(args: argparse.Namespace, found: dict[str, Any], chart: Path | None) -> dict[str, Any]:
    naive, http = found["naive"], found["http"]
    per_account = next((r.details.get("claims_by_account") for r in found["worker_rows"]), None)
    measured_workers: list[Row] = []  # every worker run once (the curve reuses the main rows)
    for row in [*found["worker_rows"], *([found["paced"]] if found["paced"] else []), *found["curve"]]:
        if not any(row is seen for seen in measured_workers):
            measured_workers.append(row)
    return {
        "machine": machine(),
        "load_average_1_5_15min": {"before": found["load_before"], "after": found["load_after"]},
        "settings": {
            "claims": found["claims"],
            "latency_ms": args.latency_ms,
            "measured_answer_ms": round(found["answer_ms"], 1),
            "naive_sample": args.naive_sample,
            "runners_curve": args.curve,
            "batch_size": args.batch_size,
            "pace_seconds": args.pace_seconds,
            "shipped_pace_seconds": SHIPPED_PACE_S,
            "postgres_skipped": found["postgres_skipped"],
        },
        "accounts": {
            "count": ACCOUNTS,
            "summary": fake.ACCOUNTS_NOTE,
            "portals": {
                p.name: {"portal": p.site, "payers": list(p.payers), "claims": (per_account or {}).get(p.name)}
                for p in fake.PORTALS
            },
            "rule": f"at most one live session per portal account, so at most {ACCOUNTS} runners work at once",
        },
        "notes": notes(args, naive),
        "rows": [r.as_json() for r in found["rows"]],
        "targets": verdict_json(verdicts(found["worker_rows"], naive, http, cores())),
        "bottleneck": bottleneck_json(measured_workers, cores()),
        "ratios": [asdict(r) for r in ratios(found["worker_rows"], naive, http)],
        "curve": [
            {
                "runners": r.runners,
                "db": r.db,
                "claims_per_min": round(r.claims_per_min, 1),
                "peak_pss_mb": round(r.peak_pss_mb),
                "peak_rss_mb": round(r.peak_rss_mb),
                "cpu_s_per_claim": round(r.cpu_s_per_claim, 4),
            }
            for r in found["curve"]
        ],
        "request_differences": found["request_differences"],
        "http_lower_bound_missing": found["http_missing"],
        "worker_config": found["worker_config"],
        "chart": str(chart) if chart else None,
    }


def portal_lines(rows: list[Row]) -> str:
    """Pages per claim per portal, and CPU seconds per claim, for each measurement."""
    lines = []
    for row in rows:
        per_portal = row.details.get("pages_per_claim_by_portal") or {}
        shown = ", ".join(f"{site} {'n/a' if v is None else f'{v:.2f}'}" for site, v in per_portal.items())
        lines.append(
            f"  {row.label:<32} {row.pages_per_claim:5.2f} overall ({shown}); {row.cpu_s_per_claim:.3f} CPU s/claim"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    found = run(args)
    from bench.chart import scaling_chart  # matplotlib only once there is something to draw

    chart = scaling_chart(
        args.out / "throughput.png",
        found["curve"],
        naive=found["naive"],
        http=found["http"],
        paced=found["paced"],
        accounts=ACCOUNTS,
        title=f"{found['claims']} claims, {args.latency_ms} ms per request, {fake.ACCOUNTS_NOTE}",
    )
    doc = document(args, found, chart)
    write_json(args.out / "throughput.json", doc)
    print()
    print(table(found["rows"]))
    print("\npages per claim by portal:")
    print(portal_lines(found["rows"]))
    print("\ntargets (issue 21; printed, not asserted):")
    print("\n".join(v.line() for v in verdicts(found["worker_rows"], found["naive"], found["http"], cores())))
    print("\nwhat limited each worker run (CPU s per wall s, worker + fake portal, on the cores; the machine's load):")
    for b in doc["bottleneck"]:
        machine = "" if b["machine_busy_share"] is None else f", the machine {b['machine_busy_share']:.0%} busy"
        print(
            f"  {b['measurement']:<32} {b['worker_cpu_per_s']:.2f} + {b['portal_cpu_per_s']:.2f} on {b['cores']} "
            f"cores = {b['busy_share']:.0%}{machine}: {b['bound']}"
        )
    print(f"\nscaling curve ({found['curve'][0].db}):")
    print(curve_lines(found["curve"], ACCOUNTS))
    n = doc["notes"]
    print("\n" + "\n".join(f"{n[k]}." for k in ("accounts", "pages", "naive", "http", "peak_pss", "peak_rss")))
    print(f"{n['pacing']}.\n{n['noise']}.")
    print(f"load average before/after: {found['load_before']} / {found['load_after']}")
    print(f"\nwrote {args.out / 'throughput.json'} and {chart}")
    if found["http_missing"]:
        print(f"\nthe HTTP lower bound was not measured: {found['http_missing']}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
