"""Logs are JSON and never carry a secret or PHI, even inside an exception's text."""

from __future__ import annotations

import io
import json

import structlog

from worker import logs
from worker.security import redaction


def test_secret_fields_and_registered_secret_values_are_redacted() -> None:
    stream = io.StringIO()
    logs.configure("info", stream=stream)
    redaction.register_secret("Hunter2-Canary-Secret")
    log = structlog.get_logger()
    structlog.contextvars.bind_contextvars(claim_id="PW100001")
    try:
        password = "Hunter2-Canary-Secret"  # noqa: F841  (a local that must not be shown)
        raise RuntimeError("fill failed typing 'Hunter2-Canary-Secret' into #pw")
    except RuntimeError:
        log.exception(
            "login_failed",
            password="Hunter2-Canary-Secret",
            patient_name="DOE, JANE",
            member_id="M123456789",
            portal="unity",
        )
    finally:
        structlog.contextvars.clear_contextvars()
    line = stream.getvalue()
    record = json.loads(line)
    assert "Hunter2-Canary-Secret" not in line
    assert "DOE, JANE" not in line and "M123456789" not in line
    assert record["portal"] == "unity" and record["claim_id"] == "PW100001"
    assert record["event"] == "login_failed" and record["exception"]


def test_every_secret_of_an_account_is_scrubbed_security_answers_included() -> None:
    from portals.types import Credentials

    redaction.register_credentials(
        Credentials("biller", "Pw-Canary-0001", "TOTPCANARYSECRET0001", {"First practice?": "Answer-Canary-0001"})
    )
    text = "typed Pw-Canary-0001 then TOTPCANARYSECRET0001 then Answer-Canary-0001"
    assert redaction.scrub(text) == "typed [redacted] then [redacted] then [redacted]"
