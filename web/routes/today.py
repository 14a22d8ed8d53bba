"""Today: what needs a person by department and urgency, tomorrow's visits with problems, new denials since
yesterday, worker health (and, for admins, the feed to the PM system)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from flows.denial_codes import describe_carc
from flows.visits import visits_ahead, visits_in, with_problems
from flows.windows import availability
from store import feed, health, tasks
from store.accounts import peek_account
from store.alerts import new_denials_since
from store.models import Denial
from store.today import open_denials_by_owner, waiting_alerts_by_owner
from web.deps import CurrentStaff, Db, Now
from web.downloads import carries_patient_names
from web.templating import local_time, render
from worker.clock import aware
from worker.runtime.heartbeat import liveness
from worker.runtime.jobs import job_specs
from worker.security.staff import ROLE_DEPARTMENT
from worker.settings import Settings

router = APIRouter()
SEVERITY_LADDER = ("critical", "high", "medium", "low", "info")  # most urgent first
NEW_DENIALS_SHOWN = 50


@dataclass
class DepartmentWork:
    owner: str
    alerts: dict[str, int] = field(default_factory=dict)  # severity -> how many
    alert_dollars: Decimal = Decimal("0")
    open_denials: int = 0
    denied_dollars: Decimal = Decimal("0")

    @property
    def alert_count(self) -> int:
        return sum(self.alerts.values())

    @property
    def severities(self) -> list[tuple[str, int]]:
        return [(s, self.alerts[s]) for s in SEVERITY_LADDER if self.alerts.get(s)]

    @property
    def urgency(self) -> int:
        """Where its most urgent alert sits on the ladder (0 = critical), for ordering departments."""
        return min(
            (SEVERITY_LADDER.index(s) for s in self.alerts if s in SEVERITY_LADDER), default=len(SEVERITY_LADDER)
        )


@dataclass(frozen=True)
class PortalHealth:
    portal: str
    words: str  # "working", "paused until Mon 07 Dec 09:00", "needs new credentials", ...
    tone: str  # a badge class: ok, medium, critical
    detail: str
    last_success: str


@dataclass(frozen=True)
class JobHealth:
    job: str
    last_success: str
    last_error: str


@dataclass(frozen=True)
class FeedHealth:
    channel: str
    words: str  # "delivering", "failing since Mon 07 Dec 09:00 (5 tries)"
    tone: str  # a badge class: ok, critical
    waiting: int
    oldest_waiting: str  # when the oldest event still waiting was recorded, practice time; "" when none waits
    last_error: str


def feed_health(request: Request, db: Session, role: str) -> list[FeedHealth]:
    """Each feed channel's backlog and last error, for admins (IT's view of the worker); others see nothing."""
    settings: Settings = request.app.state.settings
    if role != "admin" or not settings.feed.channels:
        return []
    tz = request.app.state.tz
    shown = []
    for entry in feed.backlog(db, list(settings.feed.channels)):
        state = entry.state
        if state.failing_since is None:
            words, tone = "delivering", "ok"
        else:
            since = local_time(state.failing_since, tz, "%a %d %b %H:%M")
            failures = state.consecutive_failures
            words = f"failing since {since} ({failures} failure{'s' if failures != 1 else ''} in a row)"
            tone = "critical"
        oldest = local_time(entry.oldest_waiting_at, tz, "%a %d %b %H:%M") if entry.waiting else ""
        when = local_time(state.last_error_at, tz, "%a %d %b %H:%M")
        error = f"{when}: {state.last_error}" if state.last_error else ""
        shown.append(FeedHealth(entry.name, words, tone, entry.waiting, oldest, error))
    return shown


def work_by_department(db: Session, now: datetime, mine: str | None) -> list[DepartmentWork]:
    """Every department with something waiting; the viewer's own first, then the most urgent."""
    found: dict[str, DepartmentWork] = {}
    for tally in waiting_alerts_by_owner(db, now):
        work = found.setdefault(tally.owner, DepartmentWork(tally.owner))
        work.alerts[tally.severity] = work.alerts.get(tally.severity, 0) + tally.count
        work.alert_dollars += tally.at_risk
    for denials in open_denials_by_owner(db):
        work = found.setdefault(denials.owner, DepartmentWork(denials.owner))
        work.open_denials, work.denied_dollars = denials.count, denials.amount
    return sorted(found.values(), key=lambda w: (w.owner != mine, w.urgency, -w.denied_dollars, w.owner))


def portal_health(request: Request, db: Session, now: datetime) -> list[PortalHealth]:
    """Each portal as a billing lead says it: working, outside its hours, down (paused until when), needs new
    credentials; from what the worker last recorded (the credentials themselves live on the worker's host)."""
    settings: Settings = request.app.state.settings
    tz = request.app.state.tz
    pauses = health.active_pauses(db, now)
    shown = []
    for name, config in settings.portals.items():
        account = peek_account(db, name, config.adapter)
        paused = [
            f"{p.kind.replace('_', ' ')} paused until {local_time(p.until, tz, '%a %d %b %H:%M')}: {p.reason}"
            for p in pauses
            if p.portal == name
        ]
        window = availability(config.hours, aware(now).astimezone(tz))
        if not config.enabled:
            words, tone, detail = "turned off in the config", "low", ""
        elif account.state == "needs_attention":
            words, tone, detail = "needs new credentials", "critical", account.attention_reason or ""
        elif account.unavailable_until and aware(account.unavailable_until) > aware(now):
            until = local_time(account.unavailable_until, tz, "%a %d %b %H:%M")
            words, tone, detail = f"down: paused until {until}", "critical", account.last_error or ""
        elif not window.is_open:
            reopens = local_time(window.reopens_at, tz, "%a %H:%M") if window.reopens_at else ""
            words, tone, detail = (
                "outside portal hours",
                "low",
                f"reopens {reopens}" if reopens else window.reason or "",
            )
        elif paused:
            words, tone, detail = "working, some checks paused", "medium", "; ".join(paused)
        else:
            words, tone, detail = "working", "ok", ""
        last = local_time(account.last_success_at, tz) if account.last_success_at else "never"
        shown.append(PortalHealth(name, words, tone, detail, last))
    return shown


def job_health(request: Request, db: Session) -> list[JobHealth]:
    settings: Settings = request.app.state.settings
    runs = health.job_runs(db)
    shown = []
    for spec in job_specs(settings):
        run = runs.get(spec.job_id)
        last = run.last_success_at if run else None
        shown.append(
            JobHealth(
                spec.job_id.replace("_", " "),
                local_time(last, request.app.state.tz, "%a %d %b %H:%M") if last else "never",
                (run.last_error or "") if run else "",
            )
        )
    return shown


def new_denials(db: Session, now: datetime, request: Request) -> list[tuple[Denial, str]]:
    """Denials first seen since the start of yesterday, practice time, newest first, with their CARC in words."""
    tz = request.app.state.tz
    start_of_yesterday = datetime.combine(aware(now).astimezone(tz).date() - timedelta(days=1), datetime.min.time(), tz)
    denials = sorted(
        new_denials_since(db, start_of_yesterday), key=lambda d: (d.first_seen_at, d.id or 0), reverse=True
    )
    return [(d, describe_carc(d.carc) or "reason code not in our table") for d in denials]


@router.get("/")
def today(request: Request, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    # liveness() opens its own session, and SQLite has one writer: end this request's transaction
    # (it only touched the login session) before it starts.
    db.commit()
    alive = liveness(request.app.state.engine, request.app.state.settings, moment)
    mine = ROLE_DEPARTMENT.get(staff.role)
    departments = work_by_department(db, moment, mine)
    fresh = new_denials(db, moment, request)
    depth = tasks.queue_depth(db)
    local_now = aware(moment).astimezone(request.app.state.tz)
    day = local_now.date()
    settings: Settings = request.app.state.settings
    first, last = visits_ahead(day, settings.schedule.eligibility.times)
    ahead = visits_in(db, first, last, patient_names=carries_patient_names(request))
    visits = with_problems(ahead, local_now.replace(tzinfo=None))
    return render(
        request,
        "today.html",
        title="Today",
        today=day,
        visits=visits,
        visit_days=(first, last),
        mine=mine,
        departments=departments,
        new_denials=fresh[:NEW_DENIALS_SHOWN],
        new_denials_total=len(fresh),
        new_denials_dollars=sum((d.amount for d, _ in fresh), Decimal("0")),
        worker_ok=alive.ok,
        worker_message=alive.message,
        portals=portal_health(request, db, moment),
        waiting=sum(n for (_, state), n in depth.items() if state in tasks.OPEN_STATES),
        failed=sum(n for (_, state), n in depth.items() if state == "failed"),
        jobs=job_health(request, db),
        feed=feed_health(request, db, staff.role),
    )
