"""Changes a payer does not make: refused as a changed page, never recorded as news.

A paid or finalized claim does not leave the payer's files, and a payer claim number does not
change its digits once given. A page that says otherwise has changed under the adapter (an
identifier printed another way, a search that no longer finds), so the answer is refused like
any page the adapter does not know: evidence kept, nothing written for that claim.

One found claim that is missing now is news (the payer voided it, or it was never theirs), but
many at once in one portal's batch is a search that stopped working: those are held until the
batch ends and written only if few enough (`too_many_missing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.claim_states import ClaimState
from portals.errors import LayoutChanged
from portals.identifiers import same_id
from store.models import Claim

# Adjudicated: the payer has decided, so the claim is on its files for good.
SETTLED = frozenset({ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.DENIED, ClaimState.FINALIZED})
# More found claims missing than this many (or this share of the found claims checked) is a broken search.
MISSING_AT_MOST = 3
MISSING_SHARE_AT_MOST = 0.10


class ImpossibleChange(LayoutChanged):
    """The portal's answer would record a change payers do not make: the page, not the claim, changed."""

    def __init__(self, portal: str, page: str, detail: str) -> None:
        super().__init__(portal, page, f"refused an impossible change: {detail}")


@dataclass(frozen=True)
class Known:
    """What the store already knows of a claim: its last observed state and payer claim number."""

    status: str | None  # None: never observed
    payer_claim_number: str | None

    @property
    def found(self) -> bool:
        return self.status is not None and self.status != ClaimState.NOT_ON_FILE.value


def refuse_vanished(portal: str, claim_id: str, known: Known) -> None:
    """A settled claim the portal no longer finds: the search changed, not the payer's files."""
    if known.status is not None and ClaimState(known.status) in SETTLED:
        raise ImpossibleChange(
            portal, "claim search", f"claim {claim_id} was {known.status} and the portal no longer finds it"
        )


def refuse_renumbered(portal: str, claim_id: str, known: Known, shown: str | None) -> None:
    """A payer claim number seen before that now reads with other letters or digits."""
    if known.payer_claim_number and shown and not same_id(shown, known.payer_claim_number):
        raise ImpossibleChange(
            portal, "claim detail", f"claim {claim_id}: the payer claim number changed its digits since last seen"
        )


def too_many_missing(missing: int, found_checked: int) -> bool:
    """Whether this many found claims missing at once, of the found claims checked, means a broken search."""
    return missing > max(MISSING_AT_MOST, int(found_checked * MISSING_SHARE_AT_MOST))


@dataclass
class MissingClaims:
    """One batch's found claims that the portal no longer finds, held until the batch ends."""

    found_checked: int = 0  # claims found before that this batch asked about
    held: list[Claim] = field(default_factory=list)

    def too_many(self) -> bool:
        return too_many_missing(len(self.held), self.found_checked)

    def words(self, portal: str) -> str:
        return (
            f"{len(self.held)} of {self.found_checked} claims found before are missing from {portal} now; "
            "recorded none of them as not on file"
        )


class TooManyMissing(ImpossibleChange):
    """Too many found claims missing at once in one batch: the claim search broke, not the payer's files."""

    def __init__(self, portal: str, missing: MissingClaims) -> None:
        super().__init__(portal, "claim search", missing.words(portal))
