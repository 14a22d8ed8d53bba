"""The payer playbook: shipped defaults per payer and level, validation naming the key, an installation's override."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flows.deadlines import load_payer_rules
from flows.playbook import Channel, load_playbook, playbook
from flows.rules import rules_dir
from worker.settings import ConfigError, Settings

RAW = tomllib.loads((rules_dir() / "payer_playbook.toml").read_text())
BOOK = load_playbook()
CONFIG = """
[portals.summit]
adapter = "summit_exchange"
base_url = "https://portal.summit.example/"
payers = ["NWM", "BBH"]
"""


def test_the_shipped_playbook_covers_every_configured_payer_and_level() -> None:
    rules = load_payer_rules()
    for payer_id, payer in rules.payers.items():
        assert payer_id in BOOK.payers
        for level in range(len(payer.appeal_levels) + 1):
            entry = BOOK.level(payer_id, level)
            assert entry.response_days > 0 and entry.form
            assert entry.channel is not Channel.FAX or entry.fax
            assert entry.channel is not Channel.MAIL or entry.address


def test_channels_of_the_configured_payers() -> None:
    assert BOOK.level("UHP", 1).channel is Channel.PORTAL
    assert BOOK.level("UHP", 2).channel is Channel.MAIL and "Unity" in BOOK.level("UHP", 2).address
    assert BOOK.level("NWM", 1).channel is BOOK.level("BBH", 1).channel is Channel.CLEARINGHOUSE
    assert BOOK.level("LSM", 1).channel is Channel.FAX and BOOK.level("LSM", 1).fax
    assert BOOK.level("MCR", 1).form.startswith("CMS-20027") and BOOK.level("MCR", 2).form.startswith("CMS-20033")
    assert BOOK.level("MCR", 1).response_days == 60 and BOOK.level("UHP", 1).response_days == 30
    # the corrected claim (level 0) is its own path
    assert BOOK.level("UHP", 0).channel is Channel.CLEARINGHOUSE and "corrected" in BOOK.level("UHP", 0).form.lower()
    # an online channel carries no fax or address; fax no address
    assert (BOOK.level("UHP", 1).fax, BOOK.level("UHP", 1).address) == ("", "")
    assert BOOK.level("LSM", 1).address == ""


def test_an_unknown_payer_gets_its_class_or_the_commercial_playbook_marked_assumed() -> None:
    unknown = BOOK.level("xyz", 1)
    assert unknown.assumed and unknown.channel is Channel.MAIL and unknown.response_days == 30
    assert BOOK.level("XYZ", 1, payer_class="medicare").form.startswith("CMS-20027")
    assert not BOOK.level(" uhp ", 1).assumed
    with pytest.raises(ValueError, match="an appeal level is 0"):
        BOOK.level("UHP", -1)


def test_categories_add_what_their_appeal_needs() -> None:
    assert "medical records" in BOOK.category_attach("medical_necessity")
    assert BOOK.category_attach("no_such_category") == ()


BAD = [
    ({"limits": {}}, "payer_playbook.toml: unknown key 'limits'"),
    ({"payers": {"UHP": {"chanel": "portal"}}}, "payers.UHP: unknown key 'chanel'"),
    ({"payers": {"UHP": {"channel": "email"}}}, "payers.UHP.channel: unknown channel 'email'"),
    ({"payers": {"UHP": {"response_days": "30"}}}, "payers.UHP.response_days: expected a positive whole number"),
    ({"payers": {"UHP": {"response_days": 0}}}, "payers.UHP.response_days: expected a positive whole number"),
    ({"payers": {"UHP": {"attach": "records"}}}, "payers.UHP.attach: expected a list"),
    ({"payers": {"UHP": {"levels": {"2": {"form": 7}}}}}, "payers.UHP.levels.2.form: expected a string"),
    ({"payers": {"UHP": {"levels": {"x": {}}}}}, "payers.UHP.levels.x: a level is 0"),
    ({"payers": {"UHP": {"levels": {"1": {"class": "medicare"}}}}}, "payers.UHP.levels.1: unknown key 'class'"),
    ({"payers": {"LSM": {"fax": "call us"}}}, "payers.LSM.fax: 'call us' is not a fax number"),
    ({"payers": {"UHP": {"levels": {"1": {"channel": "fax"}}}}}, "payers.UHP.levels.1.fax: channel fax needs"),
    ({"payers": {"NWM": {"channel": "mail", "address": ""}}}, "payers.NWM.address: channel mail needs"),
    ({"payers": {"ZZZ": {"channel": "portal"}}}, "payers.ZZZ.class: unknown class None"),
    ({"payers": {"ZZZ": {"class": "comercial"}}}, "payers.ZZZ.class: unknown class 'comercial'"),
    ({"classes": {"commercial": {"channel": None}}}, "classes.commercial.channel: unknown channel None"),
    ({"categories": {"coding": {"attach": [1]}}}, "categories.coding.attach: expected a list"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_a_bad_playbook_is_refused_naming_the_key(change: dict[str, object], message: str) -> None:
    document = {section: {**RAW.get(section, {})} for section in ("classes", "payers", "categories")}
    for section, tables in change.items():
        if not isinstance(tables, dict):
            continue
        document.setdefault(section, {})
        for name, table in tables.items():
            base = document[section].get(name, {})
            document[section][name] = {**base, **table} if isinstance(table, dict) and isinstance(base, dict) else table
    if "limits" in change:
        document["limits"] = {}
    with pytest.raises(ValueError, match=re.escape(message)):
        playbook(document)


def test_commercial_is_required() -> None:
    with pytest.raises(ValueError, match=r"classes\.commercial is required"):
        playbook({"classes": {"medicare": RAW["classes"]["medicare"]}})


def test_an_installations_playbook_is_laid_over_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "payer_playbook.toml").write_text(
        '[payers.UHP]\nresponse_days = 45\n[payers.UHP.levels.2]\nchannel = "fax"\nfax = "555-010-0142"\n'
        '[payers.ACME]\nclass = "commercial"\nchannel = "portal"\n'
    )
    (tmp_path / "config.toml").write_text(CONFIG)
    book = Settings.load(tmp_path / "config.toml").playbook()
    assert book.level("UHP", 1).response_days == 45 and book.level("UHP", 1).channel is Channel.PORTAL
    assert (book.level("UHP", 2).channel, book.level("UHP", 2).fax) == (Channel.FAX, "555-010-0142")
    assert book.level("UHP", 2).form == "Provider appeal request"  # the shipped keys it did not change
    assert book.level("ACME", 1).channel is Channel.PORTAL and not book.level("ACME", 1).assumed
    assert book.level("LSM", 1) == BOOK.level("LSM", 1)


def test_a_bad_installation_playbook_stops_the_config_check_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "payer_playbook.toml").write_text('[payers.UHP.levels.1]\nchannel = "pigeon"\n')
    (tmp_path / "config.toml").write_text(CONFIG)
    with pytest.raises(ConfigError) as error:
        Settings.load(tmp_path / "config.toml")
    assert "payer_playbook.toml: payers.UHP.levels.1.channel: unknown channel 'pigeon'" in str(error.value)
    (tmp_path / "payer_playbook.toml").write_text("[payers.UHP\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(tmp_path / "config.toml")
