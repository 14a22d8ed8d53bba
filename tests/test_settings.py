"""Worker settings: the example config loads; every bad value is named by its dotted key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.windows import portal_hours
from portals.registry import adapter_names
from worker.settings import ConfigError, Settings, cron_fields

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "portal-worker.example.toml"

VALID = """
[worker]
timezone = "America/Chicago"

[browser]
navigation_timeout_s = 30

[portals.summit]
adapter = "summit_exchange"
base_url = "https://portal.summit.example/"
payers = ["NWM", "BBH"]

[portals.unity]
adapter = "unity_health"
base_url = "https://unity.example"
payers = ["UHP"]
"""


def write(folder: Path, text: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(folder: Path, text: str) -> str:
    with pytest.raises(ConfigError) as error:
        Settings.load(write(folder, text))
    return str(error.value)


def test_the_example_config_loads() -> None:
    settings = Settings.load(EXAMPLE)

    assert settings.config_path == EXAMPLE
    assert {name: p.adapter for name, p in settings.portals.items()} == {
        "clearinghouse": "summit_exchange",
        "unity": "unity_health",
        "medicaid": "lakeshore_medicaid",
    }
    assert {p.adapter for p in settings.portals.values()} == set(adapter_names())
    assert settings.portal_for_payer("NWM") == settings.portal_for_payer("BBH") == "clearinghouse"
    assert settings.portal_for_payer("UHP") == "unity"
    assert settings.portal_for_payer("LSM") == "medicaid"
    assert settings.portal_for_payer("XYZ") is None
    assert all(p.base_url.startswith("http://127.0.0.1:8765/") for p in settings.portals.values())
    medicaid = settings.portals["medicaid"]
    assert medicaid.navigation_timeout_s is not None
    assert medicaid.navigation_timeout_s > settings.browser.navigation_timeout_s
    assert settings.worker.data_dir == EXAMPLE.parent / "data"
    assert settings.database_url() == f"sqlite:///{EXAMPLE.parent / 'data' / 'portal-worker.db'}"


def test_defaults_fill_the_optional_sections(tmp_path: Path) -> None:
    settings = Settings.load(write(tmp_path, VALID))

    assert settings.worker.timezone == "America/Chicago"
    assert settings.worker.log_level == "info"
    assert settings.browser.headless is True
    assert (settings.check.backoff_minutes, settings.check.max_backoff_minutes) == (15, 360)
    assert settings.portals["summit"].base_url == "https://portal.summit.example"
    assert settings.portals["summit"].enabled is True
    assert settings.portals["unity"].navigation_timeout_s is None


def test_relative_data_dir_follows_the_config_file_not_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = write(etc, VALID.replace("[worker]\n", '[worker]\ndata_dir = "state/worker"\n'))

    settings = Settings.load(Path("../etc/config.toml"))

    assert settings.config_path == config
    assert settings.worker.data_dir == etc / "state" / "worker"
    assert settings.database_url() == f"sqlite:///{etc / 'state' / 'worker' / 'portal-worker.db'}"


def test_home_and_absolute_data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = Settings.load(write(tmp_path, VALID.replace("[worker]\n", '[worker]\ndata_dir = "~/pw"\n')))
    absolute = Settings.load(write(tmp_path, VALID.replace("[worker]\n", '[worker]\ndata_dir = "/var/lib/pw"\n')))

    assert home.worker.data_dir == tmp_path / "home" / "pw"
    assert absolute.worker.data_dir == Path("/var/lib/pw")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://worker@db.internal/pw", "postgresql+psycopg://worker@db.internal/pw"),
        ("sqlite:///db/pw.sqlite", "sqlite:///{dir}/db/pw.sqlite"),
        ("sqlite:////srv/pw.sqlite", "sqlite:////srv/pw.sqlite"),
    ],
)
def test_database_url(tmp_path: Path, url: str, expected: str) -> None:
    settings = Settings.load(write(tmp_path, f'[database]\nurl = "{url}"\n' + VALID))
    assert settings.database_url() == expected.format(dir=tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # unknown keys, at every level
        ('colour = "blue"\n' + VALID, "colour: unknown key"),
        (VALID.replace("[worker]\n", '[worker]\ncolour = "blue"\n'), "worker.colour: unknown key"),
        ('[database]\nuri = ""\n' + VALID, "database.uri: unknown key"),
        (VALID.replace("[browser]\n", "[browser]\nheadles = true\n"), "browser.headles: unknown key"),
        ("[check]\nbackoff = 5\n" + VALID, "check.backoff: unknown key"),
        (VALID + "speed = 3\n", "portals.unity.speed: unknown key"),
        ("[wroker]\n" + VALID, "wroker: unknown key"),
        # wrong types
        (
            VALID.replace("[browser]\n", '[browser]\nheadless = "yes"\n'),
            'browser.headless: expected true/false, got "yes"',
        ),
        (
            VALID.replace("navigation_timeout_s = 30", 'navigation_timeout_s = "30"'),
            'browser.navigation_timeout_s: expected a number, got "30"',
        ),
        (VALID.replace('payers = ["UHP"]', 'payers = "UHP"'), "portals.unity.payers: expected a list"),
        (VALID.replace("[worker]\n", "[worker]\ndata_dir = 5\n"), "worker.data_dir: expected a path in quotes, got 5"),
        (VALID + "enabled = 1\n", "portals.unity.enabled: expected true/false, got 1"),
        ('worker = "x"\n' + VALID.replace("[worker]\n", "[other]\n"), "worker: expected a table"),
        ('[check]\nbackoff_minutes = "15"\n' + VALID, 'check.backoff_minutes: expected a number, got "15"'),
        # bad values
        (VALID.replace('"unity_health"', '"unity"'), 'portals.unity.adapter: "unity" is not an adapter'),
        (
            VALID.replace("https://unity.example", "http://unity.example"),
            "portals.unity.base_url: must be https (http is only allowed for localhost)",
        ),
        (VALID.replace("https://unity.example", "ftp://unity.example"), "portals.unity.base_url: "),
        (
            VALID.replace('payers = ["UHP"]', 'payers = ["UHP", "BBH"]'),
            "portals.unity.payers: payer BBH is already served by portal summit",
        ),
        (VALID.replace('payers = ["UHP"]', "payers = []"), "portals.unity.payers: must not be empty"),
        (
            VALID.replace("America/Chicago", "Mars/Olympus_Mons"),
            'worker.timezone: "Mars/Olympus_Mons" is not a time zone',
        ),
        (VALID.replace("[worker]\n", '[worker]\nlog_level = "loud"\n'), "worker.log_level: must be one of"),
        (
            VALID.replace("navigation_timeout_s = 30", "navigation_timeout_s = -5"),
            "browser.navigation_timeout_s: must be greater than 0, got -5",
        ),
        (VALID + "element_timeout_s = 0\n", "portals.unity.element_timeout_s: must be greater than 0"),
        (
            "[check]\nbackoff_minutes = 60\nmax_backoff_minutes = 30\n" + VALID,
            "check.max_backoff_minutes: must be at least backoff_minutes (60)",
        ),
        ('[database]\nurl = "mysql://db/x"\n' + VALID, 'database.url: driver "mysql" is not supported'),
        (
            VALID.replace("[portals.unity]", '[portals."Unity Plans"]'),
            "portals.Unity Plans: a portal name may only use",
        ),
        # the file as a whole
        ('[worker]\nlog_level = "info"\n', "portals: at least one [portals.NAME] table is required"),
        ("portals = {}\n", "portals: at least one [portals.NAME] table is required"),
    ],
)
def test_a_bad_value_is_named_by_its_key(tmp_path: Path, change: str, expected: str) -> None:
    message = problems_of(tmp_path, change)

    assert f"config.toml: {expected}" in message
    assert "pydantic" not in message and "Input should" not in message


def test_an_unknown_adapter_is_named_by_its_key_with_every_adapter_there_is(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace('"unity_health"', '"unity_helth"'))

    assert message == (
        'config.toml: portals.unity.adapter: "unity_helth" is not an adapter '
        "(one of: summit_exchange, unity_health, lakeshore_medicaid)"
    )
    assert ", ".join(adapter_names()) in message  # the list is the registry's, not a copy


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = (
        VALID.replace("[worker]\n", '[worker]\ncolour = "blue"\nlog_level = "loud"\n')
        .replace("https://unity.example", "http://unity.example")
        .replace('payers = ["UHP"]', 'payers = ["UHP", "NWM"]')
    )

    message = problems_of(tmp_path, text)

    lines = message.splitlines()
    assert len(lines) == 4
    assert all(line.startswith("config.toml: ") for line in lines)
    for key in ("worker.colour", "worker.log_level", "portals.unity.base_url", "portals.unity.payers"):
        assert any(line.startswith(f"config.toml: {key}: ") for line in lines)


def test_local_http_is_allowed_for_the_fake_portal(tmp_path: Path) -> None:
    for host in ("localhost:8765", "127.0.0.1:8765", "[::1]:8765"):
        settings = Settings.load(write(tmp_path, VALID.replace("https://unity.example", f"http://{host}/commercial")))
        assert settings.portals["unity"].base_url == f"http://{host}/commercial"


def test_a_toml_syntax_error_says_where(tmp_path: Path) -> None:
    message = problems_of(tmp_path, VALID.replace('adapter = "unity_health"', "adapter = unity_health"))

    assert message.startswith("config.toml: not valid TOML: ")
    assert "line 14, column 11" in message
    assert "Traceback" not in message


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.load(tmp_path / "nowhere.toml")
    assert str(error.value).startswith("nowhere.toml: file not found")


def test_settings_built_in_code_still_refuse_a_payer_on_two_portals() -> None:
    portal = {"adapter": "unity_health", "base_url": "https://a.example", "payers": ["UHP"]}
    with pytest.raises(ValidationError, match="payer UHP is already served by portal a"):
        Settings.model_validate({"portals": {"a": portal, "b": {**portal, "base_url": "https://b.example"}}})


def test_config_error_also_takes_a_plain_message() -> None:
    assert str(ConfigError("no portal named 'x'")) == "no portal named 'x'"
    assert (
        str(ConfigError(["a: bad", "b: worse"], Path("/etc/pw/config.toml")))
        == "config.toml: a: bad\nconfig.toml: b: worse"
    )


# --- [run], [schedule], [evidence] and portal hours (issue 5) ---------------------------------------------------


def test_run_schedule_and_evidence_defaults(tmp_path: Path) -> None:
    settings = Settings.load(write(tmp_path, VALID))

    run = settings.run
    assert (run.runners, run.batch_size, run.lease_seconds, run.max_attempts) == (2, 100, 300, 5)
    assert (run.retry_base_seconds, run.retry_max_seconds, run.breaker_failures) == (60, 3600, 3)
    assert (run.browser_recycle_tasks, run.browser_max_rss_mb, run.task_deadline_seconds) == (200, 1500, 600)
    assert (run.heartbeat_seconds, run.stale_after_seconds, run.stop_timeout_seconds) == (15, 120, 60)
    assert (run.poll_seconds, run.layout_recheck_hours) == (5, 24)
    assert {name: job.cron for name, job in settings.schedule.jobs().items()} == {
        "claims": "0 6,13 * * mon-fri",
        "remittances": "30 6 * * mon-fri",
        "auths": "0 7 * * mon-fri",
        "enrollments": "0 5 * * mon",
        "auth_requests": "*/5 * * * *",
        "appeals": "*/5 * * * *",
        "appeal_status": "0 9 * * mon-fri",
        "purge": "15 2 * * *",
        "digest": "0 7 * * *",
        "eligibility": "0 16 * * mon-fri",  # the day-before check; the same-day re-check is its second line
    }
    eligibility = settings.schedule.eligibility
    assert (eligibility.day_before, eligibility.same_day, eligibility.days) == ("16:00", "06:30", "mon-fri")
    assert eligibility.crons() == ("0 16 * * mon-fri", "30 6 * * mon-fri")
    claims = settings.schedule.claims
    assert (
        claims.interval_minutes,
        claims.jitter_seconds,
        claims.misfire_grace_minutes,
        claims.enabled,
        claims.portals,
    ) == (None, 300, 60, True, {})
    assert (settings.evidence.retention_days, settings.evidence.trace) == (30, "retries")
    unity = settings.portals["unity"]
    assert (unity.closed_hours, unity.open_hours, unity.pace_seconds) == ([], None, 0.5)
    assert unity.hours.always_open


def test_the_example_config_documents_the_new_keys() -> None:
    settings = Settings.load(EXAMPLE)
    text = EXAMPLE.read_text()

    for key in (
        "[web]",
        "idle_minutes",
        "absolute_hours",
        "lockout_attempts",
        "lockout_minutes",
        "tls_cert",
        "runners",
        "batch_size",
        "lease_seconds",
        "max_attempts",
        "retry_base_seconds",
        "retry_max_seconds",
        "breaker_failures",
        "browser_recycle_tasks",
        "browser_max_rss_mb",
        "task_deadline_seconds",
        "heartbeat_seconds",
        "stale_after_seconds",
        "stop_timeout_seconds",
        "poll_seconds",
        "layout_recheck_hours",
        "[schedule.claims]",
        "interval_minutes",
        "jitter_seconds",
        "misfire_grace_minutes",
        "[schedule.claims.portals.",
        "retention_days",
        "trace =",
        "closed_hours",
        "open_hours",
        "pace_seconds",
        "[practice]",
        "# name = ",
        "# base_url = ",
    ):
        assert key in text, key
    assert settings.portals["medicaid"].closed_hours == ["23:00-01:00"]
    assert settings.schedule.enrollments.cron == "0 5 * * mon"


def test_schedule_tables_interval_and_per_portal_triggers(tmp_path: Path) -> None:
    text = (
        VALID
        + """
[schedule.claims]
interval_minutes = 90
enabled = false
[schedule.claims.portals.unity]
cron = "30 7 * * mon-fri"

[schedule.auths]
jitter_seconds = 0
"""
    )
    settings = Settings.load(write(tmp_path, text))

    claims = settings.schedule.claims
    assert (claims.cron, claims.interval_minutes, claims.enabled) == (None, 90, False)
    assert claims.trigger_for("unity").cron == "30 7 * * mon-fri"
    assert claims.trigger_for("summit").interval_minutes == 90
    # a job table without a trigger keeps its default cron
    assert (settings.schedule.auths.cron, settings.schedule.auths.jitter_seconds) == ("0 7 * * mon-fri", 0)


def test_portal_hours_from_config(tmp_path: Path) -> None:
    text = VALID + 'closed_hours = ["23:00-01:00"]\nopen_hours = "mon-fri 06:00-20:00"\npace_seconds = 1.0\n'

    unity = Settings.load(write(tmp_path, text)).portals["unity"]

    assert unity.hours == portal_hours(["23:00-01:00"], "mon-fri 06:00-20:00")
    assert unity.pace_seconds == 1.0


def test_the_eligibility_schedule_holds_both_times(tmp_path: Path) -> None:
    text = VALID + '\n[schedule.eligibility]\nday_before = "15:30"\nsame_day = "7:05"\ndays = "mon-thu, sat"\n'
    eligibility = Settings.load(write(tmp_path, text)).schedule.eligibility

    assert (eligibility.day_before, eligibility.same_day) == ("15:30", "07:05")
    assert eligibility.crons() == ("30 15 * * mon-thu,sat", "5 7 * * mon-thu,sat")
    assert eligibility.times.business_days == frozenset({0, 1, 2, 3, 5})
    assert eligibility.times.next_business_day(date(2026, 11, 5)) == date(2026, 11, 7)  # Thursday -> Saturday


def test_cron_fields_for_the_scheduler() -> None:
    assert cron_fields("0 6,13 * * mon-fri") == {
        "minute": "0",
        "hour": "6,13",
        "day": "*",
        "month": "*",
        "day_of_week": "mon-fri",
    }
    assert cron_fields("*/15  7-19 1 jan,jul sat,sun")["month"] == "jan,jul"
    with pytest.raises(ValueError, match=r'"0 25 \* \* \*" is not a crontab line \(hour: '):
        cron_fields("0 25 * * *")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # [run]
        ("[run]\nrunners = 0\n", "run.runners: must be at least 1, got 0"),
        ("[run]\nrunners = 33\n", "run.runners: must be at most 32, got 33"),
        ("[run]\nrunners = 2.5\n", "run.runners: expected a whole number, got 2.5"),
        ('[run]\nbatch_size = "25"\n', 'run.batch_size: expected a whole number, got "25"'),
        ("[run]\nlease_seconds = 0\n", "run.lease_seconds: must be greater than 0, got 0"),
        ("[run]\nheartbeat_seconds = 30\nlease_seconds = 20\n", "run.lease_seconds: must be longer than heartbeat"),
        ("[run]\nstale_after_seconds = 10\n", "run.stale_after_seconds: must be longer than heartbeat_seconds (15)"),
        ("[run]\nmax_attempts = 0\n", "run.max_attempts: must be at least 1, got 0"),
        ("[run]\nretry_base_seconds = -1\n", "run.retry_base_seconds: must be greater than 0, got -1"),
        (
            "[run]\nretry_base_seconds = 600\nretry_max_seconds = 60\n",
            "run.retry_max_seconds: must be at least retry_base_seconds (600)",
        ),
        ("[run]\nbreaker_failures = 0\n", "run.breaker_failures: must be at least 1, got 0"),
        ("[run]\nbrowser_recycle_tasks = 0\n", "run.browser_recycle_tasks: must be at least 1, got 0"),
        ("[run]\nbrowser_max_rss_mb = 0\n", "run.browser_max_rss_mb: must be greater than 0, got 0"),
        ("[run]\ntask_deadline_seconds = 0\n", "run.task_deadline_seconds: must be greater than 0, got 0"),
        ('[run]\nheartbeat_seconds = "15"\n', 'run.heartbeat_seconds: expected a number, got "15"'),
        ("[run]\nstop_timeout_seconds = 0\n", "run.stop_timeout_seconds: must be greater than 0, got 0"),
        ("[run]\npoll_seconds = 0\n", "run.poll_seconds: must be greater than 0, got 0"),
        ("[run]\nlayout_recheck_hours = -1\n", "run.layout_recheck_hours: must be greater than 0, got -1"),
        ("[run]\nrunner = 2\n", "run.runner: unknown key"),
        ('run = "fast"\n', 'run: expected a table, got "fast"'),
        # [schedule]
        ('[schedule.summary]\ncron = "0 7 * * *"\n', "schedule.summary: unknown key"),
        (
            '[schedule.claims]\ncron = "0 25 * * *"\n',
            'schedule.claims.cron: "0 25 * * *" is not a crontab line (hour: the last value (25) is higher than the maximum',  # noqa: E501  (the message as a person reads it)
        ),
        (
            '[schedule.claims]\ncron = "61 6 * * *"\n',
            'schedule.claims.cron: "61 6 * * *" is not a crontab line (minute: ',
        ),
        ('[schedule.claims]\ncron = "0 6 32 * *"\n', 'schedule.claims.cron: "0 6 32 * *" is not a crontab line (day: '),
        (
            '[schedule.claims]\ncron = "0 6 * 13 *"\n',
            'schedule.claims.cron: "0 6 * 13 *" is not a crontab line (month: ',
        ),
        (
            '[schedule.claims]\ncron = "0 6 * * 1-5"\n',
            'schedule.claims.cron: "0 6 * * 1-5" is not a crontab line (day_of_week: use day names like mon-fri',
        ),
        (
            '[schedule.claims]\ncron = "0 6 * * weekdays"\n',
            'schedule.claims.cron: "0 6 * * weekdays" is not a crontab line (day_of_week: ',
        ),
        ('[schedule.claims]\ncron = "0 6 * *"\n', 'schedule.claims.cron: "0 6 * *" is not a crontab line (expected 5 '),
        ('[schedule.claims]\ncron = "@daily"\n', 'schedule.claims.cron: "@daily" is not a crontab line'),
        ("[schedule.claims]\ncron = 6\n", "schedule.claims.cron: expected a string in quotes, got 6"),
        (
            '[schedule.claims]\ncron = "0 6 * * mon"\ninterval_minutes = 60\n',
            "schedule.claims: give exactly one of cron or interval_minutes",
        ),
        (
            "[schedule.claims]\ninterval_minutes = 0\n",
            "schedule.claims.interval_minutes: must be greater than 0, got 0",
        ),
        (
            '[schedule.eligibility]\nday_before = "4pm"\n',
            'schedule.eligibility.day_before: "4pm" is not a time of day (HH:MM on a 24-hour clock',
        ),
        (
            '[schedule.eligibility]\nsame_day = "06:75"\n',
            'schedule.eligibility.same_day: "06:75" is not a time of day',
        ),
        (
            '[schedule.eligibility]\ndays = "mon-funday"\n',
            "schedule.eligibility.days: 'mon-funday' is not a day or a span of days",
        ),
        ('[schedule.eligibility]\ndays = "fri-mon"\n', "schedule.eligibility.days: 'fri-mon' runs backwards"),
        (
            '[schedule.eligibility]\nsame_day = "17:00"\n',
            "schedule.eligibility: same_day (17:00) must be earlier in the day than day_before (16:00)",
        ),
        (
            '[schedule.eligibility]\ncron = "0 16 * * mon-fri"\n',
            "schedule.eligibility: cron: the eligibility check runs at day_before and same_day",
        ),
        (
            '[schedule.eligibility.portals.unity]\ncron = "0 16 * * mon-fri"\n',
            "schedule.eligibility: portals: the eligibility check runs at day_before and same_day",
        ),
        ("[schedule.claims]\njitter_seconds = -1\n", "schedule.claims.jitter_seconds: must be at least 0, got -1"),
        ("[schedule.claims]\njitter_seconds = 1.5\n", "schedule.claims.jitter_seconds: expected a whole number"),
        (
            "[schedule.claims]\nmisfire_grace_minutes = 0\n",
            "schedule.claims.misfire_grace_minutes: must be greater than 0, got 0",
        ),
        ('[schedule.claims]\nenabled = "no"\n', 'schedule.claims.enabled: expected true/false, got "no"'),
        ("[schedule.claims]\nevery = 5\n", "schedule.claims.every: unknown key"),
        (
            '[schedule.claims.portals.lakeshore]\ncron = "30 7 * * mon-fri"\n',
            "schedule.claims.portals.lakeshore: there is no [portals.lakeshore] (configured: summit, unity)",
        ),
        ("[schedule.claims.portals.unity]\n", "schedule.claims.portals.unity: give exactly one of cron or interval"),
        (
            "[schedule.claims.portals.unity]\ninterval_minutes = 30\njitter_seconds = 5\n",
            "schedule.claims.portals.unity.jitter_seconds: unknown key",
        ),
        (
            '[schedule.claims.portals.unity]\ncron = "0 6 * * 0"\n',
            'schedule.claims.portals.unity.cron: "0 6 * * 0" is not a crontab line (day_of_week: ',
        ),
        ('[schedule.purge.portals.unity]\ncron = "0 6 * * *"\n', "schedule.purge: the purge runs once for the whole"),
        ("[schedule]\nclaims = 5\n", "schedule.claims: expected a table, got 5"),
        # [evidence]
        ("[evidence]\nretention_days = 0\n", "evidence.retention_days: must be at least 1, got 0"),
        ("[evidence]\nretention_days = 1.5\n", "evidence.retention_days: expected a whole number, got 1.5"),
        ("[evidence]\nkeep_days = 3\n", "evidence.keep_days: unknown key"),
        ('[evidence]\ntrace = "sometimes"\n', "evidence.trace: "),
        # [web]
        ("[web]\nport = 0\n", "web.port: must be at least 1, got 0"),
        ("[web]\nport = 70000\n", "web.port: must be at most 65535, got 70000"),
        ("[web]\nidle_minutes = 0\n", "web.idle_minutes: must be at least 1, got 0"),
        ("[web]\nlockout_attempts = 0\n", "web.lockout_attempts: must be at least 1, got 0"),
        ('[web]\ntls_cert = "cert.pem"\n', "web: tls_cert and tls_key go together: set both, or neither"),
        ("[web]\nsession_minutes = 5\n", "web.session_minutes: unknown key"),
    ],
)
def test_a_bad_run_schedule_or_evidence_value_is_named_by_its_key(tmp_path: Path, change: str, expected: str) -> None:
    message = problems_of(tmp_path, change + VALID)

    assert f"config.toml: {expected}" in message
    assert "pydantic" not in message and "Input should" not in message


@pytest.mark.parametrize(
    ("portal_lines", "expected"),
    [
        ('closed_hours = "23:00-01:00"\n', "portals.unity.closed_hours: expected a list"),
        ('closed_hours = ["23:00-25:00"]\n', 'portals.unity.closed_hours: "23:00-25:00": 25:00 is not a time of day'),
        (
            'closed_hours = ["11pm-1am"]\n',
            'portals.unity.closed_hours: "11pm-1am" is not a time span like "23:00-01:00"',
        ),
        ('closed_hours = ["10:00-10:00"]\n', 'portals.unity.closed_hours: "10:00-10:00" starts and ends at the same'),
        (
            'open_hours = "weekdays 07:00-19:00"\n',
            'portals.unity.open_hours: "weekdays 07:00-19:00": "weekdays" is not a',
        ),
        (
            'open_hours = "mon-fri"\n',
            'portals.unity.open_hours: "mon-fri" is not open hours like "mon-fri 07:00-19:00"',
        ),
        ("open_hours = 7\n", "portals.unity.open_hours: expected a string in quotes, got 7"),
        (
            'closed_hours = ["00:00-12:00", "12:00-24:00"]\n',
            "portals.unity: closed_hours / open_hours: the closed hours cover all of the open hours",
        ),
        ("pace_seconds = -1\n", "portals.unity.pace_seconds: must be at least 0, got -1"),
        ('pace_seconds = "1"\n', 'portals.unity.pace_seconds: expected a number, got "1"'),
    ],
)
def test_bad_portal_hours_are_named_by_their_key(tmp_path: Path, portal_lines: str, expected: str) -> None:
    message = problems_of(tmp_path, VALID + portal_lines)

    assert f"config.toml: {expected}" in message


def test_an_unknown_schedule_portal_is_reported_with_other_problems(tmp_path: Path) -> None:
    text = '[run]\nrunners = 0\n[schedule.claims.portals.nowhere]\ncron = "0 6 * * *"\n' + VALID

    lines = problems_of(tmp_path, text).splitlines()

    assert lines == [
        "config.toml: run.runners: must be at least 1, got 0",
        "config.toml: schedule.claims.portals.nowhere: there is no [portals.nowhere] (configured: summit, unity)",
    ]


def test_settings_built_in_code_refuse_a_schedule_for_an_unknown_portal() -> None:
    portal = {"adapter": "unity_health", "base_url": "https://a.example", "payers": ["UHP"]}
    schedule = {"claims": {"portals": {"b": {"interval_minutes": 30}}}}
    with pytest.raises(ValidationError, match=r"schedule.claims.portals.b: there is no \[portals.b\]"):
        Settings.model_validate({"portals": {"a": portal}, "schedule": schedule})


def test_the_practice_name_and_the_workspace_address(tmp_path: Path) -> None:
    settings = Settings.load(
        write(
            tmp_path,
            '[practice]\nname = "  Lakeside Physical Therapy "\n[web]\nbase_url = "https://billing.example.org/pw/"\n'
            + VALID,
        )
    )
    assert settings.practice.name == "Lakeside Physical Therapy"
    assert settings.web.base_url == "https://billing.example.org/pw"  # links add "/a/12"
    defaults = Settings.load(write(tmp_path, VALID))
    assert defaults.practice.name is None and defaults.web.base_url is None
    local = Settings.load(write(tmp_path, '[web]\nbase_url = "http://127.0.0.1:8765"\n' + VALID))
    assert local.web.base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('[practice]\nname = ""\n', "practice.name: must not be empty"),
        ('[practice]\nname = "   "\n', "practice.name: must not be empty"),
        ('[practice]\nname = "Lakeside\\nPT"\n', "practice.name: must be plain text on one line"),
        ('[practice]\nname = "Lakeside\\u0007PT"\n', "practice.name: must be plain text on one line"),
        (f'[practice]\nname = "{"x" * 101}"\n', "practice.name: must be at most 100 characters"),
        ("[practice]\nname = 5\n", "practice.name: expected a string in quotes, got 5"),
        ('[practice]\nnmae = "x"\n', "practice.nmae: unknown key"),
        ('[web]\nbase_url = "billing.example.org"\n', 'web.base_url: "billing.example.org" is not a web address'),
        ('[web]\nbase_url = "ftp://billing.example.org/"\n', "web.base_url: "),
        (
            '[web]\nbase_url = "https://billing.example.org:99999/"\n',
            'web.base_url: "https://billing.example.org:99999/" is not a web address',
        ),
        ('[web]\nbase_url = "https://billing.example.org/?from=email"\n', "web.base_url: must be the workspace's"),
        ('[web]\nbase_url = "https://billing.example.org/#today"\n', "web.base_url: must be the workspace's"),
        ('[web]\nbase_url = "https://ada:pw@billing.example.org/"\n', "web.base_url: must not hold a login name"),
        ('[web]\nbase_url = "http://billing.example.org/"\n', "web.base_url: must be https"),
        ("[web]\nbase_url = true\n", "web.base_url: expected a string in quotes, got true"),
    ],
)
def test_a_bad_practice_name_or_workspace_address_is_named_by_its_key(
    tmp_path: Path, change: str, expected: str
) -> None:
    message = problems_of(tmp_path, change + VALID)

    assert f"config.toml: {expected}" in message
    assert "pydantic" not in message and "Input should" not in message
