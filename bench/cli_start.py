"""Start-up of the commands people type, each as a whole process, next to `python -c pass`.

    python -m bench.cli_start [--config demo-data/portal-worker.toml] [--runs 7]
                              [--baseline PATH --baseline-config CONFIG]

Runs each command --runs times after one warm-up run, alternating with `python -c pass` so the
ratio holds when the machine's speed drifts, and prints the median wall time of each and the
median of the paired ratios. The data comes from `make demo` (or --config). The read-only
commands run without the keyring key, as a billing lead would run them. With --baseline PATH,
the same commands also run from another checkout of portal-worker (PYTHONPATH=PATH, this
interpreter and its packages) on its own demo data (--baseline-config: a schema it knows), so before
and after are measured on the same machine at the same time. The baseline keeps the keyring key from
the environment: versions before 0.2 could not show `status` without it.

Bytecode is written and used as an installed package would (PYTHONDONTWRITEBYTECODE is unset):
otherwise each run would also pay for compiling the project.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = (("--help",), ("claims",), ("worklist",), ("alerts",), ("status",), ("schedule",))
START = "import sys; from worker.cli import main; sys.argv = ['portal-worker', *sys.argv[1:]]; main()"
KEY_ENVS = ("PORTAL_WORKER_KEYRING_KEY", "PORTAL_WORKER_KEYRING_KEY_FILE")


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    # run in the checkout that PYTHONPATH names: `python -c` puts the working directory first on sys.path
    done = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300, cwd=env.get("PYTHONPATH")
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv[3:])} failed (exit {done.returncode}): {done.stderr.decode()[-400:]}")
    return elapsed


def measure(command: tuple[str, ...], config: Path, runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(median seconds, median ratio to `python -c pass`), pair by pair."""
    argv = [sys.executable, "-c", START, "-c", str(config), *command]
    baseline = [sys.executable, "-c", "pass"]
    timed(argv, env)  # warm-up: bytecode written, files in the page cache
    seconds, ratios = [], []
    for _ in range(runs):
        ours, bare = timed(argv, env), timed(baseline, env)
        seconds.append(ours)
        ratios.append(ours / bare)
    return statistics.median(seconds), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("demo-data/portal-worker.toml"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout of portal-worker to measure beside this one")
    parser.add_argument("--baseline-config", type=Path, help="the baseline's own demo data (its config file)")
    args = parser.parse_args()
    for config in filter(None, (args.config, args.baseline_config)):
        if not config.exists():
            sys.exit(f"{config} does not exist: run `make demo` first, or give --config")
    if args.baseline and not args.baseline_config:
        sys.exit("--baseline needs --baseline-config: demo data made by that version")
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    keyless = {name: value for name, value in env.items() if name not in KEY_ENVS}
    trees = {"this checkout": (Path(__file__).resolve().parents[1], args.config.resolve(), keyless)}
    if args.baseline:
        trees["baseline"] = (args.baseline.resolve(), args.baseline_config.resolve(), env)
    bare = statistics.median(timed([sys.executable, "-c", "pass"], env) for _ in range(args.runs))
    print(f"python -c pass: {bare * 1000:.0f} ms (median of {args.runs}); wall time, median of {args.runs} runs")
    print(f"{'command':<20}" + "".join(f"{name:>28}" for name in trees))
    for command in COMMANDS:
        cells = []
        for tree, config, tree_env in trees.values():
            seconds, ratio = measure(command, config, args.runs, {**tree_env, "PYTHONPATH": str(tree)})
            cells.append(f"{seconds:7.2f} s {ratio:6.0f}x pass")
        print(f"{' '.join(command):<20}" + "".join(f"{cell:>28}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
