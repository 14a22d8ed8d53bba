"""The worker's settings: one TOML file, validated up front, every problem named by its key."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
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

from store.db import sqlite_url

# The adapter kinds config may name; kept here so settings never import the adapters themselves.
KNOWN_ADAPTERS = ("summit_exchange", "unity_health", "lakeshore_medicaid")
PORTAL_NAME = re.compile(r"[a-z0-9_-]+")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DATABASE_DRIVERS = ("sqlite", "postgresql+psycopg")

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
    "literal_error": "must be one of {expected}; got {got}",
}

STRICT = ConfigDict(extra="forbid", strict=True)
PositiveSeconds = Annotated[float, Field(gt=0)]


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

    backoff_minutes: Annotated[int, Field(gt=0)] = 15
    max_backoff_minutes: Annotated[int, Field(gt=0)] = 360

    @field_validator("max_backoff_minutes")
    @classmethod
    def _not_below_first_pause(cls, value: int, info: ValidationInfo) -> int:
        first = info.data.get("backoff_minutes")
        if first is not None and value < first:
            raise ValueError(f"must be at least backoff_minutes ({first})")
        return value


class FindingSettings(BaseModel):
    """When authorizations and enrollments become findings (alerts, once alerts exist)."""

    model_config = STRICT

    auth_expiry_days: Annotated[int, Field(ge=0)] = 14
    auth_units_threshold: Annotated[float, Field(gt=0, le=1, strict=False)] = 0.8
    revalidation_days: Annotated[int, Field(ge=0)] = 90
    caqh_interval_days: Annotated[int, Field(gt=0)] = 120
    caqh_notice_days: Annotated[int, Field(ge=0)] = 30


class PortalSettings(BaseModel):
    model_config = STRICT

    adapter: str
    base_url: str
    payers: list[str] = Field(min_length=1)
    enabled: bool = True
    navigation_timeout_s: PositiveSeconds | None = None  # None: [browser] value
    element_timeout_s: PositiveSeconds | None = None

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, value: str) -> str:
        if value not in KNOWN_ADAPTERS:
            raise ValueError(f"{json.dumps(value)} is not an adapter (one of: {', '.join(KNOWN_ADAPTERS)})")
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
    portals: dict[str, PortalSettings] = Field(min_length=1)

    _config_path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _portal_table_rules(self) -> Settings:
        problems = portal_table_problems({name: p.payers for name, p in self.portals.items()})
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
        for name in payers_by_portal if not PORTAL_NAME.fullmatch(name)
    ]
    served_by: dict[str, str] = {}
    for name, payers in payers_by_portal.items():
        for payer in payers:
            first = served_by.setdefault(payer, name)
            if first != name:
                problems.append(f"portals.{name}.payers: payer {payer} is already served by portal "
                                f"{first} (a payer may be served by only one portal)")
    return problems


def _raw_payers(portals: Any) -> dict[str, list[str]]:
    """Payer ids per portal from the raw TOML, skipping whatever is the wrong type (reported elsewhere)."""
    if not isinstance(portals, dict):
        return {}
    result: dict[str, list[str]] = {}
    for name, table in portals.items():
        payers = table.get("payers") if isinstance(table, dict) else None
        result[name] = [p.strip() for p in payers if isinstance(p, str) and p.strip()] \
            if isinstance(payers, list) else []
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
    key = ".".join(str(part) for part in error["loc"])
    ctx = error.get("ctx", {})
    if error["type"] == "value_error":
        message = str(ctx.get("error", error["msg"]))
        if not key:  # a rule over the whole file: its lines already start with their keys
            return message.splitlines()
    elif key == "portals" and error["type"] in ("missing", "too_short"):
        message = "at least one [portals.NAME] table is required"
    else:
        template = ERROR_MESSAGES.get(error["type"])
        message = template.format(got=_toml_value(error.get("input")), **ctx) if template else error["msg"]
    return [f"{key}: {message}" if key else message]


def _toml_value(value: Any) -> str:
    """A value as it would be written in TOML, for 'got ...' messages."""
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
