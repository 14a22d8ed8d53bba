"""Secrets and PHI taken out of everything the worker writes: log lines, evidence, error texts.

Two guards: fields whose *name* says secret or PHI are replaced, and every secret value
the worker has loaded (passwords, TOTP secrets, answers) is scrubbed from every string,
which catches exception texts that echo typed input.
"""

from __future__ import annotations

import re
import threading
from typing import Any

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
