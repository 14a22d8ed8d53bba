"""Input a hostile or careless user gives `portal-worker`: one clear line, exit code 2, nothing written.

Every test goes through the real command (tests/cli_support.py) on a real SQLite store, and proves
nothing was written by listing what is stored afterwards.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli_support import portal_worker
from tests.csv_support import (
    AUTH_COLUMNS,
    CLAIM_COLUMNS,
    PROVIDER_COLUMNS,
    Install,
    auth_rows,
    claim_rows,
    make_install,
    provider_rows,
)


@pytest.fixture
def install(tmp_path: Path) -> Install:
    return make_install(tmp_path)


def refused_in_one_line(install: Install, kind: str, path: Path, *expected: str) -> str:
    """Imports `path`; asserts a one-line refusal holding every expected text, and returns it."""
    result = install.run("import", kind, str(path))
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("import rejected, nothing was written:")
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def nothing_stored(install: Install) -> None:
    assert "0 claim(s)" in install.run("claims").stdout
    assert "0 authorization(s)" in install.run("auths").stdout
    assert "0 provider(s)" in install.run("providers").stdout


def claims_with(install: Install, row: int, **cells: str) -> Path:
    """Three good claims, with `cells` changed on spreadsheet row `row` (the header is row 1)."""
    rows = claim_rows(3)
    rows[row - 2].update(cells)
    return install.csv("claims.csv", CLAIM_COLUMNS, rows)


# --- bounds: money, units, dates, control characters ------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        "12345678901234567890123456789.00",  # 29 digits: decimal.InvalidOperation before
        "99,999,999,999,999,999.99",  # stored as the float 100000000000000000 before
        "10000000000.00",  # one cent past NUMERIC(12,2)
        "1" * 5000,  # longer than Python converts to int
    ],
)
def test_a_billed_amount_beyond_the_largest_stored_is_refused_naming_file_row_and_column(
    install: Install, amount: str
) -> None:
    path = claims_with(install, 3, billed_amount=amount)
    refused_in_one_line(
        install, "claims", path, "claims.csv, row 3, column billed_amount", "is more than 9,999,999,999.99"
    )
    nothing_stored(install)


def test_the_largest_amount_is_stored_and_listed_to_the_cent(install: Install) -> None:
    path = claims_with(install, 2, billed_amount="9,999,999,999.99")
    assert install.run("import", "claims", str(path)).returncode == 0
    listed = install.run("claims")
    assert "9,999,999,999.99" in listed.stdout and "10,000,000,000" not in listed.stdout


@pytest.mark.parametrize("units", ["100000000000000000000000", "100000", "9" * 5000])
def test_units_beyond_the_bound_are_refused_naming_file_row_and_column(install: Install, units: str) -> None:
    rows = auth_rows(3)
    rows[1]["units_approved"] = units
    path = install.csv("auths.csv", AUTH_COLUMNS, rows)
    refused_in_one_line(install, "auths", path, "auths.csv, row 3, column units_approved", "is more than 99,999 units")
    nothing_stored(install)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "12/31/9999"])
def test_a_service_date_outside_2000_to_a_year_ahead_is_refused_without_repeating_it(
    install: Install, day: str
) -> None:
    path = claims_with(install, 4, dos_from=day)
    line = refused_in_one_line(
        install, "claims", path, "claims.csv, row 4, column dos_from", "outside the accepted range (2000-01-01 to"
    )
    assert day not in line  # dates are PHI next to a claim: never repeated
    nothing_stored(install)


def test_an_authorization_ending_more_than_a_year_ahead_is_refused(install: Install) -> None:
    rows = auth_rows(2)
    rows[0]["end_date"] = (date.today() + timedelta(days=400)).isoformat()
    path = install.csv("auths.csv", AUTH_COLUMNS, rows)
    refused_in_one_line(install, "auths", path, "auths.csv, row 2, column end_date", "a year from today")
    nothing_stored(install)


def test_a_provider_attested_before_2000_is_refused(install: Install) -> None:
    rows = provider_rows(2)
    rows[1]["caqh_attested_date"] = "0001-01-01"
    path = install.csv("providers.csv", PROVIDER_COLUMNS, rows)
    refused_in_one_line(install, "providers", path, "providers.csv, row 3, column caqh_attested_date", "outside")
    nothing_stored(install)


def test_a_nul_byte_in_a_claim_id_is_refused_and_not_stored(install: Install) -> None:
    path = claims_with(install, 2, claim_id="C\x00000001")
    line = refused_in_one_line(
        install, "claims", path, "claims.csv, row 2, column claim_id", "contains a control character (U+0000)"
    )
    assert "\x00" not in line
    nothing_stored(install)


@pytest.mark.parametrize(
    ("kind", "file", "columns", "column", "text"),
    [
        ("claims", "claims.csv", CLAIM_COLUMNS, "patient_name", "Synthetic\x1b[2JPatient"),
        ("claims", "claims.csv", CLAIM_COLUMNS, "member_id", "M1\r\n2"),
        ("auths", "auths.csv", AUTH_COLUMNS, "auth_number", "A\x0700001"),
        ("providers", "providers.csv", PROVIDER_COLUMNS, "name", "Synthetic\x00Provider"),
    ],
)
def test_a_control_character_in_any_text_field_is_refused_without_echoing_the_cell(
    install: Install, kind: str, file: str, columns: tuple[str, ...], column: str, text: str
) -> None:
    rows = {"claims": claim_rows, "auths": auth_rows, "providers": provider_rows}[kind](2)
    rows[0][column] = text
    line = refused_in_one_line(
        install, kind, install.csv(file, columns, rows), f"{file}, row 2, column {column}", "control character"
    )
    assert "Synthetic" not in line and "M1" not in line  # the cell itself is never shown
    nothing_stored(install)


# --- files that cannot be read, or are not comma-separated ----------------------------------


@pytest.mark.parametrize("kind", ["claims", "auths", "providers"])
def test_importing_a_missing_file_is_one_line_naming_it(install: Install, kind: str) -> None:
    missing = install.root / "nowhere" / "export.csv"
    refused_in_one_line(install, kind, missing, "export.csv: cannot be read (no such file or directory)")
    nothing_stored(install)


@pytest.mark.parametrize("kind", ["claims", "auths", "providers"])
def test_importing_a_directory_is_one_line_naming_it(install: Install, kind: str) -> None:
    refused_in_one_line(install, kind, install.root, f"{install.root.name}: cannot be read (is a directory)")
    nothing_stored(install)


@pytest.mark.parametrize(("delimiter", "named"), [(";", "semicolons"), ("\t", "tabs")])
@pytest.mark.parametrize(
    ("kind", "columns", "rows"),
    [("claims", CLAIM_COLUMNS, claim_rows), ("auths", AUTH_COLUMNS, auth_rows)],
)
def test_a_semicolon_or_tab_delimited_export_is_told_its_delimiter_once(
    install: Install, delimiter: str, named: str, kind: str, columns: tuple[str, ...], rows: object
) -> None:
    assert callable(rows)
    path = install.csv("export.csv", columns, rows(3), delimiter=delimiter)
    line = refused_in_one_line(
        install, kind, path, f"export.csv, row 1: the columns are separated by {named}, not commas"
    )
    assert "missing" not in line
    nothing_stored(install)


# --- text that looks like console markup is printed as it is ---------------------------------


def test_an_empty_config_file_names_the_portals_table_with_its_brackets(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    result = portal_worker("-c", str(config), "claims")
    assert result.returncode == 2 and "[portals.NAME]" in result.stderr and "Traceback" not in result.stderr


def test_ids_that_look_like_console_markup_are_listed_as_written(install: Install) -> None:
    claims = claim_rows(3)
    claims[0]["claim_id"] = "C[/]1"  # a closing tag with nothing open: Rich refuses to print it
    claims[1]["claim_id"] = "[bold]C2"
    claims[2]["payer_id"] = "[red]ZZ"
    imported = install.run("import", "claims", str(install.csv("claims.csv", CLAIM_COLUMNS, claims)))
    assert imported.returncode == 0 and "payer(s) [red]ZZ;" in imported.stderr
    auths = auth_rows(1)
    auths[0]["auth_number"] = "[i]A1[/i]"
    assert install.run("import", "auths", str(install.csv("auths.csv", AUTH_COLUMNS, auths))).returncode == 0

    listed = install.run("claims")
    assert listed.returncode == 0 and "C[/]1" in listed.stdout and "[bold]C2" in listed.stdout
    assert "[red]ZZ" in listed.stdout
    assert "[i]A1[/i]" in install.run("auths").stdout
