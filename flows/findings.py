"""Findings: problems that will become denials unless a person acts (until alerts carry them).

A rule produces the findings that hold *now*; `sync_findings` opens the new
ones, refreshes those still true and resolves those whose condition ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session

from store.findings import find_by_key, open_findings, save_finding
from store.models import Finding


@dataclass(frozen=True)
class FindingDraft:
    kind: str
    subject: str
    payer_id: str | None
    message: str  # what is wrong and what to do; ids and dates, never patient names
    due: date | None = None
    amount_at_risk: Decimal | None = None
    claims_at_risk: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.subject}"


@dataclass
class FindingChanges:
    opened: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)


def sync_findings(
    session: Session, kinds: Sequence[str], current: Iterable[FindingDraft], at: datetime
) -> FindingChanges:
    """Make the open findings of `kinds` exactly `current`: one row per (kind, subject), never repeated."""
    changes, keys = FindingChanges(), set()
    for draft in current:
        keys.add(draft.key)
        finding = find_by_key(session, draft.key)
        if finding is None:
            finding = Finding(
                key=draft.key,
                kind=draft.kind,
                subject=draft.subject,
                first_seen_at=at,
                last_seen_at=at,
                message=draft.message,
                amount_at_risk=None,
            )
            changes.opened.append(finding)
        elif finding.status != "open":
            finding.status, finding.resolved_at, finding.first_seen_at = "open", None, at
            changes.opened.append(finding)
        finding.payer_id, finding.message, finding.due = draft.payer_id, draft.message, draft.due
        finding.amount_at_risk, finding.claims_at_risk = draft.amount_at_risk, list(draft.claims_at_risk)
        finding.last_seen_at = at
        save_finding(session, finding)
    for finding in open_findings(session, kinds):
        if finding.key not in keys:
            finding.status, finding.resolved_at = "resolved", at
            save_finding(session, finding)
            changes.resolved.append(finding)
    return changes


def merge(first: FindingChanges, second: FindingChanges) -> FindingChanges:
    return FindingChanges(first.opened + second.opened, first.resolved + second.resolved)
