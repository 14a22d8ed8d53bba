"""Worker settings: the example config loads; every bad value is named by its dotted key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from worker.settings import KNOWN_ADAPTERS, ConfigError, Settings

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
        "clearinghouse": "summit_exchange", "unity": "unity_health", "medicaid": "lakeshore_medicaid"}
    assert {p.adapter for p in settings.portals.values()} == set(KNOWN_ADAPTERS)
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


def test_relative_data_dir_follows_the_config_file_not_the_cwd(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = write(etc, VALID.replace('[worker]\n', '[worker]\ndata_dir = "state/worker"\n'))

    settings = Settings.load(Path("../etc/config.toml"))

    assert settings.config_path == config
    assert settings.worker.data_dir == etc / "state" / "worker"
    assert settings.database_url() == f"sqlite:///{etc / 'state' / 'worker' / 'portal-worker.db'}"


def test_home_and_absolute_data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = Settings.load(write(tmp_path, VALID.replace('[worker]\n', '[worker]\ndata_dir = "~/pw"\n')))
    absolute = Settings.load(write(tmp_path, VALID.replace('[worker]\n', '[worker]\ndata_dir = "/var/lib/pw"\n')))

    assert home.worker.data_dir == tmp_path / "home" / "pw"
    assert absolute.worker.data_dir == Path("/var/lib/pw")


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql+psycopg://worker@db.internal/pw", "postgresql+psycopg://worker@db.internal/pw"),
    ("sqlite:///db/pw.sqlite", "sqlite:///{dir}/db/pw.sqlite"),
    ("sqlite:////srv/pw.sqlite", "sqlite:////srv/pw.sqlite"),
])
def test_database_url(tmp_path: Path, url: str, expected: str) -> None:
    settings = Settings.load(write(tmp_path, f'[database]\nurl = "{url}"\n' + VALID))
    assert settings.database_url() == expected.format(dir=tmp_path)


@pytest.mark.parametrize(("change", "expected"), [
    # unknown keys, at every level
    ('colour = "blue"\n' + VALID, "colour: unknown key"),
    (VALID.replace("[worker]\n", '[worker]\ncolour = "blue"\n'), "worker.colour: unknown key"),
    ('[database]\nuri = ""\n' + VALID, "database.uri: unknown key"),
    (VALID.replace("[browser]\n", "[browser]\nheadles = true\n"), "browser.headles: unknown key"),
    ("[check]\nbackoff = 5\n" + VALID, "check.backoff: unknown key"),
    (VALID + "speed = 3\n", "portals.unity.speed: unknown key"),
    ("[wroker]\n" + VALID, "wroker: unknown key"),
    # wrong types
    (VALID.replace("[browser]\n", '[browser]\nheadless = "yes"\n'), 'browser.headless: expected true/false, got "yes"'),
    (VALID.replace("navigation_timeout_s = 30", 'navigation_timeout_s = "30"'),
     'browser.navigation_timeout_s: expected a number, got "30"'),
    (VALID.replace('payers = ["UHP"]', 'payers = "UHP"'), "portals.unity.payers: expected a list"),
    (VALID.replace("[worker]\n", "[worker]\ndata_dir = 5\n"), "worker.data_dir: expected a path in quotes, got 5"),
    (VALID + "enabled = 1\n", "portals.unity.enabled: expected true/false, got 1"),
    ('worker = "x"\n' + VALID.replace("[worker]\n", "[other]\n"), "worker: expected a table"),
    ("[check]\nbackoff_minutes = 1.5\n" + VALID, "check.backoff_minutes: expected a whole number, got 1.5"),
    # bad values
    (VALID.replace('"unity_health"', '"unity"'), 'portals.unity.adapter: "unity" is not an adapter'),
    (VALID.replace("https://unity.example", "http://unity.example"),
     "portals.unity.base_url: must be https (http is only allowed for localhost)"),
    (VALID.replace("https://unity.example", "ftp://unity.example"), "portals.unity.base_url: "),
    (VALID.replace('payers = ["UHP"]', 'payers = ["UHP", "BBH"]'),
     "portals.unity.payers: payer BBH is already served by portal summit"),
    (VALID.replace('payers = ["UHP"]', "payers = []"), "portals.unity.payers: must not be empty"),
    (VALID.replace("America/Chicago", "Mars/Olympus_Mons"), 'worker.timezone: "Mars/Olympus_Mons" is not a time zone'),
    (VALID.replace("[worker]\n", '[worker]\nlog_level = "loud"\n'), 'worker.log_level: must be one of'),
    (VALID.replace("navigation_timeout_s = 30", "navigation_timeout_s = -5"),
     "browser.navigation_timeout_s: must be greater than 0, got -5"),
    (VALID + "element_timeout_s = 0\n", "portals.unity.element_timeout_s: must be greater than 0"),
    ("[check]\nbackoff_minutes = 60\nmax_backoff_minutes = 30\n" + VALID,
     "check.max_backoff_minutes: must be at least backoff_minutes (60)"),
    ('[database]\nurl = "mysql://db/x"\n' + VALID, 'database.url: driver "mysql" is not supported'),
    (VALID.replace("[portals.unity]", '[portals."Unity Plans"]'), "portals.Unity Plans: a portal name may only use"),
    # the file as a whole
    ('[worker]\nlog_level = "info"\n', "portals: at least one [portals.NAME] table is required"),
    ("portals = {}\n", "portals: at least one [portals.NAME] table is required"),
])
def test_a_bad_value_is_named_by_its_key(tmp_path: Path, change: str, expected: str) -> None:
    message = problems_of(tmp_path, change)

    assert f"config.toml: {expected}" in message
    assert "pydantic" not in message and "Input should" not in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = (VALID.replace("[worker]\n", '[worker]\ncolour = "blue"\nlog_level = "loud"\n')
            .replace("https://unity.example", "http://unity.example")
            .replace('payers = ["UHP"]', 'payers = ["UHP", "NWM"]'))

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
    assert str(ConfigError(["a: bad", "b: worse"], Path("/etc/pw/config.toml"))) == \
        "config.toml: a: bad\nconfig.toml: b: worse"
