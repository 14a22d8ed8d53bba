"""The runners' Chromium processes: tagged at launch so they can be measured, killed and reaped.

Every browser the worker launches carries `--portal-worker-owner=<install>:<pid>:<runner>`
(Chromium ignores switches it does not know). The tag names the data directory's install,
the worker process and the runner, so a restarted worker can tell its own orphans (whose
worker pid is gone, e.g. after `kill -9`) from browsers of a live worker or of anyone else.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import psutil
import structlog

log = structlog.get_logger(__name__)

MARKER = "--portal-worker-owner="


def install_tag(data_dir: Path) -> str:
    return hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:12]


def marker_arg(data_dir: Path, runner: str, pid: int | None = None) -> str:
    return f"{MARKER}{install_tag(data_dir)}:{pid or os.getpid()}:{runner}"


def _marker_of(process: psutil.Process) -> tuple[str, int, str] | None:
    try:
        for arg in process.cmdline():
            if arg.startswith(MARKER):
                tag, pid, runner = arg[len(MARKER) :].split(":", 2)
                return tag, int(pid), runner
    except (psutil.Error, ValueError):
        return None
    return None


def tagged_browsers(data_dir: Path, *, pid: int | None = None, runner: str | None = None) -> list[psutil.Process]:
    """Browser (main) processes launched for this install, optionally by one worker pid or runner."""
    tag = install_tag(data_dir)
    found = []
    for process in psutil.process_iter():
        marker = _marker_of(process)
        if (
            marker
            and marker[0] == tag
            and (pid is None or marker[1] == pid)
            and (runner is None or marker[2] == runner)
        ):
            found.append(process)
    return found


def with_descendants(processes: list[psutil.Process]) -> list[psutil.Process]:
    tree: dict[int, psutil.Process] = {}
    for process in processes:
        try:
            tree[process.pid] = process
            tree.update({child.pid: child for child in process.children(recursive=True)})
        except psutil.Error:
            continue
    return list(tree.values())


def rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in with_descendants(processes):
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def kill_tree(processes: list[psutil.Process]) -> int:
    """SIGKILL the processes and their descendants; returns how many were signalled."""
    victims = with_descendants(processes)
    for process in victims:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(victims, timeout=5)
    return len(victims)


def reap_orphans(data_dir: Path) -> int:
    """Kill browsers of this install whose worker process is gone (left behind by a crash or kill -9)."""
    orphans = []
    for process in tagged_browsers(data_dir):
        marker = _marker_of(process)
        if marker is None:
            continue
        owner = marker[1]
        if not _alive(owner):
            orphans.append(process)
    killed = kill_tree(orphans) if orphans else 0
    if killed:
        log.warning("orphan_browsers_reaped", processes=killed)
    return killed


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
