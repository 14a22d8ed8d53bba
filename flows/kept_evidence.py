"""What a flow asks of the worker to keep a page as evidence: a callback, so flows never import the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from portals.types import PageSnapshot
from store.models import Evidence


@dataclass(frozen=True)
class KeptEvidence:
    """The evidence row of a page (screenshot and HTML), not yet stored, and its PDF file."""

    evidence: Evidence
    pdf_path: str | None


class KeepsEvidence(Protocol):
    """Writes a page's snapshot to the evidence folder (privately) and says what it wrote: the worker's."""

    def __call__(self, snapshot: PageSnapshot, *, portal: str, subject: str, reason: str) -> KeptEvidence: ...
