"""structlog JSON logs with secrets and PHI taken out before anything is written.

Two guards: fields whose *name* says secret or PHI are replaced, and every
secret value the worker has loaded (passwords, TOTP secrets, answers) is
scrubbed from every string, which catches exception texts that echo typed input.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, WrappedLogger

from portals.types import Credentials

REDACTED = "[redacted]"
SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|totp|otp|answer|cookie|authorization|patient|member|dob|birth|ssn",
    re.IGNORECASE,
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret so it is scrubbed from any log line that would contain it."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def register_credentials(credentials: Credentials) -> None:
    """Every secret of one portal account: password, TOTP secret and security answers."""
    for secret in (credentials.password, credentials.totp_secret, *credentials.security_answers.values()):
        register_secret(secret)


def scrub(text: str) -> str:
    """`text` with every registered secret replaced."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: REDACTED if SENSITIVE_KEY.search(str(k)) else _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: runs last before rendering, after tracebacks became dicts."""
    return {
        key: REDACTED if key != "event" and SENSITIVE_KEY.search(key) else _scrub_value(value)
        for key, value in event_dict.items()
    }


def configure(level: str = "info", log_file: Path | None = None, stream: TextIO | None = None) -> None:
    """JSON lines to `log_file` (created 0600) or `stream` (default stderr)."""
    if log_file is not None:
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        log_file.touch(mode=0o600, exist_ok=True)
        stream = log_file.open("a", encoding="utf-8")
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
