"""A `check` killed (SIGKILL, a crash, a reboot) never finishes its check_run row: mark it interrupted.

Only this host can tell whether one of its processes is alive, so each host marks only its own runs,
and only those whose process is gone: a pid alive with another start time is a reused pid, not the run.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import psutil
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.runs import mark_interrupted, open_runs_on
from worker.clock import utcnow

# psutil's start times come from the boot time and clock ticks: the same process reads the same
# within this, a process started later than the killed one reads later.
SAME_START_S = 0.05


@dataclass(frozen=True)
class ThisProcess:
    host: str
    pid: int
    started: float


def this_process() -> ThisProcess:
    return ThisProcess(socket.gethostname(), os.getpid(), psutil.Process().create_time())


def is_running(pid: int, started: float | None) -> bool:
    """Is the process that recorded (pid, started) still running on this host?"""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        created = process.create_time()
    except psutil.Error:
        return False
    return started is None or abs(created - started) <= SAME_START_S


def mark_interrupted_checks(engine: Engine) -> int:
    """Mark this host's unfinished checks whose process is gone as interrupted; how many were.

    Reads only when there is nothing to mark, so `status` still works on a read-only store."""
    host = socket.gethostname()
    with session_scope(engine) as session:
        gone = [
            run.id for run in open_runs_on(session, host) if run.pid and not is_running(run.pid, run.process_started)
        ]
    if gone:
        with session_scope(engine) as session:
            for run_id in gone:
                mark_interrupted(session, run_id, utcnow())
    return len(gone)
