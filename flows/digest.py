"""The daily summary: open alerts grouped by urgency then owner department, short enough for a phone.

Only the top items are listed (most urgent first; "Coming up" lists its own soonest, on one line
each); the rest are counted with their dollars. The new denials are listed largest first, the rest
counted. What a summary shows is marked reported once it is sent, so tomorrow's summary tells what
is new or escalated, and says "resolved" once for what ended. Minimum necessary: claim ids, payers,
amounts, dates, codes; a patient name only when the caller passes names (the config turned them on).
Links to the workspace carry only an alert's or a denial's number (ALERT_PATH, DENIAL_PATH), never a
claim id, member id or payer claim number: a URL ends up in browser histories and proxy logs.
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
from flows.visits import Visit
from flows.worklist import WorkItem, describe_codes
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
COMPACT_URGENCY = "Coming up"  # listed on one line each, from a budget of its own
LATER_URGENCIES = ("Coming up", "For information")  # shown after the new denials
OWNER_LABELS = {"it": "IT", "front_desk": "Front desk", "scheduling_auth": "Scheduling / authorizations"}
# Severity as a badge: white on these (each at least 4.5:1), always with its word, never colour alone.
SEVERITY_COLOURS = {"critical": "#b91c1c", "high": "#c2410c", "medium": "#8a5a00", "low": "#1d4ed8", "info": "#4b5563"}
SEVERITY_WORDS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
# Alerts about a provider: the title names the NPI ("Provider 1234567890/UHP: ..."); the summary names the person.
PROVIDER_KINDS = frozenset({"enrollment_inactive", "revalidation_due", "caqh_due"})
ALERT_PATH = "/a/{}"  # the workspace's route to an alert's page, by the alert's number only
DENIAL_PATH = "/d/{}"  # ... and to a denial's claim page, by the denial's number only
TEMPLATES = Path(__file__).parent / "templates"
VISITS_HEADING = "Tomorrow's visits with problems"
VISITS_OWNER = "front_desk"  # who fixes them: an audience with the front desk gets the section


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
    link: str | None = None  # the alert's page in the workspace (web.base_url), by its number

    @property
    def severity_word(self) -> str:
        return SEVERITY_WORDS.get(self.severity, self.severity.capitalize())


@dataclass(frozen=True)
class DenialLine:
    """A new denial as the summary lists it: the claim, payer, codes in plain words, amount, next step."""

    claim_id: str
    payer: str
    codes: str  # "CO-97: The benefit for this service is included...; N20: ..."
    amount: Decimal
    action: str | None  # "File first level appeal (by 2027-05-20)"; None when no rule gives a deadline
    due: date | None
    patient: str | None = None
    link: str | None = None


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
    hidden: int  # listed as "and N more, $X"
    hidden_dollars: Decimal = Decimal("0")

    @property
    def compact(self) -> bool:
        return self.urgency == COMPACT_URGENCY


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
    new_denials: list[DenialLine] = field(default_factory=list)  # the top_n largest; the rest are counted
    hidden_dollars: dict[str, Decimal] = field(default_factory=dict)  # urgency -> dollars of the unlisted
    base_url: str | None = None  # the workspace (web.base_url); None: no links
    # Tomorrow's visits with problems (front desk): the appointments, with what to fix before each one
    visits: list[Visit] = field(default_factory=list)
    visits_hidden: int = 0
    resolved_hidden: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.resolved_hidden = max(len(self.resolved) - self.top_n, 0)

    @property
    def is_empty(self) -> bool:
        return not self.open_count and not self.resolved and not self.new_denials_count and not self.visits

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

    @property
    def denials_hidden(self) -> int:
        return self.new_denials_count - len(self.new_denials)

    @property
    def denials_hidden_dollars(self) -> Decimal:
        return self.new_denials_dollars - sum((d.amount for d in self.new_denials), Decimal("0"))

    def page(self, path: str) -> str | None:
        """A workspace page (e.g. "/alerts") as a link, when the summary has links."""
        return f"{self.base_url}{path}" if self.base_url else None

    def urgencies(self, *only: str) -> list[UrgencySummary]:
        summaries = []
        for urgency in only or URGENCIES:
            groups = [g for g in self.groups if g.urgency == urgency]
            if groups:
                summaries.append(
                    UrgencySummary(
                        urgency,
                        sum(g.total for g in groups),
                        sum((g.dollars for g in groups), Decimal("0")),
                        groups,
                        self.hidden_counts.get(urgency, 0),
                        self.hidden_dollars.get(urgency, Decimal("0")),
                    )
                )
        return summaries

    def act_now(self) -> list[UrgencySummary]:
        """Overdue, due within 3 days, this week: shown before the new denials."""
        return self.urgencies(*(u for u in URGENCIES if u not in LATER_URGENCIES))

    def later(self) -> list[UrgencySummary]:
        return self.urgencies(*LATER_URGENCIES)

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


@dataclass(frozen=True)
class Naming:
    """What the summary may name besides ids: patients (only when the config allows), providers, the workspace."""

    patients: Mapping[str, str] | None = None  # claim id -> patient name
    providers: Mapping[str, str] | None = None  # NPI -> the provider's name
    base_url: str | None = None

    def patient(self, claim_id: str | None) -> str | None:
        return self.patients.get(claim_id) if self.patients and claim_id else None

    def link(self, path: str, number: int | None) -> str | None:
        return f"{self.base_url}{path.format(number)}" if self.base_url and number is not None else None

    def title(self, alert: Alert) -> str:
        """A provider alert's title with the provider's name where the NPI was."""
        npi, _, payer = alert.subject.partition("/")
        name = (self.providers or {}).get(npi) if alert.kind in PROVIDER_KINDS else None
        if not name:
            return alert.title
        return alert.title.replace(f"Provider {alert.subject}", f"Provider {name}" + (f" ({payer})" if payer else ""))


def _line(alert: Alert, naming: Naming, news: str | None) -> DigestLine:
    return DigestLine(
        alert.key,
        naming.title(alert),
        alert.action,
        alert.due,
        alert.amount,
        alert.owner,
        alert.severity,
        news,
        alert.claim_id,
        naming.patient(alert.claim_id),
        naming.link(ALERT_PATH, alert.id),
    )


def _denial_line(denial: Denial, item: WorkItem | None, naming: Naming) -> DenialLine:
    claim_id = denial.claim_id or denial.reported_claim_id
    action = item.action if item else None
    due = item.deadline.due if item and item.deadline else None
    return DenialLine(
        claim_id,
        denial.payer_id or "payer unknown",
        item.codes if item else describe_codes(denial),
        denial.amount,
        (action[:1].upper() + action[1:] + (f" (by {due})" if due else "")) if action else None,
        due,
        naming.patient(denial.claim_id),
        naming.link(DENIAL_PATH, denial.id),
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
    provider_names: Mapping[str, str] | None = None,
    base_url: str | None = None,
    next_steps: Mapping[int, WorkItem] | None = None,
    visits: Sequence[Visit] = (),
) -> DailyDigest:
    """The summary of `day` for an audience (`owners`: its departments; None: all).

    `next_steps`: the worklist's item of each new denial (by denial id), for its codes and deadline;
    `base_url`: the workspace, to link every item to its page there (None: no links); `visits`: tomorrow's
    appointments with problems, for an audience with the front desk (their alerts are listed there, once)."""
    if top_n < 0:
        raise ValueError("top_n cannot be negative")
    naming = Naming(patient_names, provider_names, base_url.rstrip("/") if base_url else None)

    def wanted(owner: str) -> bool:
        return owners is None or owner in owners

    visits = [v for v in visits if v.problems] if wanted(VISITS_OWNER) else []
    in_visits = {key for visit in visits for key in visit.finding_keys}
    alerts = sorted(
        (a for a in open_alerts if wanted(a.owner) and a.key not in in_visits), key=lambda a: _most_urgent_first(a, day)
    )
    full = [a for a in alerts if urgency_of(a, day) != COMPACT_URGENCY][:top_n]
    compact = [a for a in alerts if urgency_of(a, day) == COMPACT_URGENCY][:top_n]
    shown = {a.key for a in (*full, *compact)}
    by_group: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_group[(urgency_of(alert, day), alert.owner)].append(alert)
    groups: list[DigestGroup] = []
    unlisted: dict[str, list[Alert]] = defaultdict(list)
    for urgency, owner in sorted(by_group, key=lambda g: (URGENCIES.index(g[0]), g[1])):
        members = by_group[(urgency, owner)]
        lines = [_line(a, naming, news_of(a)) for a in members if a.key in shown]
        unlisted[urgency] += [a for a in members if a.key not in shown]
        groups.append(DigestGroup(urgency, owner, lines, len(members), dollars_at_risk(members)))
    resolved = [_line(a, naming, "resolved") for a in resolved_unreported if wanted(a.owner)]
    denials = sorted((d for d in new_denials if wanted(d.owner)), key=lambda d: (-d.amount, d.id or 0))
    steps = next_steps or {}
    return DailyDigest(
        day=day,
        practice=practice,
        groups=groups,
        hidden_counts={u: len(rest) for u, rest in unlisted.items() if rest},
        new_denials_count=len(denials),
        new_denials_dollars=sum((d.amount for d in denials), Decimal("0")),
        resolved=resolved,
        open_count=len(alerts),
        dollars_at_risk=dollars_at_risk(alerts),
        top_n=top_n,
        owners=tuple(sorted(owners)) if owners is not None else None,
        new_denials=[_denial_line(d, steps.get(d.id or 0), naming) for d in denials[:top_n]],
        hidden_dollars={u: dollars_at_risk(rest) for u, rest in unlisted.items() if rest},
        base_url=naming.base_url,
        visits=visits[:top_n],
        visits_hidden=max(len(visits) - top_n, 0),
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
    if digest.practice:
        return f"{digest.practice}: daily summary for {digest.day:%a %d %b %Y}"
    return f"portal-worker summary for {digest.day:%a %d %b %Y}"


def overview(digest: DailyDigest) -> list[str]:
    if digest.is_empty:
        return ["Nothing needs attention today."]
    lines = [f"{digest.open_count} open, {money(digest.dollars_at_risk)} at risk"]
    if digest.visits:
        lines.append(f"{VISITS_HEADING}: {len(digest.visits) + digest.visits_hidden}")
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


def more(count: int, what: str, dollars: Decimal) -> str:
    """ "and 4 more overdue, $1,200.00" (no dollars when none of them carries an amount)."""
    return f"and {count} more {what}" + (f", {money(dollars)}" if dollars else "")


def _open_line(link: str | None) -> list[str]:
    return [f"  Open: {link}"] if link else []


def _text_line(line: DigestLine, *, compact: bool = False) -> list[str]:
    marks = ", ".join([line.severity_word.upper(), *([line.news] if line.news and line.news != "resolved" else [])])
    patient = f" - patient {line.patient}" if line.patient else ""
    return [f"- {marks}: {line.title}{patient}", *([] if compact else [f"  > {line.action}"]), *_open_line(line.link)]


def _text_section(summary: UrgencySummary) -> list[str]:
    out = ["", f"{summary.urgency.upper()}: {tally(summary.total, summary.dollars)}"]
    for group in summary.groups:
        out.append(f"{owner_label(group.owner)}: {tally(group.total, group.dollars)}")
        for line in group.lines:
            out += _text_line(line, compact=summary.compact)
    if summary.hidden:
        out.append(more(summary.hidden, summary.urgency.lower(), summary.hidden_dollars))
    return out


def _text_denials(digest: DailyDigest) -> list[str]:
    if not digest.new_denials:
        return []
    out = ["", f"NEW DENIALS, LARGEST FIRST: {tally(digest.new_denials_count, digest.new_denials_dollars)}"]
    for denial in digest.new_denials:
        patient = f" - patient {denial.patient}" if denial.patient else ""
        out += [f"- Claim {denial.claim_id} ({denial.payer}, {money(denial.amount)}){patient}", f"  {denial.codes}"]
        out += [f"  > {denial.action}"] if denial.action else []
        out += _open_line(denial.link)
    if digest.denials_hidden:
        out.append(more(digest.denials_hidden, "new denials", digest.denials_hidden_dollars))
    return out


def _text_visits(digest: DailyDigest) -> list[str]:
    if not digest.visits:
        return []
    out = ["", f"{VISITS_HEADING.upper()}: {len(digest.visits) + digest.visits_hidden}"]
    for visit in digest.visits:
        patient = f" - patient {visit.patient_name}" if visit.patient_name else ""
        out += [
            f"- {visit.when}, appointment {visit.appointment_id} ({visit.payer_id}): {visit.problem_words}{patient}"
        ]
        out += [f"  > {visit.to_do} ({visit.by_when})"]
    if digest.visits_hidden:
        out.append(f"and {digest.visits_hidden} more: `portal-worker eligibility` lists them all")
    return out


def render_text(digest: DailyDigest) -> str:
    """Plain text, phone-short: the top items, then counts for the rest."""
    out = [heading(digest), *overview(digest), *_text_visits(digest)]
    for summary in digest.act_now():
        out += _text_section(summary)
    out += _text_denials(digest)
    for summary in digest.later():
        out += _text_section(summary)
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
    env.globals["more"] = more
    env.globals["colours"] = SEVERITY_COLOURS
    env.globals["visits_heading"] = VISITS_HEADING
    return env


def render_html(digest: DailyDigest) -> str:
    """Email HTML (escaped), the same content as render_text."""
    return (
        _environment()
        .get_template("digest.html.j2")
        .render(digest=digest, heading=heading(digest), overview=overview(digest), subject=subject_line(digest))
    )
