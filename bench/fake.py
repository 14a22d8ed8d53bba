"""The fake portal as the bench drives it: one server, reset and slowed the same way before each measurement.

What counts as a request (and so as a "page"): every HTTP request one of the three portals
served: documents, form posts, redirect hops and the clearinghouse's JSON API calls. Static
CSS/JS under <portal>/static is neither counted nor slowed by the fake portal; images and fonts
are blocked by the worker and the portals have none anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from fake_portal import launcher
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.types import Credentials

SEED = 7
PAYERS_IN_DATA = 4  # NWM, BBH (clearinghouse), UHP (commercial), LSM (medicaid)


@dataclass(frozen=True)
class PortalAccount:
    """One portal as the worker's config names it, with its fake-portal prefix and account."""

    name: str  # config name
    prefix: str  # fake portal path prefix
    adapter: str
    payers: tuple[str, ...]


PORTALS = (
    PortalAccount("summit", "clearinghouse", "summit_exchange", ("NWM", "BBH")),
    PortalAccount("unity", "commercial", "unity_health", ("UHP",)),
    PortalAccount("lakeshore", "medicaid", "lakeshore_medicaid", ("LSM",)),
)
PORTAL_OF_PAYER = {payer: portal for portal in PORTALS for payer in portal.payers}


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


def prepare(portal: RunningPortal, latency_ms: int) -> None:
    """Back to a fresh start (sessions, accounts, counters), then the same latency on every portal."""
    portal.admin("reset", {})
    for account in PORTALS:
        portal.admin(f"faults/{account.prefix}", {"latency_ms": latency_ms})


@dataclass(frozen=True)
class Served:
    """What the fake portal counted, per portal config name."""

    requests: dict[str, int]
    logins: dict[str, int] | None  # None: this fake portal does not count them
    stale_session_requests: dict[str, int] | None  # requests made with a session a newer sign-in had ended

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def total_logins(self) -> int | None:
        return None if self.logins is None else sum(self.logins.values())


def served(portal: RunningPortal) -> Served:
    state = portal.admin("state")

    def by_name(values: dict[str, int] | None) -> dict[str, int] | None:
        return None if values is None else {p.name: int(values.get(p.prefix, 0)) for p in PORTALS}

    requests = by_name(state["requests"])
    assert requests is not None
    return Served(requests, by_name(state.get("logins")), by_name(state.get("stale_session_requests")))


def export_claims(portal: RunningPortal, path: Path) -> Path:
    """The practice-management export (every claim), as the worker imports it."""
    path.write_bytes(httpx.get(f"{portal.url}/pms/claims.csv", timeout=30).raise_for_status().content)
    return path


def credentials(account: PortalAccount) -> Credentials:
    """The fake portal's synthetic account for this portal."""
    found = next(a for a in DEFAULT_ACCOUNTS if a.portal == account.prefix)
    answers = (
        {found.security_question: found.security_answer} if found.security_question and found.security_answer else {}
    )
    return Credentials(found.username, found.password, found.totp_secret, answers)


def base_url(portal_url: str, account: PortalAccount) -> str:
    return f"{portal_url}/{account.prefix}"
