"""The fake portal as the bench drives it: one server, reset and slowed the same way before each measurement.

What counts as a request (and so as a "page"): every HTTP request one of the three portals
served: documents, form posts, redirect hops, the clearinghouse's JSON API calls and CSV
downloads. Static CSS/JS under <portal>/static is neither counted nor slowed by the fake portal;
images and fonts are blocked by the worker and the portals have none anyway.

Accounts: 4, one per payer. The clearinghouse (Summit) serves two payers and gets an account for
each (the fake portal's two clearinghouse accounts), so 4 runners can each hold one account's
session; with a single clearinghouse account half the claims would wait on one session.

The fake portal runs on the same machine as what is measured: its own CPU time (the server's
process tree, through psutil) is read around each measurement, to tell a CPU-bound run from a
latency-bound one.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import psutil

from fake_portal import launcher
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.types import Credentials

SEED = 7
PAYERS_IN_DATA = 4  # NWM, BBH (clearinghouse), UHP (commercial), LSM (medicaid)


@dataclass(frozen=True)
class PortalAccount:
    """One portal account as the worker's config names it, with its fake-portal prefix and user."""

    name: str  # config name: one [portals.NAME] table, one session at a time
    site: str  # the portal it signs in to, as the bench reports it: summit, unity, lakeshore
    prefix: str  # fake portal path prefix
    adapter: str
    payers: tuple[str, ...]
    username: str  # its fake portal account (fake_portal.world.DEFAULT_ACCOUNTS)


PORTALS = (
    PortalAccount("summit_nwm", "summit", "clearinghouse", "summit_exchange", ("NWM",), "demo.biller"),
    PortalAccount("summit_bbh", "summit", "clearinghouse", "summit_exchange", ("BBH",), "demo.biller2"),
    PortalAccount("unity", "unity", "commercial", "unity_health", ("UHP",), "demo.biller"),
    PortalAccount("lakeshore", "lakeshore", "medicaid", "lakeshore_medicaid", ("LSM",), "DEMOBILL01"),
)
PORTAL_OF_PAYER = {payer: portal for portal in PORTALS for payer in portal.payers}
SITES = {p.site: p.prefix for p in PORTALS}  # the three portals: summit, unity, lakeshore
ACCOUNTS_NOTE = f"{len(PORTALS)} accounts, one per payer"


def claims_per_payer(claims: int) -> int:
    return max(1, math.ceil(claims / PAYERS_IN_DATA))


def start(claims: int) -> RunningPortal:
    """The fake portal with `claims` (rounded up to a multiple of 4) and no latency of its own."""
    return launcher.start(
        "--seed",
        str(SEED),
        "--start-date",
        date.today().isoformat(),
        "--claims-per-payer",
        str(claims_per_payer(claims)),
        "--medicaid-latency-ms",
        "0",
    )


@dataclass(frozen=True)
class Mark:
    """Where a measurement started: the fake portal server's CPU time so far, and the clock."""

    cpu_s: float
    at: float


def server_cpu_s(portal: RunningPortal) -> float:
    """User+system seconds the fake portal's server (its process and any children) has used so far."""
    try:
        root = psutil.Process(portal.process.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:  # gone between listing and reading
            continue
        total += times.user + times.system
    return total


def prepare(portal: RunningPortal, latency_ms: int) -> Mark:
    """Back to a fresh start (sessions, accounts, counters), then the same latency on every portal."""
    portal.admin("reset", {})
    for prefix in SITES.values():
        portal.admin(f"faults/{prefix}", {"latency_ms": latency_ms})
    return Mark(server_cpu_s(portal), time.monotonic())


def answer_ms(portal: RunningPortal, latency_ms: int, samples: int = 9) -> float:
    """The median time the fake portal takes to answer a page on a kept-alive connection, with `latency_ms` set:
    what every measurement below really waits per request, printed beside the latency asked for."""
    prepare(portal, latency_ms)
    timings = []
    with httpx.Client(base_url=portal.url, timeout=30) as client:
        for _ in range(samples + 1):  # the first answer on a new connection is no sample
            started = time.perf_counter()
            client.get(f"/{SITES['unity']}/login").raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings[1:])


@dataclass(frozen=True)
class Served:
    """What the fake portal counted since `prepare`, per portal (site: summit, unity, lakeshore)."""

    requests: dict[str, int]
    logins: dict[str, int] | None  # None: this fake portal does not count them
    stale_session_requests: dict[str, int] | None  # requests made with a session a newer sign-in had ended
    requests_by_kind: dict[str, dict[str, int]]  # per portal: its paths with ids as "*" -> requests
    portal_cpu_s: float  # the fake portal server's own CPU seconds since prepare()
    portal_wall_s: float  # seconds since prepare()

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def total_logins(self) -> int | None:
        return None if self.logins is None else sum(self.logins.values())


def path_kind(path: str) -> str:
    """A request path with its identifiers as "*" ("claims/detail/UHP1001" -> "claims/detail/*")."""
    return "/".join("*" if any(c.isdigit() for c in part) else part for part in path.split("/"))


def served(portal: RunningPortal, mark: Mark) -> Served:
    state = portal.admin("state")
    cpu_s, wall_s = server_cpu_s(portal) - mark.cpu_s, time.monotonic() - mark.at

    def by_site(values: Mapping[str, int] | None) -> dict[str, int] | None:
        return None if values is None else {site: int(values.get(prefix, 0)) for site, prefix in SITES.items()}

    requests = by_site(state["requests"])
    assert requests is not None
    by_path: dict[str, dict[str, int]] = state.get("requests_by_path") or {}
    kinds: dict[str, dict[str, int]] = {}
    for site, prefix in SITES.items():
        counted: Counter[str] = Counter()
        for path, n in (by_path.get(prefix) or {}).items():
            counted[path_kind(path)] += int(n)
        kinds[site] = dict(counted.most_common())
    return Served(
        requests,
        by_site(state.get("logins")),
        by_site(state.get("stale_session_requests")),
        kinds,
        round(cpu_s, 2),
        round(wall_s, 2),
    )


def claims_by_site(claims_by_account: Mapping[str, int]) -> dict[str, int]:
    """Claims per portal account (config name) added up per portal (site)."""
    site_of = {p.name: p.site for p in PORTALS}
    totals = dict.fromkeys(SITES, 0)
    for name, n in claims_by_account.items():
        if name in site_of:
            totals[site_of[name]] += n
    return totals


def export_claims(portal: RunningPortal, path: Path) -> Path:
    """The practice-management export (every claim), as the worker imports it."""
    path.write_bytes(httpx.get(f"{portal.url}/pms/claims.csv", timeout=30).raise_for_status().content)
    return path


def credentials(account: PortalAccount) -> Credentials:
    """The fake portal's synthetic account for this portal account."""
    found = next(a for a in DEFAULT_ACCOUNTS if a.portal == account.prefix and a.username == account.username)
    answers = (
        {found.security_question: found.security_answer} if found.security_question and found.security_answer else {}
    )
    return Credentials(found.username, found.password, found.totp_secret, answers)


def base_url(portal_url: str, account: PortalAccount) -> str:
    return f"{portal_url}/{account.prefix}"
