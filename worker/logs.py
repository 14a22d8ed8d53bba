"""structlog JSON logs, with secrets and PHI taken out (security.redaction) before anything is written."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from worker.security.redaction import redact


def configure(level: str = "info", log_file: Path | None = None, stream: TextIO | None = None) -> None:
    """JSON lines to `log_file` (created 0600) or `stream` (default stderr).

    A log file this user cannot write (a read-only data directory) sends the lines to stderr instead:
    a command that only reads must still work, and one that writes says why it cannot."""
    if log_file is not None:
        try:
            log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            log_file.touch(mode=0o600, exist_ok=True)
            stream = log_file.open("a", encoding="utf-8")
        except OSError:
            stream = None
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # show_locals=False: a local called `password` must never reach a log
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            redact,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
