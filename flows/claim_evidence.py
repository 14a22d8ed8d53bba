"""Evidence on first sight: the page a payer showed when a claim's status, payment or denials first changed.

A denial is appealed with what the payer said at the time, so the worker keeps the claim's page (HTML, and the
page whole as an MHTML archive) the first time it shows something new, and links the observation to it; the
worker prints the archive into a PDF and a screenshot once it has nothing to check, off the check's own path.
A check that changed nothing, or that shows the same denial again, keeps nothing: the observation is recorded
only on a change.
A snapshot that fails never costs the observation: it is recorded first, the evidence linked after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from flows.kept_evidence import KeepsEvidence
from portals.capabilities import PortalSession
from store.db import session_scope
from store.evidence import link_observation_evidence
from store.models import ClaimStatusObservation

log = structlog.get_logger(__name__)

PAYMENT_FIELDS = ("paid_amount", "check_number", "payment_date")


def first_sight(latest: ClaimStatusObservation | None, fields: Mapping[str, Any], new_denials: int) -> str | None:
    """Why the page is worth keeping ('first seen: denied'), or None when nothing the payer decided is new.

    A new status (the first one included), a new payment, or a new denial counts; a reworded status
    text, a new status date or the same denial again does not."""
    status = fields["status"]
    if latest is None or latest.status != status:
        return f"first seen: {status}"
    if new_denials:
        return f"first seen: {new_denials} new denial{'s' if new_denials > 1 else ''}"
    if any(getattr(latest, name) != fields[name] for name in PAYMENT_FIELDS):
        return "first seen: a payment" if fields["paid_amount"] else "first seen: a payment change"
    return None


def keep_first_sight(
    adapter: PortalSession,
    engine: Engine,
    *,
    claim_id: str,
    observation_id: int,
    reason: str,
    keep_evidence: KeepsEvidence,
) -> int | None:
    """Keep the page in hand (the claim's detail page, where every adapter's claim_status leaves it) and link
    it to the observation; the evidence id, or None when it could not be kept (logged, nothing raised)."""
    try:
        snapshot = adapter.snapshot(archive=True)
        if not snapshot.html and not snapshot.screenshot_png:
            log.warning("claim_evidence_not_kept", claim_id=claim_id, error="the browser gave no page")
            return None
        kept = keep_evidence(snapshot, portal=adapter.portal, subject=claim_id, reason=reason)
        kept.evidence.claim_id = claim_id
        with session_scope(engine) as session:
            return link_observation_evidence(session, observation_id, kept.evidence)
    except Exception as exc:  # noqa: BLE001  (the observation is stored: a lost page must not fail the check)
        log.warning("claim_evidence_not_kept", claim_id=claim_id, error=type(exc).__name__)
        return None
