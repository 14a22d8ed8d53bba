"""The workspace's pages on a busy practice's store: p50/p95 server and wall time of Today, Search, Claim, Worklist.

    python -m bench.web [--claims 50000] [--denials 5000] [--repeat 30] [--db sqlite|postgres|both] [--reuse]

Builds the synthetic store of bench/web_store.py (or reuses the one a previous run left, with --reuse),
and a small one (--baseline-claims, 1,000 by default) to show how each page scales; serves the workspace
as `portal-worker web` does (web.app.create_app under uvicorn, on a loopback port of this process); logs in
as a user it adds; then asks for each page --warmup times untimed and --repeat times timed. The server
time is the application's own Server-Timing figure (web/timing.py): no network, no client. The target is
a p95 under 300 ms per page; it is printed, never asserted. A page not built yet (404) is "missing".
"""

from __future__ import annotations

import argparse
import math
import socket
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import uvicorn
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bench import web_store
from store.db import make_engine, session_scope, sqlite_url
from store.models import Claim, ClaimStatusObservation, Denial
from store.postgres import DEFAULT_URL, unreachable
from store.staff import get_user, save_user
from web.app import create_app, settle_heap
from worker.clock import utcnow
from worker.security.staff import add_user, generated_password, hash_password
from worker.settings import Settings

TARGET_MS = 300.0
BENCH_USER = "bench"  # admin: sees every department's queues, as the slowest role would


@dataclass(frozen=True)
class PageRequest:
    name: str
    path: str


@dataclass(frozen=True)
class Figures:
    page: PageRequest
    outcome: str  # "ok", "missing" (404) or "HTTP nnn"
    server_ms: list[float]
    wall_ms: list[float]


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value at least `share` of the values are not above."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def server_time_ms(response: httpx.Response) -> float:
    """The `app;dur=` figure of the Server-Timing header (web/timing.py)."""
    for metric in response.headers.get("server-timing", "").split(","):
        name, _, params = metric.strip().partition(";")
        if name == "app" and params.startswith("dur="):
            return float(params.removeprefix("dur="))
    raise RuntimeError(f"{response.request.url.path} answered without a Server-Timing header")


def pages(engine: Engine) -> list[PageRequest]:
    """The pages to time, with search terms and a claim taken from the store so each one finds something."""
    with session_scope(engine) as session:
        denial = session.exec(select(Denial).where(Denial.status == "open").order_by(col(Denial.id))).first()
        claim = session.get(Claim, denial.claim_id) if denial and denial.claim_id else None
        check = session.exec(
            select(ClaimStatusObservation.check_number).where(col(ClaimStatusObservation.check_number).is_not(None))
        ).first()
    if claim is None or check is None:
        raise RuntimeError("the store has no denied claim or no payment: build it with bench/web_store.py")
    surname = claim.patient_name.split(",")[0].upper()  # in capitals: the search ignores case

    def search(**query: str) -> str:
        return "/search?" + urlencode(query)

    return [
        PageRequest("Login form (the floor)", "/login"),  # no query: what a template and middleware cost alone
        PageRequest("Today", "/"),
        PageRequest("Search: patient surname", search(q=surname)),
        PageRequest("Search: claim id prefix", search(q=claim.claim_id[:-2])),
        PageRequest("Search: member id", search(q=claim.member_id)),
        PageRequest("Search: check number", search(q=check)),
        PageRequest("Search: payer filter", search(q="", payer=claim.payer_id)),
        PageRequest("Claim (with a denial)", f"/claims/{claim.claim_id}"),
        PageRequest("Worklist", "/worklist"),
        PageRequest("Worklist: owner coding", "/worklist?" + urlencode({"owner": "coding"})),
    ]


def write_config(root: Path, database_url: str) -> Path:
    """A config naming the store and the demo's portals (never contacted: the workspace drives no browser)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[worker]", f'data_dir = "{root / "data"}"', ""]
    if not database_url.startswith("sqlite"):
        lines += ["[database]", f'url = "{database_url}"', ""]
    for name, adapter, payers in (
        ("summit", "summit_exchange", '["NWM", "BBH"]'),
        ("unity", "unity_health", '["UHP"]'),
        ("lakeshore", "lakeshore_medicaid", '["LSM"]'),
    ):
        lines += [f"[portals.{name}]", f'adapter = "{adapter}"', f'base_url = "http://127.0.0.1:9/{name}"']
        lines += [f"payers = {payers}", ""]
    path = root / "portal-worker.toml"
    path.write_text("\n".join(lines))
    return path


def store_url(db: str, root: Path, pg_url: str, claims: int) -> str:
    if db == "sqlite":
        return sqlite_url(root / "data")
    return web_store.postgres_database_url(pg_url, f"pw_bench_web_{claims}")


def store_exists(url: str, claims: int) -> bool:
    """Whether `url` holds a synthetic store of `claims` claims that --reuse may use."""
    if url.startswith("sqlite") and not Path(make_url(url).database or "").exists():
        return False
    probe = create_engine(url)
    try:
        with probe.connect() as connection:
            return bool(connection.execute(text("SELECT count(*) FROM claim")).scalar() == claims)
    except Exception:  # noqa: BLE001 - no database, no table: nothing to reuse
        return False
    finally:
        probe.dispose()


def prepare_store(db: str, root: Path, pg_url: str, claims: int, denials: int, reuse: bool) -> str:
    url = store_url(db, root, pg_url, claims)
    if reuse and store_exists(url, claims):
        print(f"  reusing the store of {claims:,} claims at {make_url(url).render_as_string()}")
        return url
    started = time.perf_counter()
    if db == "sqlite":
        (root / "data").mkdir(parents=True, exist_ok=True)
        for leftover in (root / "data").glob("portal-worker.db*"):
            leftover.unlink()
    else:
        url = web_store.fresh_postgres_database(pg_url, f"pw_bench_web_{claims}")
    web_store.build(url, claims, denials)
    print(f"  built {claims:,} claims and {denials:,} open denials in {time.perf_counter() - started:.1f} s")
    return url


def bench_password(engine: Engine) -> str:
    """A new password for the bench's admin user, added on first use (the store is synthetic)."""
    password = generated_password()
    with session_scope(engine) as session:
        user = get_user(session, BENCH_USER)
        if user is None:
            add_user(session, BENCH_USER, "admin", password, utcnow())
        else:
            user.password_hash, user.failed_logins, user.locked_until = hash_password(password), 0, None
            save_user(session, user)
    return password


@contextmanager
def serving(settings: Settings, engine: Engine) -> Iterator[str]:
    """The workspace on a free loopback port in a thread of this process, as tests/web_support.serve runs it,
    its heap settled as `portal-worker web` settles it."""
    application = create_app(settings, engine)
    settle_heap()
    listening = socket.socket()
    # Accepted connections inherit this (Linux): without it every keep-alive request waited ~40 ms for a
    # delayed ACK (Nagle), a stall `portal-worker web` (uvicorn's own sockets) does not have.
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    port = int(listening.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(application, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name="workspace", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()


def log_in(client: httpx.Client, password: str) -> None:
    form = client.get("/login")
    form.raise_for_status()
    token = client.cookies.get("pw_login")
    answer = client.post("/login", data={"name": BENCH_USER, "password": password, "csrf_token": token or ""})
    if answer.status_code != 303 or answer.headers.get("location", "").startswith("/login"):
        raise RuntimeError(f"the bench user could not log in (HTTP {answer.status_code})")


def time_page(client: httpx.Client, page: PageRequest, warmup: int, repeat: int) -> Figures:
    first = client.get(page.path)
    if first.status_code == 404:
        return Figures(page, "missing", [], [])
    if first.status_code != 200:
        return Figures(page, f"HTTP {first.status_code}", [], [])
    for _ in range(max(0, warmup - 1)):
        client.get(page.path)
    server, wall = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(page.path)
        wall.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return Figures(page, f"HTTP {response.status_code}", [], [])
        server.append(server_time_ms(response))
    return Figures(page, "ok", server, wall)


def measure(db: str, root: Path, pg_url: str, claims: int, denials: int, args: argparse.Namespace) -> list[Figures]:
    print(f"\n{db}, {claims:,} claims, {denials:,} open denials:")
    url = prepare_store(db, root, pg_url, claims, denials, args.reuse)
    settings = Settings.load(write_config(root, url))
    engine = make_engine(url)
    try:
        password = bench_password(engine)
        requests = pages(engine)
        with serving(settings, engine) as base, httpx.Client(base_url=base, timeout=120) as client:
            log_in(client, password)
            figures = [time_page(client, page, args.warmup, args.repeat) for page in requests]
    finally:
        engine.dispose()
    print_figures(figures)
    return figures


def print_figures(figures: Sequence[Figures]) -> None:
    print(f"  {'page':28} {'server p50':>10} {'p95':>8} {'wall p50':>10} {'p95':>8}  target p95 < {TARGET_MS:.0f} ms")
    for f in figures:
        if f.outcome != "ok":
            print(f"  {f.page.name:28} {f.outcome:>10}")
            continue
        p95 = percentile(f.server_ms, 0.95)
        verdict = "PASS" if p95 < TARGET_MS else "FAIL"
        print(
            f"  {f.page.name:28} {statistics.median(f.server_ms):8.1f}ms {p95:6.1f}ms "
            f"{statistics.median(f.wall_ms):8.1f}ms {percentile(f.wall_ms, 0.95):6.1f}ms  {verdict}"
        )


def print_scaling(db: str, small: Sequence[Figures], large: Sequence[Figures], claims: tuple[int, int]) -> None:
    print(f"\n{db}: server p50 at {claims[1]:,} claims over {claims[0]:,} claims")
    for before, after in zip(small, large, strict=True):
        if before.outcome == "ok" and after.outcome == "ok":
            ratio = statistics.median(after.server_ms) / max(statistics.median(before.server_ms), 0.01)
            print(f"  {after.page.name:28} x{ratio:.1f}")
        else:
            print(f"  {after.page.name:28} {after.outcome if after.outcome != 'ok' else before.outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--denials", type=int, default=5_000)
    parser.add_argument("--baseline-claims", type=int, default=1_000)
    parser.add_argument("--baseline-denials", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30, help="Timed requests per page.")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed requests per page first.")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--reuse", action="store_true", help="Use the stores a previous run built, if there.")
    parser.add_argument("--dir", type=Path, default=Path("bench-results/web"), help="Where the SQLite stores go.")
    parser.add_argument("--pg-url", default=DEFAULT_URL, help="The PostgreSQL server (any database on it).")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        if db == "postgres" and (why := unreachable(args.pg_url)):
            print(f"\npostgres: skipped ({why})")
            continue
        sizes = ((args.baseline_claims, args.baseline_denials), (args.claims, args.denials))
        runs = [measure(db, args.dir.resolve() / f"{db}-{c}", args.pg_url, c, d, args) for c, d in sizes]
        print_scaling(db, runs[0], runs[1], (args.baseline_claims, args.claims))


if __name__ == "__main__":
    main()
