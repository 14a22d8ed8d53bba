"""The worker's settings: one TOML file, validated up front, every problem named by its key."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection, Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from flows.alerts import DEADLINE_KINDS, FINDING_OWNERS
from flows.denial_codes import OWNERS
from flows.eligibility import CheckTimes, business_days
from flows.feed_format import EVENT_TYPES
from flows.playbook import Playbook, load_playbook, playbook_problems
from flows.windows import PortalHours, parse_open_hours, parse_span, portal_hours
from portals.registry import adapter_names
from store.db import sqlite_url

PORTAL_NAME = re.compile(r"[a-z0-9_-]+")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DATABASE_DRIVERS = ("sqlite", "postgresql+psycopg")
# Values under these keys may hold passwords or tokens: messages never repeat them.
SECRET_KEYS = re.compile(r"database\.url$|alerts\.channels\.[^.]+\.urls\b")
URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# The departments alerts and denials are owned by (a summary's audience picks some).
DEPARTMENTS = tuple(sorted((OWNERS - {"none"}) | {"it"}))
# Alert kinds with a deadline, so a ladder of days before it (worker-health alerts have none).
LADDER_KINDS = (*DEADLINE_KINDS, *FINDING_OWNERS)

# pydantic error type -> what to tell the person editing the file
ERROR_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "bool_type": "expected true/false, got {got}",
    "int_type": "expected a whole number, got {got}",
    "int_from_float": "expected a whole number, got {got}",
    "float_type": "expected a number, got {got}",
    "string_type": "expected a string in quotes, got {got}",
    "list_type": 'expected a list like ["a", "b"], got {got}',
    "dict_type": "expected a table, got {got}",
    "model_type": "expected a table, got {got}",
    "path_type": "expected a path in quotes, got {got}",
    "too_short": "must not be empty",
    "greater_than": "must be greater than {gt:g}, got {got}",
    "greater_than_equal": "must be at least {ge:g}, got {got}",
    "less_than_equal": "must be at most {le:g}, got {got}",
    "literal_error": "must be one of {expected}; got {got}",
}

STRICT = ConfigDict(extra="forbid", strict=True)
PositiveSeconds = Annotated[float, Field(gt=0)]

CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
# The scheduled jobs and their default triggers (practice time zone).
DEFAULT_CRON = {
    "claims": "0 6,13 * * mon-fri",
    "remittances": "30 6 * * mon-fri",
    "auths": "0 7 * * mon-fri",
    "enrollments": "0 5 * * mon",
    "auth_requests": "*/5 * * * *",  # prior-auth requests staff queued: submitted within minutes
    "appeals": "*/5 * * * *",  # appeals staff queued: filed online within minutes
    "appeal_status": "0 9 * * mon-fri",  # filed appeals' status pages, once a business day
    "purge": "15 2 * * *",
    "digest": "0 7 * * *",
}
# Jobs that run once for the whole worker, never per portal.
WORKER_JOBS = {"purge": "the purge", "digest": "the daily summary"}
MAX_PRACTICE_NAME = 100


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and every problem in it."""

    def __init__(self, problems: str | list[str], path: Path | None = None) -> None:
        self.path = path
        self.problems = [problems] if isinstance(problems, str) else problems
        prefix = f"{path.name}: " if path else ""
        super().__init__("\n".join(f"{prefix}{problem}" for problem in self.problems))


class WorkerSettings(BaseModel):
    model_config = STRICT

    data_dir: Annotated[Path, Field(strict=False)] = Path("data")
    timezone: str = "America/New_York"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("data_dir")
    @classmethod
    def _resolve_data_dir(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("config_dir") or Path.cwd()
        return (Path(base) / value.expanduser()).resolve()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'{json.dumps(value)} is not a time zone name (e.g. "America/New_York")') from None
        return value

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DatabaseSettings(BaseModel):
    model_config = STRICT

    url: str = ""  # empty: SQLite file in data_dir

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        if not value:
            return value
        # The URL may hold a database password: never repeat it in a message.
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            raise ValueError("is not a database URL (e.g. postgresql+psycopg://host/dbname)") from None
        if driver not in DATABASE_DRIVERS:
            raise ValueError(f'driver "{driver}" is not supported (use sqlite:/// or postgresql+psycopg://)')
        return value


class BrowserSettings(BaseModel):
    model_config = STRICT

    executable_path: str = ""  # empty: auto-detect a system Chromium
    headless: bool = True
    navigation_timeout_s: PositiveSeconds = 30
    element_timeout_s: PositiveSeconds = 10
    extra_args: list[str] = Field(default_factory=list)

    @field_validator("executable_path")
    @classmethod
    def _expand_home(cls, value: str) -> str:
        return str(Path(value).expanduser()) if value else value


class CheckSettings(BaseModel):
    model_config = STRICT

    backoff_minutes: Annotated[float, Field(gt=0)] = 15
    max_backoff_minutes: Annotated[float, Field(gt=0)] = 360

    @field_validator("max_backoff_minutes")
    @classmethod
    def _not_below_first_pause(cls, value: int, info: ValidationInfo) -> int:
        first = info.data.get("backoff_minutes")
        if first is not None and value < first:
            raise ValueError(f"must be at least backoff_minutes ({first:g})")
        return value


class FindingSettings(BaseModel):
    """When authorizations and enrollments become findings (alerts, once alerts exist)."""

    model_config = STRICT

    auth_expiry_days: Annotated[int, Field(ge=0)] = 14
    auth_units_threshold: Annotated[float, Field(gt=0, le=1, strict=False)] = 0.8
    revalidation_days: Annotated[int, Field(ge=0)] = 90
    caqh_interval_days: Annotated[int, Field(gt=0)] = 120
    caqh_notice_days: Annotated[int, Field(ge=0)] = 30


def notification_url_problem(url: str) -> str | None:
    """Why Apprise cannot use `url`, or None. Never repeats the URL: it may hold a password or a token."""
    from apprise import Apprise
    from apprise.manager_plugins import NotificationManager

    scheme = URL_SCHEME.match(url)
    if scheme is None:
        return "not a notification URL Apprise understands (no scheme like mailtos:// or slack://)"
    name = scheme.group(1).lower()
    plugins = NotificationManager()  # type: ignore[no-untyped-call]  # apprise leaves it unannotated
    if name not in plugins and not name.startswith("http"):  # Apprise reads some web addresses (Slack, Teams...)
        return f"not a notification URL Apprise understands (scheme {json.dumps(name)})"
    if Apprise.instantiate(url) is None:
        if name in plugins:
            return (
                f"Apprise cannot use this {name}:// URL (a part is missing or malformed; see {plugins[name].setup_url})"
            )
        return f"not a notification URL Apprise understands (scheme {json.dumps(name)})"
    return None


def _notification_url(value: str) -> str:
    problem = notification_url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


NotificationUrl = Annotated[str, AfterValidator(_notification_url)]


class ChannelSettings(BaseModel):
    """One audience of the daily summary: where it goes and which departments' alerts it gets."""

    model_config = STRICT

    urls: list[NotificationUrl] = Field(min_length=1)  # Apprise URLs; each gets the summary once a day
    owners: list[str] = Field(default_factory=list)  # departments; [] = every department

    @field_validator("owners")
    @classmethod
    def _departments(cls, value: list[str]) -> list[str]:
        unknown = [owner for owner in value if owner not in DEPARTMENTS]
        if unknown:
            raise ValueError(
                f"{', '.join(json.dumps(o) for o in unknown)} is not a department (one of: {', '.join(DEPARTMENTS)})"
            )
        return value


class PracticeSettings(BaseModel):
    """Who the worker works for: the name staff know the practice by, in the daily summary's subject and heading."""

    model_config = STRICT

    name: str | None = None  # None: the summary names no practice

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip()
        if not name:
            raise ValueError("must not be empty (leave the key out to name no practice)")
        if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in name):
            raise ValueError("must be plain text on one line (no tabs, line breaks or other control characters)")
        if len(name) > MAX_PRACTICE_NAME:
            raise ValueError(f"must be at most {MAX_PRACTICE_NAME} characters (it goes in email subjects)")
        return name


class AlertSettings(BaseModel):
    """Alerts and the daily summary: who gets what, the escalation ladders, when health becomes an alert."""

    model_config = STRICT

    include_patient_names: bool = False  # minimum necessary: names only when the practice turns them on
    top_items: Annotated[int, Field(ge=1)] = 10  # items listed per summary; the rest are counted
    portal_paused_hours: Annotated[float, Field(gt=0)] = 4
    job_grace: Annotated[float, Field(ge=1, strict=False)] = 2.0  # stale after grace x the job's interval
    delivery_attempts: Annotated[int, Field(ge=1)] = 3  # a failed summary is retried every 15 minutes
    urgent_at_once: bool = True  # worker-health alerts and layout changes go out within 15 minutes
    ladders: dict[str, list[Annotated[int, Field(gt=0)]]] = Field(default_factory=dict)
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)

    @field_validator("ladders")
    @classmethod
    def _ladders(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        problems = [
            f"{json.dumps(kind)} is not an alert kind with a deadline (one of: {', '.join(LADDER_KINDS)})"
            for kind in value
            if kind not in LADDER_KINDS
        ]
        problems += [
            f"{kind}: give at least one number of days, e.g. [30, 14, 7, 3, 1]"
            for kind, days in value.items()
            if not days
        ]
        problems += [
            f"{kind}: a number of days appears twice" for kind, days in value.items() if len(set(days)) != len(days)
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return {kind: sorted(days, reverse=True) for kind, days in value.items()}


class RunSettings(BaseModel):
    """`portal-worker run`: runners, the task queue, retries, the circuit breaker, browser hygiene, health."""

    model_config = STRICT

    runners: Annotated[int, Field(ge=1, le=32)] = 2
    # A batch costs about a second of browser time before its first task (a context, a page, the session
    # probe), and its first page goes without one asked for ahead: 100 spreads that thin.
    batch_size: Annotated[int, Field(ge=1)] = 100
    heartbeat_seconds: PositiveSeconds = 15  # before the keys checked against it
    lease_seconds: PositiveSeconds = 300
    max_attempts: Annotated[int, Field(ge=1)] = 5
    retry_base_seconds: PositiveSeconds = 60
    retry_max_seconds: PositiveSeconds = 3600
    breaker_failures: Annotated[int, Field(ge=1)] = 3
    browser_recycle_tasks: Annotated[int, Field(ge=1)] = 200
    browser_max_rss_mb: Annotated[int, Field(gt=0)] = 1500
    task_deadline_seconds: PositiveSeconds = 600
    stale_after_seconds: PositiveSeconds = 120
    stop_timeout_seconds: PositiveSeconds = 60
    poll_seconds: PositiveSeconds = 5
    layout_recheck_hours: PositiveSeconds = 24

    @field_validator("retry_max_seconds")
    @classmethod
    def _not_below_first_retry(cls, value: float, info: ValidationInfo) -> float:
        return _at_least(value, info, "retry_base_seconds")

    @field_validator("lease_seconds", "stale_after_seconds")
    @classmethod
    def _longer_than_a_heartbeat(cls, value: float, info: ValidationInfo) -> float:
        # A lease or a liveness check no longer than the heartbeat would expire while the runner is healthy.
        heartbeat = info.data.get("heartbeat_seconds")
        if heartbeat is not None and value <= heartbeat:
            raise ValueError(f"must be longer than heartbeat_seconds ({heartbeat:g})")
        return value


class TriggerSettings(BaseModel):
    """When a job fires: a crontab line or a fixed interval, exactly one."""

    model_config = STRICT

    cron: str | None = None  # "minute hour day month day_of_week", day_of_week by name (mon-fri)
    interval_minutes: Annotated[float, Field(gt=0)] | None = None

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value is not None:
            cron_fields(value)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> TriggerSettings:
        if (self.cron is None) == (self.interval_minutes is None):
            raise ValueError("give exactly one of cron or interval_minutes")
        return self


class JobSchedule(TriggerSettings):
    model_config = STRICT

    jitter_seconds: Annotated[int, Field(ge=0)] = 300
    misfire_grace_minutes: Annotated[int, Field(gt=0)] = 60
    enabled: bool = True
    portals: dict[str, TriggerSettings] = Field(default_factory=dict)  # per-portal trigger overrides

    def trigger_for(self, portal: str) -> TriggerSettings:
        """The portal's own trigger when it has one, else the job's."""
        return self.portals.get(portal) or TriggerSettings(cron=self.cron, interval_minutes=self.interval_minutes)


class EligibilitySchedule(JobSchedule):
    """The eligibility check: the day before each visit (`day_before`, for the next business day's appointments)
    and again the morning of it (`same_day`), on the practice's business `days`. It fires at both times; which
    appointments are due at each is decided by flows.eligibility from the same three values."""

    model_config = STRICT

    day_before: str = "16:00"
    same_day: str = "06:30"
    days: str = "mon-fri"

    @model_validator(mode="before")
    @classmethod
    def _times_not_cron(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = sorted({"cron", "interval_minutes", "portals"} & set(data))
            if given:
                raise ValueError(
                    f"{', '.join(given)}: the eligibility check runs at day_before and same_day "
                    '(e.g. day_before = "16:00", same_day = "06:30", days = "mon-fri"), for every portal'
                )
            data = {**data, "cron": "0 0 * * *"}  # replaced below by the two times' own crontab lines
        return data

    @field_validator("day_before", "same_day")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f'{json.dumps(value)} is not a time of day (HH:MM on a 24-hour clock, e.g. "16:00")')
        return f"{int(match[1]):02d}:{match[2]}"

    @field_validator("days")
    @classmethod
    def _business_days(cls, value: str) -> str:
        business_days(value)
        return value

    @model_validator(mode="after")
    def _morning_before_afternoon(self) -> EligibilitySchedule:
        if self.same_day >= self.day_before:
            raise ValueError(
                f"same_day ({self.same_day}) must be earlier in the day than day_before ({self.day_before}): "
                "the morning re-check comes before the next day's check"
            )
        self.cron = self.crons()[0]
        return self

    def crons(self) -> tuple[str, str]:
        """The crontab lines of the day-before check and of the same-day re-check."""
        return tuple(  # type: ignore[return-value]
            f"{int(at[3:])} {int(at[:2])} * * {self.days.replace(' ', '').lower()}"
            for at in (self.day_before, self.same_day)
        )

    @property
    def times(self) -> CheckTimes:
        return CheckTimes(_clock(self.day_before), _clock(self.same_day), business_days(self.days))


def _clock(value: str) -> time:
    return time(int(value[:2]), int(value[3:]))


def _job(name: str) -> Any:
    return Field(default_factory=lambda: JobSchedule(cron=DEFAULT_CRON[name]))


class ScheduleSettings(BaseModel):
    """One table per job; a job table without cron or interval_minutes keeps the job's default cron."""

    model_config = STRICT

    claims: JobSchedule = _job("claims")
    remittances: JobSchedule = _job("remittances")
    auths: JobSchedule = _job("auths")
    enrollments: JobSchedule = _job("enrollments")
    auth_requests: JobSchedule = Field(
        default_factory=lambda: JobSchedule(cron=DEFAULT_CRON["auth_requests"], jitter_seconds=30)
    )
    appeals: JobSchedule = Field(default_factory=lambda: JobSchedule(cron=DEFAULT_CRON["appeals"], jitter_seconds=30))
    appeal_status: JobSchedule = _job("appeal_status")
    purge: JobSchedule = _job("purge")
    digest: JobSchedule = _job("digest")
    eligibility: EligibilitySchedule = Field(default_factory=EligibilitySchedule)

    @model_validator(mode="before")
    @classmethod
    def _default_triggers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            job: {**table, "cron": DEFAULT_CRON[job]}
            if job in DEFAULT_CRON and isinstance(table, dict) and not {"cron", "interval_minutes"} & set(table)
            else table
            for job, table in data.items()
        }

    @field_validator(*WORKER_JOBS)
    @classmethod
    def _worker_jobs_are_not_per_portal(cls, value: JobSchedule, info: ValidationInfo) -> JobSchedule:
        if value.portals:
            raise ValueError(
                f"{WORKER_JOBS[str(info.field_name)]} runs once for the whole worker: per-portal schedules do not apply"
            )
        return value

    def jobs(self) -> dict[str, JobSchedule]:
        """Every job by name (claims, remittances, auths, enrollments, auth_requests, appeals, appeal_status, purge,
        digest, eligibility), enabled or not."""
        return {**{name: getattr(self, name) for name in DEFAULT_CRON}, "eligibility": self.eligibility}


class EvidenceSettings(BaseModel):
    model_config = STRICT

    retention_days: Annotated[int, Field(ge=1)] = 30
    # Records: pages a person may have to show later (a claim's page the first time it showed a status, payment
    # or denial; eligibility and appeal confirmations). Appeals run for months, level after level, and payers
    # audit later, so they are kept far longer than the pages saved when something went wrong.
    records_days: Annotated[int, Field(ge=1)] = 730
    # Which tasks `run` records a Playwright trace of (kept only if the task fails): "retries" (a task's
    # second and later attempts: a failure that repeats), "always", or "never". Tracing every task costs
    # about 40% more CPU per claim; the first failure still saves a screenshot and the page's HTML.
    trace: Literal["retries", "always", "never"] = "retries"


class FeedChannelSettings(BaseModel):
    """One outbound channel to the practice management system: a signed JSON webhook or a CSV drop folder."""

    model_config = STRICT

    kind: Literal["webhook", "csv"]
    url: str | None = None  # webhook: https://, or http:// to this machine
    folder: Annotated[Path | None, Field(strict=False)] = None  # csv: where the PM system's import picks files up
    types: list[str] | None = None  # the event types this channel takes; None: every type
    timeout_seconds: PositiveSeconds = 10  # webhook: for each of connecting, sending and the answer
    max_rows: Annotated[int, Field(ge=1, le=10_000)] = 1000  # csv: events per file at most (read at once)

    @field_validator("url")
    @classmethod
    def _webhook_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or not _port_ok(parts):
            raise ValueError(f"{json.dumps(value)} is not a web address (e.g. https://pm.example.org/hooks/claims)")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold a login name or password (requests are signed with the channel's secret)")
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise ValueError("must be https (events name claims and payments); http is only allowed for localhost")
        return value.strip()

    @field_validator("folder")
    @classmethod
    def _resolve_folder(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        base = (info.context or {}).get("config_dir") or Path.cwd()
        return (Path(base) / value.expanduser()).resolve()

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [name for name in value if name not in EVENT_TYPES]
        if unknown:
            raise ValueError(
                f"unknown event type {', '.join(map(json.dumps, unknown))} (known: {', '.join(EVENT_TYPES)})"
            )
        if not value:
            raise ValueError("must name at least one event type (leave it out for every type)")
        return value

    @model_validator(mode="after")
    def _what_the_kind_needs(self) -> FeedChannelSettings:
        if self.kind == "webhook" and (self.url is None or self.folder is not None):
            raise ValueError('a webhook channel needs url = "https://..." and no folder')
        if self.kind == "csv" and (self.folder is None or self.url is not None):
            raise ValueError('a csv channel needs folder = "/path/to/drop" and no url')
        return self


class FeedSettings(BaseModel):
    """The outbound feed: every change the worker records, sent to the PM system (docs/feed.md)."""

    model_config = STRICT

    # Minimum necessary: patient names and member ids go out only when the practice turns them on.
    include_patient_names: bool = False
    retry_initial_seconds: PositiveSeconds = 10  # after a failed delivery; doubled each failure in a row
    retry_max_seconds: PositiveSeconds = 900
    alert_after_minutes: Annotated[float, Field(gt=0)] = 60  # a channel failing this long alerts IT
    keep_days: Annotated[int, Field(ge=1)] = 90  # events every channel acknowledged are kept this long for replay
    poll_seconds: PositiveSeconds = 2  # how often `run` looks for new events
    channels: dict[str, FeedChannelSettings] = Field(default_factory=dict)

    @field_validator("retry_max_seconds")
    @classmethod
    def _not_below_first_retry(cls, value: float, info: ValidationInfo) -> float:
        return _at_least(value, info, "retry_initial_seconds")


class WebSettings(BaseModel):
    """The staff workspace (`portal-worker web`)."""

    model_config = STRICT

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8765
    # A session ends after this long without a request, and after absolute_hours whatever happens.
    idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    absolute_hours: Annotated[int, Field(ge=1, le=7 * 24)] = 12
    # Failed logins in a row that lock an account, and for how long.
    lockout_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    lockout_minutes: Annotated[int, Field(ge=1)] = 15
    # TLS: both files, or neither (then only loopback, or --behind-proxy).
    tls_cert: Annotated[Path | None, Field(strict=False)] = None
    tls_key: Annotated[Path | None, Field(strict=False)] = None
    # The workspace's address as staff reach it: the daily summary links each item to its page there.
    base_url: str | None = None  # None: the summary has no links

    @field_validator("base_url")
    @classmethod
    def _workspace_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or not _port_ok(parts):
            raise ValueError(f"{json.dumps(value)} is not a web address (e.g. https://billing.example.org/)")
        if parts.query or parts.fragment or value.strip().endswith(("?", "#")):
            raise ValueError("must be the workspace's address without ?query or #fragment (links add their own path)")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold a login name or password (staff log in on the workspace's own page)")
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise ValueError("must be https (staff log in behind these links; http is only allowed for localhost)")
        return value.strip().rstrip("/")

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _resolve_tls_path(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        base = (info.context or {}).get("config_dir") or Path.cwd()
        return (Path(base) / value.expanduser()).resolve()

    @model_validator(mode="after")
    def _both_tls_files(self) -> WebSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both, or neither")
        return self


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018  (urllib checks the port only when it is read)
    except ValueError:
        return False
    return True


class PortalSettings(BaseModel):
    model_config = STRICT

    adapter: str
    base_url: str
    payers: list[str] = Field(min_length=1)
    enabled: bool = True
    navigation_timeout_s: PositiveSeconds | None = None  # None: [browser] value
    element_timeout_s: PositiveSeconds | None = None
    closed_hours: list[str] = Field(default_factory=list)  # daily spans, local time: ["23:00-01:00"]
    open_hours: str | None = None  # "mon-fri 06:00-20:00"; None: always open (outside closed_hours)
    pace_seconds: Annotated[float, Field(ge=0)] = 0.5  # least seconds between two tasks on this portal

    @field_validator("closed_hours")
    @classmethod
    def _spans(cls, value: list[str]) -> list[str]:
        for span in value:
            parse_span(span)
        return value

    @field_validator("open_hours")
    @classmethod
    def _open_hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_open_hours(value)
        return value

    @model_validator(mode="after")
    def _ever_open(self) -> PortalSettings:
        try:
            portal_hours(self.closed_hours, self.open_hours)
        except ValueError as exc:
            raise ValueError(f"closed_hours / open_hours: {exc}") from None
        return self

    @property
    def hours(self) -> PortalHours:
        """When the worker may log in to this portal (worker.timezone)."""
        return portal_hours(self.closed_hours, self.open_hours)

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, value: str) -> str:
        if value not in adapter_names():
            raise ValueError(f"{json.dumps(value)} is not an adapter (one of: {', '.join(adapter_names())})")
        return value

    @field_validator("base_url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{json.dumps(value)} is not a web address (e.g. https://portal.example.com/)")
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise ValueError("must be https (http is only allowed for localhost)")
        return value.rstrip("/")

    @field_validator("payers")
    @classmethod
    def _payer_ids(cls, value: list[str]) -> list[str]:
        payers = [payer.strip() for payer in value]
        if not all(payers):
            raise ValueError("a payer id is empty")
        return payers


class Settings(BaseModel):
    model_config = STRICT

    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    browser: BrowserSettings = Field(default_factory=BrowserSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
    findings: FindingSettings = Field(default_factory=FindingSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    practice: PracticeSettings = Field(default_factory=PracticeSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    feed: FeedSettings = Field(default_factory=FeedSettings)
    portals: dict[str, PortalSettings] = Field(min_length=1)

    _config_path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _portal_table_rules(self) -> Settings:
        problems = portal_table_problems({name: p.payers for name, p in self.portals.items()})
        problems += schedule_portal_problems(
            {job: list(schedule.portals) for job, schedule in self.schedule.jobs().items()}, self.portals
        )
        problems += channel_name_problems(self.alerts.channels)
        problems += channel_name_problems(self.feed.channels, table="feed.channels")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read and validate `path`; ConfigError lists every problem found."""
        path = Path(path).expanduser().resolve()
        raw = _read_toml(path)
        problems: list[str] = []
        settings: Settings | None = None
        try:
            settings = cls.model_validate(raw, context={"config_dir": path.parent})
        except ValidationError as exc:
            problems += [line for error in exc.errors() for line in _describe(error)]
        # Portal names and payer overlaps are checked on the raw tables too, so they are
        # reported even when some other value in a portal is wrong.
        problems += portal_table_problems(_raw_payers(raw.get("portals")))
        problems += schedule_portal_problems(
            _raw_schedule_portals(raw.get("schedule")), raw["portals"] if isinstance(raw.get("portals"), dict) else {}
        )
        problems += channel_name_problems(_raw_channels(raw.get("alerts")))
        problems += channel_name_problems(_raw_channels(raw.get("feed")), table="feed.channels")
        from flows.appeal_packet import letter_problems  # Jinja and the store's models: not for every import

        problems += playbook_problems(path.parent) + letter_problems(path.parent)
        problems = list(dict.fromkeys(problems))
        if problems or settings is None:
            raise ConfigError(problems, path)
        settings._config_path = path
        return settings

    @property
    def config_path(self) -> Path | None:
        """The file these settings came from (None when built in code)."""
        return self._config_path

    def database_url(self) -> str:
        """The configured URL, or the SQLite file in data_dir; relative SQLite paths follow the config file."""
        if not self.database.url:
            return sqlite_url(self.worker.data_dir)
        url = make_url(self.database.url)
        if url.drivername == "sqlite" and url.database and url.database != ":memory:":
            base = self._config_path.parent if self._config_path else Path.cwd()
            database = (base / Path(url.database).expanduser()).resolve()
            return url.set(database=str(database)).render_as_string(hide_password=False)
        return self.database.url

    def playbook(self) -> Playbook:
        """The payer playbook: the shipped one with this installation's payer_playbook.toml laid over it."""
        return load_playbook(self._config_path.parent if self._config_path else None)

    def portal_for_payer(self, payer_id: str) -> str | None:
        """The portal (config name) that serves `payer_id`, enabled or not."""
        for name, portal in self.portals.items():
            if payer_id in portal.payers:
                return name
        return None


def portal_table_problems(payers_by_portal: Mapping[str, list[str]]) -> list[str]:
    """Bad portal names, and payers claimed by two portals (each problem names both)."""
    problems = [
        f"portals.{name}: a portal name may only use a-z, 0-9, _ and -"
        for name in payers_by_portal
        if not PORTAL_NAME.fullmatch(name)
    ]
    served_by: dict[str, str] = {}
    for name, payers in payers_by_portal.items():
        for payer in payers:
            first = served_by.setdefault(payer, name)
            if first != name:
                problems.append(
                    f"portals.{name}.payers: payer {payer} is already served by portal "
                    f"{first} (a payer may be served by only one portal)"
                )
    return problems


def schedule_portal_problems(portals_by_job: Mapping[str, list[str]], configured: Collection[str]) -> list[str]:
    """schedule.JOB.portals.NAME must name a configured portal."""
    known = ", ".join(sorted(configured)) or "none"
    return [
        f"schedule.{job}.portals.{name}: there is no [portals.{name}] (configured: {known})"
        for job, names in portals_by_job.items()
        for name in names
        if name not in configured
    ]


def channel_name_problems(names: Collection[str], table: str = "alerts.channels") -> list[str]:
    """A channel's name becomes part of a file name (its summary's, its CSV files')."""
    return [
        f"{table}.{name}: a channel name may only use a-z, 0-9, _ and - (it names the channel's files)"
        for name in names
        if not PORTAL_NAME.fullmatch(name)
    ]


def _raw_channels(alerts: Any) -> list[str]:
    channels = alerts.get("channels") if isinstance(alerts, dict) else None
    return list(channels) if isinstance(channels, dict) else []


def cron_fields(expr: str) -> dict[str, str]:
    """A crontab line as APScheduler CronTrigger keyword arguments; ValueError says which field is wrong.

    Day of week must be named (mon-fri): APScheduler counts 0 as Monday where crontab counts it as Sunday,
    so a number would silently move every weekly job by a day.
    """
    fields = expr.split()
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(
            f"{json.dumps(expr)} is not a crontab line (expected 5 fields: minute hour day month "
            f"day_of_week, got {len(fields)})"
        )
    values = dict(zip(CRON_FIELDS, fields, strict=True))
    if any(character.isdigit() for character in values["day_of_week"]):
        raise ValueError(
            f"{json.dumps(expr)} is not a crontab line (day_of_week: use day names like mon-fri or "
            "sat,sun; numbers mean different days to crontab and to the scheduler)"
        )
    for name, value in values.items():
        try:
            CronTrigger(timezone="UTC", **{name: value})
        except ValueError as exc:
            detail = re.sub(r"^Error validating expression '[^']*': ", "", str(exc))
            raise ValueError(f"{json.dumps(expr)} is not a crontab line ({name}: {detail})") from None
    return values


def _raw_schedule_portals(schedule: Any) -> dict[str, list[str]]:
    """Portal names per job from the raw TOML, skipping whatever is the wrong type (reported elsewhere)."""
    if not isinstance(schedule, dict):
        return {}
    return {
        job: list(table["portals"])
        for job, table in schedule.items()
        if isinstance(table, dict) and isinstance(table.get("portals"), dict)
    }


def _at_least(value: float, info: ValidationInfo, other: str) -> float:
    first = info.data.get(other)
    if first is not None and value < first:
        raise ValueError(f"must be at least {other} ({first:g})")
    return value


def _raw_payers(portals: Any) -> dict[str, list[str]]:
    """Payer ids per portal from the raw TOML, skipping whatever is the wrong type (reported elsewhere)."""
    if not isinstance(portals, dict):
        return {}
    result: dict[str, list[str]] = {}
    for name, table in portals.items():
        payers = table.get("payers") if isinstance(table, dict) else None
        result[name] = (
            [p.strip() for p in payers if isinstance(p, str) and p.strip()] if isinstance(payers, list) else []
        )
    return result


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(["file not found (copy config/portal-worker.example.toml to start)"], path) from None
    except OSError as exc:
        raise ConfigError([f"cannot be read ({(exc.strerror or type(exc).__name__).lower()})"], path) from None
    except UnicodeDecodeError:
        raise ConfigError(["is not UTF-8 text"], path) from None
    except tomllib.TOMLDecodeError as exc:
        # The message already says "(at line L, column C)".
        raise ConfigError([f"not valid TOML: {exc}"], path) from None


def _describe(error: ErrorDetails) -> list[str]:
    """Pydantic's error as `dotted.key: what is wrong`, in words a config editor understands."""
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    ctx = error.get("ctx", {})
    if error["type"] == "value_error":
        message = str(ctx.get("error", error["msg"]))
        if not key:  # a rule over the whole file: its lines already start with their keys
            return message.splitlines()
    elif key == "portals" and error["type"] in ("missing", "too_short"):
        message = "at least one [portals.NAME] table is required"
    else:
        template = ERROR_MESSAGES.get(error["type"])
        got = error.get("input")
        if isinstance(got, str) and SECRET_KEYS.match(key):
            got = ...  # a URL that may hold a password or token is never repeated
        message = template.format(got=_toml_value(got), **ctx) if template else error["msg"]
    return [f"{key}: {message}" if key else message]


def _toml_value(value: Any) -> str:
    """A value as it would be written in TOML, for 'got ...' messages."""
    if value is ...:
        return "a string (not shown: it may hold a password)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
