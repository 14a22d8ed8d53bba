"""Run one measured program as a subprocess and sample its whole process tree.

Peak RSS is the largest sum of RSS over the tree seen in one sample (shared pages are
counted once per process, so it overstates what the tree really holds). CPU is the sum,
over every process ever seen, of its last-seen user+system time: what a process spent
after the last sample before it exited is missed. As a cross-check, the RUSAGE_CHILDREN
delta counts the processes of the tree that their parents reaped; with Chromium it comes out
at about half the sampled figure (its helper processes are not all waited for; on a plain
process tree the two agree within a sample), so the sampled figure is the one reported.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from worker.runtime.processes import kill_tree

SAMPLE_INTERVAL_S = 0.2
POLL_INTERVAL_S = 0.25
STOP_TIMEOUT_S = 120


@dataclass(frozen=True)
class Usage:
    peak_rss_mb: float
    cpu_s: float  # sampled: sum of per-process last-seen user+system
    cpu_s_rusage: float  # reaped descendants, from the kernel's accounting
    processes_seen: int
    samples: int


@dataclass(frozen=True)
class Measured:
    exit_code: int
    usage: Usage
    series: list[tuple[float, int, int, int]] = field(repr=False)  # TreeSampler.series
    wall_s: float  # spawn to exit
    stopped_by_us: bool  # SIGTERM once `done()` said so (the worker); else it exited by itself
    timed_out: bool


class TreeSampler(threading.Thread):
    """Samples the tree under one pid until stopped."""

    def __init__(self, pid: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        super().__init__(name=f"sampler-{pid}", daemon=True)
        self.root = psutil.Process(pid)
        self.interval_s = interval_s
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> user+system seconds
        self.peak_rss = 0
        self.samples = 0
        self.started = time.monotonic()
        # (seconds since start, RSS of the whole tree, RSS of the root process, processes in the tree)
        self.series: list[tuple[float, int, int, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval_s)

    def sample(self) -> None:
        try:
            tree = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        rss = root_rss = 0
        for process in tree:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    process_rss = process.memory_info().rss
                    self.cpu[(process.pid, process.create_time())] = times.user + times.system
            except psutil.Error:
                continue
            rss += process_rss
            if process is self.root:
                root_rss = process_rss
        self.peak_rss = max(self.peak_rss, rss)
        self.samples += 1
        self.series.append((time.monotonic() - self.started, rss, root_rss, len(tree)))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """The last resort: SIGKILL the program and everything it started (no Chromium left behind)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        kill_tree([psutil.Process(process.pid)])
    process.wait()


def run_measured(
    command: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    timeout_s: float,
    done: Callable[[], bool] | None = None,
) -> Measured:
    """Start `command`, sample its tree, and wait until it exits (or `done()`, then SIGTERM it)."""
    cpu_before = _children_cpu_s()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    started = time.monotonic()
    sampler = TreeSampler(process.pid)
    sampler.start()
    stopped_by_us = timed_out = False
    try:
        while process.poll() is None:
            timed_out = time.monotonic() - started > timeout_s
            if timed_out or (done is not None and done()):
                stopped_by_us = True
                process.send_signal(signal.SIGTERM)
                break
            time.sleep(POLL_INTERVAL_S)  # polling a child and a database; there is no event to wait on
        exit_code = process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            _kill_tree(process)
        sampler.stop()
    wall_s = time.monotonic() - started
    usage = Usage(
        peak_rss_mb=sampler.peak_rss / 2**20,
        cpu_s=sum(sampler.cpu.values()),
        cpu_s_rusage=_children_cpu_s() - cpu_before,
        processes_seen=len(sampler.cpu),
        samples=sampler.samples,
    )
    return Measured(exit_code, usage, sampler.series, wall_s, stopped_by_us, timed_out)
