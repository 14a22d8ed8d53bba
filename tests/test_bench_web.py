"""bench/web.py runs end to end at a tiny size: store built, workspace served, logged in, every page asked for.

No timing is asserted: the figures are for a person to read (and vary with the machine's load)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bench.web_store import build
from store.claims import list_claims
from store.db import make_engine, session_scope, sqlite_url
from store.denials import list_denials
from tests.web_support import RunningWorkspace

PAGES = (
    "Login form (the floor)",
    "Today",
    "Search: patient surname",
    "Search: claim id prefix",
    "Search: member id",
    "Search: check number",
    "Search: payer filter",
    "Claim (with a denial)",
    "Worklist",
    "Worklist: owner coding",
)


@pytest.mark.slow
def test_the_web_bench_prints_a_line_per_page_at_each_size(tmp_path: Path) -> None:
    tiny = ["--claims", "300", "--denials", "40", "--baseline-claims", "60", "--baseline-denials", "8"]
    quick = ["--repeat", "2", "--warmup", "1", "--db", "sqlite", "--dir", str(tmp_path)]
    ran = subprocess.run(
        [sys.executable, "-m", "bench.web", *tiny, *quick],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    for size in ("60 claims, 8 open denials", "300 claims, 40 open denials"):
        section = ran.stdout.split(f"sqlite, {size}:", 1)[1]
        for page in PAGES:
            # figures and a verdict, or why there are none (a page not built yet answers 404)
            line = re.search(rf"^  {re.escape(page)} +(missing|HTTP \d+|[\d.]+ms .*(PASS|FAIL))$", section, re.M)
            assert line, f"no line for {page!r} in:\n{section}"
    floor = re.search(
        r"^  Login form \(the floor\) +[\d.]+ms +[\d.]+ms +[\d.]+ms +[\d.]+ms  (PASS|FAIL)$", ran.stdout, re.M
    )
    assert floor, ran.stdout  # the one page that is always there is timed through its Server-Timing header
    assert "server p50 at 300 claims over 60 claims" in ran.stdout


def test_the_synthetic_store_has_what_it_was_asked_for(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    build(url, claims=120, denials=30)
    engine = make_engine(url)
    with session_scope(engine) as session:
        claims = list_claims(session)
        denials = list_denials(session, statuses=["open"])
    engine.dispose()
    assert len(claims) == 120 and {c.payer_id for c in claims} == {"NWM", "BBH", "UHP", "LSM"}
    assert len(denials) == 30 and all(d.claim_id and d.carc and d.owner for d in denials)


def test_every_response_says_its_server_time(empty_web: RunningWorkspace) -> None:
    for path in ("/login", "/static/app.css", "/no-such-page"):  # a page, a static file, a 404
        response = httpx.get(f"{empty_web.url}{path}", timeout=10)
        timing = re.fullmatch(r"app;dur=(\d+\.\d)", response.headers.get("server-timing", ""))
        assert timing, (path, response.headers)
