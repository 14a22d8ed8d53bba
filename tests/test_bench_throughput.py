"""bench/throughput.py's parts that can be tested without a full run: the PSS reader, the targets and their
verdicts, the command line, the 4 accounts, and the lower bound's reading of the claim lists.

No timing is asserted: the figures are for a person to read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import psutil
import pytest

from bench import fake, http_baseline, targets
from bench.measure import TreeSampler, busy_share, pss_bytes, run_measured, tree_pss_bytes
from bench.report import HTTP, NAIVE, WORKER, Row, table
from bench.throughput import SHIPPED_PACE_S, pages_per_claim_by_portal, parse_args, request_check
from bench.workspace import config_text
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from flows.claim_import import ClaimRecord, read_claims_csv
from worker.settings import PortalSettings, Settings

PORTAL_TODAY = date(2026, 11, 2)  # tests/conftest.py's FAKE_PORTAL_ARGS

# --- memory: PSS next to RSS --------------------------------------------------------------------------


def test_pss_of_this_process_is_read_from_smaps_rollup_and_is_at_most_its_rss() -> None:
    pss = pss_bytes(os.getpid())
    assert pss is not None
    assert 0 < pss <= psutil.Process().memory_info().rss


def test_a_process_gone_before_its_pss_is_read_is_skipped() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert pss_bytes(gone.pid) is None
    mine = pss_bytes(os.getpid()) or 0
    assert 0 < tree_pss_bytes([os.getpid(), gone.pid]) < 2 * mine


def test_the_sampler_keeps_the_peak_pss_and_the_peak_rss_of_the_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        sampler = TreeSampler(os.getpid())
        sampler.sample()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    sample = sampler.series[-1]
    assert sample.processes >= 2
    assert 0 < sample.root_pss <= sample.pss <= sample.rss
    assert sampler.peak_pss == sample.pss and sampler.peak_rss == sample.rss


def test_a_measured_run_reports_peak_pss_peak_rss_and_how_busy_the_machine_was(tmp_path: Path) -> None:
    measured = run_measured(
        [sys.executable, "-c", "import time; time.sleep(0.5)"],
        env=dict(os.environ),
        cwd=tmp_path,
        log_path=tmp_path / "run.log",
        timeout_s=60,
    )
    usage = measured.usage
    assert measured.exit_code == 0 and usage.samples >= 1
    assert 0 < usage.peak_pss_mb <= usage.peak_rss_mb
    assert usage.machine_busy_share is not None and 0 <= usage.machine_busy_share <= 1
    assert busy_share((10.0, 100.0), (40.0, 200.0)) == 0.3
    assert busy_share((10.0, 100.0), (10.0, 100.0)) is None


# --- targets and verdicts -----------------------------------------------------------------------------


def _worker(
    runners: int, per_min: float, pss: float, *, pages: int = 100, cpu_s: float = 10, wall_s: float = 100
) -> Row:
    claims = 100
    return Row(
        WORKER,
        runners,
        "SQLite",
        claims,
        claims / per_min * 60,
        pages,
        pss,
        pss * 3,
        cpu_s,
        pace_s=0,
        details={"wall_s": wall_s, "portal_cpu_s": 5},
    )


def _baseline(name: str, per_min: float) -> Row:
    return Row(name, None, "-", 30, 30 / per_min * 60, 90, 100, 100, 3)


class Found:
    """The verdicts of one set of rows, looked up by how their target and measurement begin."""

    def __init__(self, rows: list[Row], n_cores: int = 2) -> None:
        self.all = targets.verdicts(rows, _baseline(NAIVE, 10), _baseline(HTTP, 200), n_cores)

    def __getitem__(self, key: tuple[str, str]) -> targets.Verdict:
        target, of = key
        (found,) = [v for v in self.all if v.target.startswith(target) and v.of.startswith(of)]
        return found


def test_each_target_is_printed_with_its_figure_and_whether_it_is_met() -> None:
    one, four = _worker(1, 170, 400), _worker(4, 640, 560, pages=130)
    found = Found([one, four])
    assert found[("claims/min vs naive", "1 runner(s)")].verdict == targets.MET  # 17x
    assert found[("claims/min vs HTTP", "1 runner(s)")].verdict == targets.MET  # 0.85x
    assert found[("pages per claim", "1 runner(s)")].verdict == targets.MET  # 1.0
    assert found[("pages per claim", "4 runner(s)")].verdict == targets.NOT_MET  # 1.3
    memory = found[("peak PSS at 4 runners / at 1", "SQLite")]
    assert (memory.measured, memory.verdict) == (1.4, targets.MET)
    scaling = found[("scaling 1 -> 4 runners", "SQLite")]
    assert scaling.measured == 0.94 and scaling.verdict.startswith("met (latency-bound")
    line = found[("claims/min vs naive", "4 runner(s)")].line()
    assert line == "  claims/min vs naive (4 runner(s), SQLite): 64.0x (target >= 10x): met"


def test_scaling_is_not_judged_when_the_cores_were_the_bottleneck() -> None:
    one, four = _worker(1, 100, 400), _worker(4, 150, 900, cpu_s=191, wall_s=100)
    found = Found([one, four])
    scaling = found[("scaling 1 -> 4 runners", "SQLite")]
    assert scaling.measured == 0.38
    assert scaling.verdict.startswith("not judged: CPU-bound (1.91 worker + 0.05 fake portal")
    assert found[("peak PSS at 4 runners / at 1", "SQLite")].verdict == targets.NOT_MET
    limits = targets.bottleneck(four, 2)
    assert limits is not None and (limits.bound, limits.busy_share) == ("CPU", 0.98)
    relaxed = targets.bottleneck(one, 8)
    assert relaxed is not None and relaxed.bound == "portal latency"


def test_a_machine_busy_with_other_load_makes_the_run_cpu_bound_even_when_the_worker_used_little() -> None:
    one, four = _worker(1, 100, 400), _worker(4, 150, 500, cpu_s=51, wall_s=100)
    four.details["machine_busy_share"] = 0.97  # others' processes held the cores
    limits = targets.bottleneck(four, 2)
    assert limits is not None and (limits.busy_share, limits.bound) == (0.28, "CPU")
    verdict = Found([one, four])[("scaling 1 -> 4 runners", "SQLite")].verdict
    assert verdict == (
        "not judged: CPU-bound (0.51 worker + 0.05 fake portal CPU s per s on 2 cores = 28%; the machine 97% busy)"
    )


def test_one_runner_using_a_whole_core_is_cpu_bound_on_a_machine_with_more() -> None:
    one = _worker(1, 191, 839, cpu_s=98, wall_s=100)  # what a single runner did on 2 cores: its own work is serial
    limits = targets.bottleneck(one, 2)
    assert limits is not None and (limits.busy_share, limits.runners_share, limits.bound) == (0.52, 0.98, "CPU")
    assert limits.why() == (
        "0.98 worker + 0.05 fake portal CPU s per s on 2 cores = 52%; 98% of the cores its runners can use"
    )
    two = _worker(2, 191, 839, cpu_s=98, wall_s=100)  # two runners could have used both cores
    relaxed = targets.bottleneck(two, 2)
    assert relaxed is not None and relaxed.bound == "portal latency"


def test_the_paced_run_is_its_own_row_and_is_left_out_of_the_targets() -> None:
    paced = Row(WORKER, 4, "SQLite", 100, 60, 100, 500, 1500, 10, pace_s=0.5, details={"wall_s": 70})
    assert paced.label == "4 runner(s), SQLite, pace 0.5 s"
    assert Found([paced]).all == []
    shown = table([paced, _baseline(HTTP, 200)])
    header, _, row, baseline = shown.splitlines()
    assert "pace s" in header and "peak PSS MB" in header and "peak RSS MB" in header
    assert row.split()[:5] == ["portal-worker", "4", "SQLite", "0.5", "100"]
    assert baseline.split()[3:5] == ["-", "-"]


# --- the command line ---------------------------------------------------------------------------------


def test_quick_is_a_small_run_unpaced_with_one_more_at_the_shipped_pacing() -> None:
    args = parse_args(["--quick", "--skip-postgres", "--out", "/tmp/x"])
    assert (args.claims, args.curve, args.naive_sample, args.pace_seconds) == (40, [1, 2], 6, 0.0)
    assert PortalSettings.model_fields["pace_seconds"].default == SHIPPED_PACE_S
    full = parse_args(["--runners-curve", "8,1,4"])
    assert (full.claims, full.curve, full.naive_sample) == (500, [1, 4, 8], 30)


# --- 4 accounts, one per payer ------------------------------------------------------------------------


def test_the_bench_configures_one_account_per_payer(tmp_path: Path) -> None:
    assert sorted(p for account in fake.PORTALS for p in account.payers) == ["BBH", "LSM", "NWM", "UHP"]
    clearinghouse = [a for a in DEFAULT_ACCOUNTS if a.portal == "clearinghouse"]
    assert len({a.username for a in clearinghouse}) == 2 and all(a.totp_secret for a in clearinghouse)
    logins = {fake.credentials(account).username for account in fake.PORTALS if account.site == "summit"}
    assert logins == {a.username for a in clearinghouse}
    config = tmp_path / "portal-worker.toml"
    config.write_text(
        config_text("http://127.0.0.1:9", tmp_path / "data", "sqlite:///x.db", runners=4, batch_size=25, pace_seconds=0)
    )
    portals = Settings.load(config).portals
    assert {name: p.payers for name, p in portals.items()} == {
        "summit_nwm": ["NWM"],
        "summit_bbh": ["BBH"],
        "unity": ["UHP"],
        "lakeshore": ["LSM"],
    }


def test_pages_per_claim_are_counted_per_portal_over_all_its_accounts() -> None:
    served = fake.Served({"summit": 60, "unity": 12, "lakeshore": 0}, None, None, {}, 1.0, 2.0)
    by_portal = pages_per_claim_by_portal(served, {"summit_nwm": 25, "summit_bbh": 25, "unity": 10, "lakeshore": 0})
    assert by_portal == {"summit": 1.2, "unity": 1.2, "lakeshore": None}
    assert fake.path_kind("claims/detail/UHP1001") == "claims/detail/*"


def test_only_the_login_requests_are_compared_with_the_browser() -> None:
    login = [["GET", "/commercial/login"], ["POST", "/commercial/login"]]
    browser = {"unity": {"login": login, "claim": [["GET", "/commercial/claims"]]}}
    assert request_check(browser, {"unity": login}) == []
    assert request_check(browser, {"unity": login[:1]})[0].startswith("unity: the browser's login requested")


# --- the lower bound reads the lists ------------------------------------------------------------------


def _claim(dos_from: date, dos_to: date) -> ClaimRecord:
    return ClaimRecord("C1", "UHP", "M1", "Synthetic Patient", dos_from, dos_to, Decimal(1), dos_to, "1234567893")


def test_the_lower_bound_lists_each_calendar_month_holding_a_service_date() -> None:
    records = [
        _claim(date(2026, 3, 5), date(2026, 3, 5)),
        _claim(date(2026, 1, 30), date(2026, 2, 2)),  # spans two months: both are listed
        _claim(date(2026, 3, 31), date(2026, 3, 31)),
        _claim(date(2025, 12, 31), date(2025, 12, 31)),
    ]
    assert http_baseline.months(records) == [
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
    ]


SUMMIT_PAGE = """<table><tr><th>Patient control no.</th><th></th></tr>
<tr><td>PCN-1</td><td><a class="sx-link" href="/clearinghouse/claims/NW1?from=list">View claim</a></td></tr>
<tr><td>PCN-2 &amp;</td><td><a href="../claims/NW2">View claim</a></td></tr></table>
<a class="sx-pager sx-pager-next" href="?serviceFrom=2026-01-01&amp;page=2">Next</a>"""
LAKESHORE_PAGE = """<table><tr><td><a href="/medicaid/claims/detail?tcn=T1">T1</a></td><td>PCN-3</td></tr></table>
<a href="/medicaid/claims/list?page=1">Previous</a> <a href="/medicaid/claims/list?page=3">Next &raquo;</a>"""


def test_list_rows_are_read_by_their_detail_links_and_pages_by_their_next_links() -> None:
    summit = http_baseline.row_links(SUMMIT_PAGE, re.compile("View claim"))
    assert summit["PCN-1"] == "/clearinghouse/claims/NW1?from=list" and summit["PCN-2 &"] == "../claims/NW2"
    assert http_baseline._summit_next(SUMMIT_PAGE) == "?serviceFrom=2026-01-01&page=2"
    assert http_baseline._summit_next(SUMMIT_PAGE.replace("sx-pager-next", "")) is None
    lakeshore = http_baseline.row_links(LAKESHORE_PAGE, None)
    assert lakeshore["PCN-3"] == lakeshore["T1"] == "/medicaid/claims/detail?tcn=T1"
    assert http_baseline._lakeshore_next(LAKESHORE_PAGE) == "/medicaid/claims/list?page=3"


def _records(portal: RunningPortal, tmp_path: Path, account: fake.PortalAccount) -> list[ClaimRecord]:
    path = fake.export_claims(portal, tmp_path / "claims.csv")
    return [r for r in read_claims_csv(path, PORTAL_TODAY) if fake.PORTAL_OF_PAYER[r.payer_id] is account]


def test_the_lower_bound_reads_unity_from_its_csv_month_by_month_and_opens_each_listed_claim(
    fake_portal: RunningPortal, tmp_path: Path
) -> None:
    unity = next(a for a in fake.PORTALS if a.name == "unity")
    records = _records(fake_portal, tmp_path, unity)
    outcomes: Counter[str] = Counter()
    session = http_baseline.Session(fake_portal.url, unity)
    with session.client:
        login = http_baseline.check_account(session, records, outcomes)
    assert login[0] == ("GET", "/commercial/login") and ("POST", "/commercial/notice") in login
    assert outcomes["found"] > 0 and sum(outcomes.values()) == len(records)
    paths: dict[str, int] = fake_portal.admin("state")["requests_by_path"]["commercial"]
    assert paths["claims/export.csv"] == len(http_baseline.months(records))
    assert sum(n for path, n in paths.items() if path.startswith("claims/detail/")) == outcomes["found"]
    assert not any(path in ("claims", "claims/results") for path in paths)  # no search, claim by claim


def test_the_lower_bound_names_a_claim_list_the_portal_does_not_have(fake_portal: RunningPortal) -> None:
    summit = next(a for a in fake.PORTALS if a.name == "summit_bbh")
    session = http_baseline.Session(fake_portal.url, summit)
    with session.client:
        session.login()
        with pytest.raises(http_baseline.ListMissing, match="summit_bbh: GET /clearinghouse/no-such-claim-list an"):
            session.listing(f"{session.base}/no-such-claim-list")


def test_each_summit_account_keeps_its_own_session(fake_portal: RunningPortal) -> None:
    sessions = [http_baseline.Session(fake_portal.url, a) for a in fake.PORTALS if a.site == "summit"]
    for session in sessions:
        session.login()
    try:
        for session in sessions:  # the second sign-in did not end the first one's session
            page = session.client.get(f"{session.base}/dashboard")
            assert page.status_code == 200 and not page.url.path.endswith("/login")
    finally:
        for session in sessions:
            session.client.close()
    state = fake_portal.admin("state")
    assert state["stale_session_requests"]["clearinghouse"] == 0
