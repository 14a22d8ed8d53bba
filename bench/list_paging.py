"""`portal-worker claims` (one page) against `claims --limit 0` (every row) on 50,000 synthetic claims.

    python -m bench.list_paging [--claims 50000] [--runs 5] [--plain]

Writes a config and a claims export of synthetic claims (no patient is real) in a temporary
directory, imports it with `portal-worker import claims`, then times both list commands as whole
processes. With farm-bench on the PATH (and no --plain) it runs them in turn, paired, and prints its
report; otherwise each runs --runs times after a warm-up and the median wall seconds are printed.
Output goes to /dev/null: the figures are the worker's cost, not a terminal's.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fake_portal.data import npi_with_check_digit

ENTRY_POINT = Path(sys.executable).parent / "portal-worker"
COLUMNS = (
    *("claim_id", "payer_id", "member_id", "patient_name", "dos_from", "dos_to", "billed_amount"),
    *("submitted_date", "rendering_npi", "procedure_codes"),
)


def write_install(root: Path, claims: int) -> tuple[Path, Path]:
    config = root / "portal-worker.toml"
    config.write_text(
        f'[worker]\ndata_dir = "{root / "data"}"\n\n'
        '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://127.0.0.1:9/unity"\npayers = ["UHP"]\n'
    )
    served = date.today() - timedelta(days=30)
    npi = npi_with_check_digit("123456789")
    export = root / "claims.csv"
    with export.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for i in range(1, claims + 1):
            day = (served - timedelta(days=i % 60)).isoformat()
            row = (f"C{i:07d}", "UHP", f"M{i:08d}", f"Synthetic Patient {i}", day, day, f"{100 + i % 900}.00")
            writer.writerow((*row, served.isoformat(), npi, "99213"))
    return config, export


def plainly(argv: list[str], runs: int) -> float:
    """Median wall seconds of `argv` over `runs` runs after one warm-up."""
    seconds = []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i:
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plain", action="store_true", help="Time with this script even if farm-bench is there.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="list-paging-") as tmp:
        config, export = write_install(Path(tmp), args.claims)
        started = time.perf_counter()
        subprocess.run([str(ENTRY_POINT), "-c", str(config), "import", "claims", str(export)], check=True)
        print(f"import of {args.claims:,} claims: {time.perf_counter() - started:.1f} s")
        paged = [str(ENTRY_POINT), "-c", str(config), "claims"]
        everything = [*paged, "--limit", "0"]
        farm_bench = shutil.which("farm-bench")
        if farm_bench and not args.plain:
            vs = " ".join(everything)
            # every row of 50,000 took minutes a run on a loaded 2-core host: the longest bound farm-bench takes;
            # a run cut short is still reported, so its exit code is not an error here
            bound = "3600"
            subprocess.run([farm_bench, "-n", str(args.runs), "--timeout", bound, "--vs", vs, "--", *paged])
            return
        one_page, all_rows = plainly(paged, args.runs), plainly(everything, args.runs)
        print(f"claims (one page of 50): median {one_page:.2f} s over {args.runs} runs")
        print(f"claims --limit 0 (all {args.claims:,}): median {all_rows:.2f} s over {args.runs} runs")
        print(f"ratio: {all_rows / one_page:.1f}x")


if __name__ == "__main__":
    main()
