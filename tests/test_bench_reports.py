"""bench/reports.py runs end to end at a tiny size: a line per report, with its p50 and a verdict.

No timing is asserted: the figures are for a person to read (and vary with the machine's load)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from flows.reports import report_names


@pytest.mark.slow
def test_the_reports_bench_prints_a_line_per_report(tmp_path: Path) -> None:
    tiny = ["--claims", "300", "--denials", "40", "--repeat", "1", "--db", "sqlite", "--dir", str(tmp_path)]
    ran = subprocess.run(
        [sys.executable, "-m", "bench.reports", *tiny],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "sqlite, 300 claims, 40 open denials (p50 of 1 runs):" in ran.stdout
    for name in report_names():
        assert re.search(rf"^  {re.escape(name)} +[\d.]+ms  \(target 1 s\)  (PASS|FAIL)$", ran.stdout, re.M), ran.stdout
