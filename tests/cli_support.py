"""`portal-worker` in tests: in this process through Typer's CliRunner, or as a real process.

In-process is the default: a command then costs what its work costs, not an interpreter's
start-up. It goes through the same command group as the `portal-worker` script, which turns
a person's error into a message on stderr and exit code 2, with the same umask, and it leaves
this process as it found it: environment, working directory, umask and logging.

A real process is for what only a process shows: signals, kill -9, several hosts, the demo,
the installed entry point, and what a process leaves behind on disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog
from typer.testing import CliRunner

from worker.cli import app
from worker.cli.app import UMASK

# The installed `portal-worker` script of the interpreter running the tests.
ENTRY_POINT = Path(sys.executable).parent / "portal-worker"


@dataclass(frozen=True)
class Ran:
    """What a person sees of one command: its exit code and what it printed on each stream."""

    returncode: int
    stdout: str
    stderr: str


def portal_worker(
    *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None
) -> Ran:
    """`portal-worker ARGS` in this process, with `env` on top of this process's environment."""
    with chdir(cwd or Path.cwd()), _umask(UMASK), _logging_restored():
        result = CliRunner().invoke(app, list(args), input=stdin, env=dict(env or {}))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug, not a person's error: the test shows its traceback
    return Ran(result.exit_code, result.stdout, result.stderr)


def portal_worker_process(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout_s: float = 300,
) -> Ran:
    """`portal-worker ARGS` as a separate process of the installed entry point."""
    done = subprocess.run(
        [str(ENTRY_POINT), *args],
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=cwd,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@contextmanager
def _logging_restored() -> Iterator[None]:
    """Commands point structlog at their install's log file and bind context; the next test must not log
    there, or with that context."""
    before = structlog.get_config() if structlog.is_configured() else None
    bound = structlog.contextvars.get_contextvars()
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**bound)
        opened = getattr(structlog.get_config()["logger_factory"], "_file", None)
        if before is None:
            structlog.reset_defaults()
        else:
            structlog.configure(**before)
        kept = getattr(before["logger_factory"], "_file", None) if before else None
        if (
            opened is not None
            and opened is not kept
            and opened not in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        ):
            opened.close()
