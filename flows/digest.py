"""The daily summary: open alerts grouped by urgency then owner department, short enough for a phone.

Only the top items are listed (most urgent first); the rest are counted. What a
summary shows is marked reported once it is sent, so tomorrow's summary tells
what is new or escalated, and says "resolved" once for what ended. Minimum
necessary: claim ids, payers, amounts, dates, codes; a patient name only when
the caller passes names (the config turned them on).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session

from flows.alerts import SEVERITIES, money, rung_rank, rung_words
from store import alerts as store
from store.models import Alert, Denial

URGENCIES = ("Overdue", "Due within 3 days", "This week", "Coming up", "For information")
# Alerts without a date (worker health, a denied authorization...) are placed by severity.
UNDATED_URGENCY = {
    "critical": "Due within 3 days",
    "high": "Due within 3 days",
    "medium": "This week",
    "low": "Coming up",
    "info": "For information",
}
OWNER_LABELS = {"it": "IT", "front_desk": "Front desk", "scheduling_auth": "Scheduling / authorizations"}
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class DigestLine:
    key: str
    title: str
    action: str
    due: date | None
    amount: Decimal | None
    owner: str
    severity: str
    news: str | None  # "new", "escalated to 3 days"; None: shown before at this rung
    claim_id: str | None = None
    patient: str | None = None  # only when the config turns names on


@dataclass
class DigestGroup:
    urgency: str
    owner: str
    lines: list[DigestLine]  # the shown ones (top items); `total` counts them all
    total: int
    dollars: Decimal


@dataclass(frozen=True)
class UrgencySummary:
    urgency: str
    total: int
    dollars: Decimal
    groups: list[DigestGroup]
    hidden: int  # listed as "and N more"


@dataclass
class DailyDigest:
    day: date
    practice: str
    groups: list[DigestGroup]  # in urgency order, then owner
    hidden_counts: dict[str, int]  # urgency -> items beyond top_n, not listed
    new_denials_count: int
    new_denials_dollars: Decimal
    resolved: list[DigestLine]
    open_count: int
    dollars_at_risk: Decimal
    top_n: int = 10
    owners: tuple[str, ...] | None = None  # the audience's departments; None: everyone
    resolved_hidden: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.resolved_hidden = max(len(self.resolved) - self.top_n, 0)

    @property
    def is_empty(self) -> bool:
        return not self.open_count and not self.resolved and not self.new_denials_count

    @property
    def alert_keys(self) -> list[str]:
        """The alerts listed (not merely counted): what mark_reported marks."""
        return [line.key for group in self.groups for line in group.lines]

    @property
    def resolved_keys(self) -> list[str]:
        return [line.key for line in self.resolved]

    @property
    def shown_resolved(self) -> list[DigestLine]:
        return self.resolved[: self.top_n]

    def urgencies(self) -> list[UrgencySummary]:
        summaries = []
        for urgency in URGENCIES:
            groups = [g for g in self.groups if g.urgency == urgency]
            if groups:
                summaries.append(
                    UrgencySummary(
                        urgency,
                        sum(g.total for g in groups),
                        sum((g.dollars for g in groups), Decimal("0")),
                        groups,
                        self.hidden_counts.get(urgency, 0),
                    )
                )
        return summaries

    def count(self, *urgencies: str) -> int:
        return sum(g.total for g in self.groups if g.urgency in urgencies)


# --- building -----------------------------------------------------------------------------


def urgency_of(alert: Alert, day: date) -> str:
    if alert.due is None:
        return UNDATED_URGENCY.get(alert.severity, "This week")
    days = (alert.due - day).days
    if days < 0:
        return "Overdue"
    return "Due within 3 days" if days <= 3 else "This week" if days <= 7 else "Coming up"


def news_of(alert: Alert) -> str | None:
    if alert.reported_at is None:
        return "new"
    if alert.rung is not None and rung_rank(alert.rung) > rung_rank(alert.reported_rung):
        return f"escalated to {rung_words(alert.rung)}"
    return None


def dollars_at_risk(alerts: Iterable[Alert]) -> Decimal:
    """Sum of amounts, a claim's amount counted once when several alerts carry it (timely filing + outside auth)."""
    seen: set[tuple[str, Decimal]] = set()
    total = Decimal("0")
    for alert in alerts:
        if alert.amount is None:
            continue
        if alert.claim_id is not None:
            if (alert.claim_id, alert.amount) in seen:
                continue
            seen.add((alert.claim_id, alert.amount))
        total += alert.amount
    return total


def _line(alert: Alert, patient_names: Mapping[str, str] | None, news: str | None) -> DigestLine:
    patient = patient_names.get(alert.claim_id) if patient_names and alert.claim_id else None
    return DigestLine(
        alert.key,
        alert.title,
        alert.action,
        alert.due,
        alert.amount,
        alert.owner,
        alert.severity,
        news,
        alert.claim_id,
        patient,
    )


def _most_urgent_first(alert: Alert, day: date) -> tuple:  # type: ignore[type-arg]
    return (
        URGENCIES.index(urgency_of(alert, day)),
        alert.due or date.max,
        -SEVERITIES.index(alert.severity) if alert.severity in SEVERITIES else 0,
        -(alert.amount or 0),
        alert.id or 0,
    )


def build_digest(
    open_alerts: Sequence[Alert],
    resolved_unreported: Sequence[Alert],
    new_denials: Sequence[Denial],
    day: date,
    *,
    owners: Collection[str] | None = None,
    top_n: int = 10,
    patient_names: Mapping[str, str] | None = None,
    practice: str = "",
) -> DailyDigest:
    """The summary of `day` for an audience (`owners`: its departments; None: all)."""
    if top_n < 0:
        raise ValueError("top_n cannot be negative")

    def wanted(owner: str) -> bool:
        return owners is None or owner in owners

    alerts = sorted((a for a in open_alerts if wanted(a.owner)), key=lambda a: _most_urgent_first(a, day))
    shown = {a.key for a in alerts[:top_n]}
    by_group: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_group[(urgency_of(alert, day), alert.owner)].append(alert)
    groups, hidden = [], dict.fromkeys(URGENCIES, 0)
    for urgency, owner in sorted(by_group, key=lambda g: (URGENCIES.index(g[0]), g[1])):
        members = by_group[(urgency, owner)]
        lines = [_line(a, patient_names, news_of(a)) for a in members if a.key in shown]
        hidden[urgency] += len(members) - len(lines)
        groups.append(DigestGroup(urgency, owner, lines, len(members), dollars_at_risk(members)))
    resolved = [_line(a, patient_names, "resolved") for a in resolved_unreported if wanted(a.owner)]
    denials = [d for d in new_denials if wanted(d.owner)]
    return DailyDigest(
        day=day,
        practice=practice,
        groups=groups,
        hidden_counts={u: n for u, n in hidden.items() if n},
        new_denials_count=len(denials),
        new_denials_dollars=sum((d.amount for d in denials), Decimal("0")),
        resolved=resolved,
        open_count=len(alerts),
        dollars_at_risk=dollars_at_risk(alerts),
        top_n=top_n,
        owners=tuple(sorted(owners)) if owners is not None else None,
    )


def mark_reported(session: Session, digest: DailyDigest, now: datetime) -> None:
    """After the summary went out: what it listed is no longer news; what it said resolved is said."""
    mark_keys_reported(session, digest.alert_keys, digest.resolved_keys, now)


def mark_keys_reported(
    session: Session, alert_keys: Sequence[str], resolved_keys: Sequence[str], now: datetime
) -> None:
    """mark_reported from the keys a Digest row recorded (e.g. a send confirmed after a restart)."""
    for alert in store.find_by_keys(session, list(alert_keys)):
        alert.reported_rung, alert.reported_at = alert.rung, now
        store.save(session, alert)
    for alert in store.find_by_keys(session, list(resolved_keys)):
        if alert.status == "resolved":  # it may have come back since: then it is news, not a resolution
            alert.resolution_reported = True
            store.save(session, alert)


# --- rendering --------------------------------------------------------------------------------


def tally(count: int, dollars: Decimal) -> str:
    """ "3, $550.00"; just "3" when none of them carries an amount (worker health, credentialing)."""
    return f"{count}, {money(dollars)}" if dollars else str(count)


def owner_label(owner: str) -> str:
    return OWNER_LABELS.get(owner, owner.replace("_", " ").capitalize())


def heading(digest: DailyDigest) -> str:
    practice = f" - {digest.practice}" if digest.practice else ""
    return f"portal-worker summary for {digest.day:%a %d %b %Y}{practice}"


def overview(digest: DailyDigest) -> list[str]:
    if digest.is_empty:
        return ["Nothing needs attention today."]
    lines = [f"{digest.open_count} open, {money(digest.dollars_at_risk)} at risk"]
    if digest.new_denials_count:
        lines.append(
            f"New denials since the last summary: {digest.new_denials_count}, {money(digest.new_denials_dollars)}"
        )
    return lines


def subject_line(digest: DailyDigest) -> str:
    """E.g. "portal-worker 2026-11-24: 3 overdue, 5 due this week, $12,340.00 at risk"."""
    practice = f" {digest.practice}" if digest.practice else ""
    prefix = f"portal-worker{practice} {digest.day.isoformat()}"
    if digest.is_empty:
        return f"{prefix}: nothing needs attention"
    parts = []
    if overdue := digest.count("Overdue"):
        parts.append(f"{overdue} overdue")
    if this_week := digest.count("Due within 3 days", "This week"):
        parts.append(f"{this_week} due this week")
    if not parts:
        parts.append(f"{digest.open_count} open")
    if digest.new_denials_count:
        parts.append(f"{digest.new_denials_count} new denial{'s' if digest.new_denials_count != 1 else ''}")
    return f"{prefix}: {', '.join(parts)}, {money(digest.dollars_at_risk)} at risk"


def _text_line(line: DigestLine) -> list[str]:
    news = f"[{line.news}] " if line.news and line.news != "resolved" else ""
    patient = f" - patient {line.patient}" if line.patient else ""
    return [f"- {news}{line.title}{patient}", f"  > {line.action}"]


def render_text(digest: DailyDigest) -> str:
    """Plain text, phone-short: the top items, then counts for the rest."""
    out = [heading(digest), *overview(digest)]
    for summary in digest.urgencies():
        out += ["", f"{summary.urgency.upper()}: {tally(summary.total, summary.dollars)}"]
        for group in summary.groups:
            out.append(f"{owner_label(group.owner)}: {tally(group.total, group.dollars)}")
            for line in group.lines:
                out += _text_line(line)
        if summary.hidden:
            out.append(f"and {summary.hidden} more {summary.urgency.lower()}")
    if digest.resolved:
        out += ["", "RESOLVED since the last summary"]
        out += [
            f"- {line.title}" + (f" - patient {line.patient}" if line.patient else "") for line in digest.shown_resolved
        ]
        if digest.resolved_hidden:
            out.append(f"and {digest.resolved_hidden} more resolved")
    return "\n".join(out) + "\n"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["owner"] = owner_label
    env.globals["tally"] = tally
    return env


def render_html(digest: DailyDigest) -> str:
    """Email HTML (escaped), the same content as render_text."""
    return (
        _environment()
        .get_template("digest.html.j2")
        .render(digest=digest, heading=heading(digest), overview=overview(digest), subject=subject_line(digest))
    )
