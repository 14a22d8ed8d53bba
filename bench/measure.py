"""Run one measured program as a subprocess and sample its whole process tree.

Memory, per sample, summed over every process of the tree: PSS (the `Pss:` line of
/proc/PID/smaps_rollup: each shared page is split between the processes that map it, so the
sum is what the tree really holds) and RSS (each process's resident pages in full: Chromium's
renderers, GPU and utility processes share most of their pages, which RSS counts once per
process, so the sum overstates). The peak of each is the largest per-sample sum; PSS is the
headline, RSS is kept for comparison. A process gone between listing and reading is skipped.
CPU is the sum,
over every process ever seen, of its last-seen user+system time: what a process spent
after the last sample before it exited is missed. As a cross-check, the RUSAGE_CHILDREN
delta counts the processes of the tree that their parents reaped; with Chromium it comes out
at about half the sampled figure (its helper processes are not all waited for; on a plain
process tree the two agree within a sample), so the sampled figure is the one reported.
The whole machine's CPU (every process, ours or not) is read at spawn and at exit too: the
share of that time the cores were busy, to tell a run the cores held back from one the
portals' latency did, even when other load took the cores.
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
from typing import NamedTuple

import psutil

from worker.runtime.processes import kill_tree

SAMPLE_INTERVAL_S = 0.2
POLL_INTERVAL_S = 0.25
STOP_TIMEOUT_S = 120


def pss_bytes(pid: int) -> int | None:
    """The process's proportional set size (`Pss:` of /proc/PID/smaps_rollup) in bytes; None when the
    process is gone (or a zombie, whose file is empty) or the file cannot be read."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone between listing and reading (ENOENT, ESRCH), or not ours to read
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024  # the kernel writes kB
    return None


def tree_pss_bytes(pids: list[int]) -> int:
    """PSS summed over the processes; those that vanished meanwhile are skipped."""
    return sum(found for pid in pids if (found := pss_bytes(pid)) is not None)


class Sample(NamedTuple):
    """One sample of the tree (bytes)."""

    at_s: float  # seconds since the sampler started
    rss: int  # RSS summed over the tree
    root_rss: int  # RSS of the root process alone
    processes: int  # processes in the tree
    pss: int  # PSS summed over the tree
    root_pss: int


@dataclass(frozen=True)
class Usage:
    peak_pss_mb: float  # the headline: the largest per-sample sum of PSS over the tree
    peak_rss_mb: float  # the same with RSS (overstates: shared pages once per process)
    cpu_s: float  # sampled: sum of per-process last-seen user+system
    cpu_s_rusage: float  # reaped descendants, from the kernel's accounting
    processes_seen: int
    samples: int
    machine_busy_share: float | None = None  # of all the machine's CPU time while it ran, the busy part


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (idle and I/O wait are not busy)."""
    times = psutil.cpu_times()
    total = sum(times)
    return total - times.idle - getattr(times, "iowait", 0.0), total


def busy_share(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    busy, total = after[0] - before[0], after[1] - before[1]
    return round(busy / total, 3) if total > 0 else None


@dataclass(frozen=True)
class Measured:
    exit_code: int
    usage: Usage
    series: list[Sample] = field(repr=False)  # TreeSampler.series
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
        self.peak_rss = self.peak_pss = 0
        self.samples = 0
        self.started = time.monotonic()
        self.series: list[Sample] = []
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
        rss = root_rss = pss = root_pss = 0
        for process in tree:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    process_rss = process.memory_info().rss
                    self.cpu[(process.pid, process.create_time())] = times.user + times.system
            except psutil.Error:
                continue
            process_pss = pss_bytes(process.pid)
            if process_pss is None:  # it exited after its RSS was read: leave it out of both sums
                continue
            rss += process_rss
            pss += process_pss
            if process is self.root:
                root_rss, root_pss = process_rss, process_pss
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.samples += 1
        self.series.append(Sample(time.monotonic() - self.started, rss, root_rss, len(tree), pss, root_pss))

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
    cpu_before, machine_before = _children_cpu_s(), _machine_cpu()
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
        peak_pss_mb=sampler.peak_pss / 2**20,
        peak_rss_mb=sampler.peak_rss / 2**20,
        cpu_s=sum(sampler.cpu.values()),
        cpu_s_rusage=_children_cpu_s() - cpu_before,
        processes_seen=len(sampler.cpu),
        samples=sampler.samples,
        machine_busy_share=busy_share(machine_before, _machine_cpu()),
    )
    return Measured(exit_code, usage, sampler.series, wall_s, stopped_by_us, timed_out)
