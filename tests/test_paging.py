"""Every list command shows one page (--limit, default 50; 0 for all) from --offset, and a footer says
what it left out, counted after the filters. Through the real command on a real SQLite store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from store.db import make_engine, session_scope
from store.findings import save_finding
from store.models import Finding
from tests.csv_support import (
    AUTH_COLUMNS,
    CLAIM_COLUMNS,
    PROVIDER_COLUMNS,
    Install,
    auth_rows,
    claim_rows,
    denials_835,
    make_install,
    provider_rows,
)
from worker.settings import Settings


@pytest.fixture
def install(tmp_path: Path) -> Install:
    return make_install(tmp_path)


@pytest.fixture
def claims_120(install: Install) -> Install:
    """120 claims: C000001-C000070 of payer UHP, C000071-C000120 of payer NWM."""
    rows = claim_rows(120)
    for row in rows[70:]:
        row["payer_id"] = "NWM"
    assert install.run("import", "claims", str(install.csv("claims.csv", CLAIM_COLUMNS, rows))).returncode == 0
    return install


def ids(output: str, prefix: str) -> list[str]:
    """The ids a table printed, top to bottom."""
    return re.findall(rf"\b{prefix}\d+\b", output)


def last_line(output: str) -> str:
    return output.rstrip().splitlines()[-1]


def test_claims_shows_the_first_50_of_all_and_says_how_to_see_more(claims_120: Install) -> None:
    listed = claims_120.run("claims")
    assert listed.returncode == 0
    assert ids(listed.stdout, "C") == [f"C{i:06d}" for i in range(1, 51)]
    assert "120 claim(s)" in listed.stdout
    assert last_line(listed.stdout) == "showing 1-50 of 120; --offset 50 for more"


def test_the_offset_the_footer_names_shows_the_next_page_and_the_last_page_says_no_more(claims_120: Install) -> None:
    second = claims_120.run("claims", "--offset", "50")
    assert ids(second.stdout, "C") == [f"C{i:06d}" for i in range(51, 101)]
    assert last_line(second.stdout) == "showing 51-100 of 120; --offset 100 for more"
    last = claims_120.run("claims", "--offset", "100")
    assert ids(last.stdout, "C") == [f"C{i:06d}" for i in range(101, 121)]
    assert last_line(last.stdout) == "showing 101-120 of 120"


def test_limit_0_lists_every_claim_without_a_footer(claims_120: Install) -> None:
    listed = claims_120.run("claims", "--limit", "0")
    assert ids(listed.stdout, "C") == [f"C{i:06d}" for i in range(1, 121)]
    assert "showing" not in listed.stdout


def test_a_payer_filter_is_counted_before_paging(claims_120: Install) -> None:
    nwm = claims_120.run("claims", "--payer", "NWM", "--limit", "20")
    assert ids(nwm.stdout, "C") == [f"C{i:06d}" for i in range(71, 91)]
    assert "50 claim(s)" in nwm.stdout
    assert last_line(nwm.stdout) == "showing 1-20 of 50; --offset 20 for more"
    whole = claims_120.run("claims", "--payer", "NWM")
    assert len(ids(whole.stdout, "C")) == 50 and "showing" not in whole.stdout


def test_an_offset_past_the_end_says_how_many_there_are(claims_120: Install) -> None:
    listed = claims_120.run("claims", "--offset", "500")
    assert listed.returncode == 0 and ids(listed.stdout, "C") == []
    assert last_line(listed.stdout) == "nothing at --offset 500: there are 120 claim(s)"


@pytest.mark.parametrize("option", ["--limit", "--offset"])
def test_a_negative_limit_or_offset_is_refused_before_anything_is_read(claims_120: Install, option: str) -> None:
    refused = claims_120.run("claims", option, "-1")
    assert refused.returncode == 2 and option in refused.stderr and "Traceback" not in refused.stderr


def test_auths_are_paged_with_a_status_filter_counted_first(install: Install) -> None:
    path = install.csv("auths.csv", AUTH_COLUMNS, auth_rows(55))
    assert install.run("import", "auths", str(path)).returncode == 0
    first = install.run("auths", "--status", "unchecked")
    assert ids(first.stdout, "A") == [f"A{i:05d}" for i in range(1, 51)]
    assert last_line(first.stdout) == "showing 1-50 of 55; --offset 50 for more"
    rest = install.run("auths", "--offset", "50")
    assert ids(rest.stdout, "A") == [f"A{i:05d}" for i in range(51, 56)]
    assert "0 authorization(s)" in install.run("auths", "--status", "approved").stdout


def test_providers_are_paged(install: Install) -> None:
    rows = provider_rows(60)
    assert install.run("import", "providers", str(install.csv("providers.csv", PROVIDER_COLUMNS, rows))).returncode == 0
    listed = install.run("providers", "--limit", "25", "--offset", "25")
    npis = sorted(row["npi"] for row in rows)
    assert re.findall(r"\b\d{10}\b", listed.stdout) == npis[25:50]
    assert "60 provider(s)" in listed.stdout
    assert last_line(listed.stdout) == "showing 26-50 of 60; --offset 50 for more"


def test_findings_are_paged_soonest_first(install: Install) -> None:
    engine = make_engine(Settings.load(install.config).database_url())
    assert install.run("findings").returncode == 0  # creates the store
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for i in range(1, 56):
            save_finding(
                session,
                Finding(
                    key=f"auth_expiring:A{i:05d}",
                    kind="auth_expiring",
                    subject=f"A{i:05d}",
                    payer_id="UHP",
                    message="renew the authorization",
                    due=date.today() + timedelta(days=i),
                    first_seen_at=now,
                    last_seen_at=now,
                ),
            )
    engine.dispose()
    listed = install.run("findings")
    assert ids(listed.stdout, "A") == [f"A{i:05d}" for i in range(1, 51)]
    assert "55 finding(s)" in listed.stdout
    assert last_line(listed.stdout) == "showing 1-50 of 55; --offset 50 for more"


@pytest.fixture
def denials_60(install: Install) -> Install:
    """60 denied claims from one remittance, each with an appeal deadline a few days away."""
    era = install.root / "denials.835"
    era.write_text(denials_835(60))
    assert install.run("import", "era", str(era)).returncode == 0
    return install


def test_the_worklist_is_paged_after_ranking(denials_60: Install) -> None:
    everything = ids(denials_60.run("worklist", "--limit", "0").stdout, "PG")
    assert len(everything) == 60
    first = denials_60.run("worklist")
    assert ids(first.stdout, "PG") == everything[:50]
    assert last_line(first.stdout) == "showing 1-50 of 60; --offset 50 for more"
    rest = denials_60.run("worklist", "--offset", "50")
    assert ids(rest.stdout, "PG") == everything[50:]
    assert last_line(rest.stdout) == "showing 51-60 of 60"


def test_alerts_are_paged(denials_60: Install) -> None:
    first = denials_60.run("alerts")
    assert "60 alert(s)" in first.stdout and len(ids(first.stdout, "PG")) == 50
    assert last_line(first.stdout) == "showing 1-50 of 60; --offset 50 for more"
    listed = denials_60.run("alerts", "--all", "--limit", "5", "--offset", "55")
    assert len(ids(listed.stdout, "PG")) == 5
    assert last_line(listed.stdout) == "showing 56-60 of 60"
