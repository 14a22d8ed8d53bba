"""The bulk path: one export of a portal's claim list answers for every claim in a batch that did not move.

A portal with a bulk list (Unity's CSV export) shows each claim's status, dates, amounts and
payment in one download, but no adjustments. So the listing only ever says "unchanged": a claim
still open whose listed status, status date, paid amount, payer claim number and payment match
its latest observation is marked checked without opening its pages. Anything else (a new
status, a claim missing from the list, a denied or partly paid claim whose adjustments matter)
goes through the claim's own pages, exactly as without the listing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine

from flows.claim_states import ClaimState, state_of
from portals.capabilities import ClaimList, ClaimListPortal, PortalSession
from portals.errors import PortalError
from portals.identifiers import normal_id, same_id
from portals.types import ClaimStatusResult
from store.claims import list_claims
from store.db import session_scope
from store.models import Claim, ClaimStatusObservation
from store.observations import latest_observation, mark_checked

log = structlog.get_logger(__name__)

# Fewer claims than this in a batch: their own pages cost less than the export.
BULK_MIN_CLAIMS = 3
# Only claims still waiting on the payer: their pages show no adjustments the list would miss.
SKIPPABLE_STATES = frozenset({ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.INFO_REQUESTED})
LISTED_FIELDS = ("status_date", "paid_amount", "payer_claim_number", "check_number", "payment_date")


class ClaimListing:
    """The portal's list for the claims of one batch, downloaded on first use, at most once."""

    def __init__(self, adapter: PortalSession, engine: Engine, claim_ids: Sequence[str]) -> None:
        # only a portal that exports its claim list has one to offer
        self.export: ClaimListPortal | None = adapter if isinstance(adapter, ClaimList) else None
        self.engine, self.claim_ids = engine, list(claim_ids)
        self._rows: dict[str, ClaimStatusResult] | None = None
        self.skipped = 0  # claims the listing answered for

    def unchanged(self, claim: Claim) -> bool:
        """Whether the list shows `claim` exactly as last observed (and it is still open)."""
        if (
            ClaimState(claim.status) not in SKIPPABLE_STATES
            or self.export is None
            or len(self.claim_ids) < BULK_MIN_CLAIMS
        ):
            return False
        listed = self._listed(self.export).get(normal_id(claim.claim_id))
        if listed is None:
            return False
        with session_scope(self.engine) as session:
            latest = latest_observation(session, claim.claim_id)
        return latest is not None and same_as_listed(latest, listed)

    def mark_checked(self, claim: Claim, at: datetime) -> None:
        with session_scope(self.engine) as session:
            mark_checked(session, claim.claim_id, at)
        self.skipped += 1

    def _listed(self, export: ClaimListPortal) -> dict[str, ClaimStatusResult]:
        if self._rows is None:
            self._rows = {}
            with session_scope(self.engine) as session:
                claims = list_claims(session, claim_ids=self.claim_ids)
            if claims:
                try:
                    rows = [r.result for r in export.list_claims(min(c.dos_from for c in claims), max(c.dos_to for c in claims))]
                    self._rows = {normal_id(row.claim_id): row for row in rows}
                except PortalError as exc:  # each claim's own pages will meet it, and the runner decides
                    log.warning("claim_listing_unavailable", error=type(exc).__name__, detail=exc.message)
        return self._rows


def same_as_listed(latest: ClaimStatusObservation, listed: ClaimStatusResult) -> bool:
    if state_of(listed).value != latest.status:
        return False
    if not same_id(latest.payer_claim_number, listed.payer_claim_number) and (
        latest.payer_claim_number or listed.payer_claim_number
    ):
        return False
    return all(getattr(latest, name) == getattr(listed, name) for name in LISTED_FIELDS if name != "payer_claim_number")
