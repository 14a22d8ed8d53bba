"""Authorization and provider CSV imports: all-or-nothing validation, upsert into real SQLite, no PHI in errors."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fake_portal.data import generate, pms_export_rows
from fake_portal.programs import generate_programs, pms_auth_rows, pms_provider_rows
from flows.auth_import import import_auths_file, read_auths_csv
from flows.claim_import import import_claims_file
from flows.csv_rows import ImportRejected
from flows.provider_import import import_providers_file, read_providers_csv
from store.authorizations import get_authorization, list_authorizations
from store.claims import get_claim
from store.db import create_schema, make_engine, session_scope
from store.providers import get_provider, list_providers

FIRST_IMPORT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
DATASET = generate(seed=7, start=date(2026, 11, 2))
PROGRAMS = generate_programs(DATASET, 7)
AUTHS = pms_auth_rows(PROGRAMS)
PROVIDERS = pms_provider_rows(DATASET, PROGRAMS)
AUTH_COLUMNS = list(AUTHS[0])
PROVIDER_COLUMNS = list(PROVIDERS[0])


def auth_rows() -> list[dict[str, str]]:
    return [dict(row) for row in AUTHS]


def provider_rows() -> list[dict[str, str]]:
    return [dict(row) for row in PROVIDERS]


def write_csv(path: Path, data: list[dict[str, str]], columns: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data)
    return path


def write_auths(path: Path, data: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    return write_csv(path, data, columns or AUTH_COLUMNS)


def write_providers(path: Path, data: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    return write_csv(path, data, columns or PROVIDER_COLUMNS)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'worker.db'}")
    create_schema(engine)
    return engine


@pytest.fixture
def imported(engine: Engine, tmp_path: Path) -> Engine:
    """The database after the fake practice's authorizations and providers were imported once."""
    import_auths_file(engine, write_auths(tmp_path / "auths.csv", auth_rows()), FIRST_IMPORT)
    import_providers_file(engine, write_providers(tmp_path / "providers.csv", provider_rows()), FIRST_IMPORT)
    return engine


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with session_scope(engine) as session:
        return {
            "auths": [a.model_dump() for a in list_authorizations(session)],
            "providers": [p.model_dump() for p in list_providers(session)],
        }


# --- the fake practice's own exports -------------------------------------------------------


def test_the_fake_practices_exports_import_cleanly(engine: Engine, tmp_path: Path) -> None:
    claims = pms_export_rows(DATASET, PROGRAMS.claim_auths)

    auth_counts = import_auths_file(engine, write_auths(tmp_path / "auths.csv", auth_rows()), FIRST_IMPORT)
    provider_counts = import_providers_file(
        engine, write_providers(tmp_path / "prov.csv", provider_rows()), FIRST_IMPORT
    )
    claim_counts = import_claims_file(engine, write_csv(tmp_path / "claims.csv", claims, list(claims[0])), FIRST_IMPORT)

    assert (auth_counts.inserted, auth_counts.updated, auth_counts.unchanged) == (len(AUTHS), 0, 0)
    assert (provider_counts.inserted, provider_counts.updated) == (len(PROVIDERS), 0)
    assert claim_counts.inserted == len(claims)
    with session_scope(engine) as session:
        for row in AUTHS:
            auth = get_authorization(session, row["auth_number"])
            assert auth is not None
            assert (auth.payer_id, auth.member_id, auth.servicing_npi) == (
                row["payer_id"],
                row["member_id"],
                row["servicing_npi"],
            )
            assert auth.procedure_codes == row["procedure_codes"].split(";")
            assert auth.units_approved == int(row["units_approved"])
            assert (auth.start_date, auth.end_date, auth.scheduled_date) == (
                date.fromisoformat(row["start_date"]),
                date.fromisoformat(row["end_date"]),
                date.fromisoformat(row["scheduled_date"]),
            )
            assert (auth.status, auth.units_used, auth.portal_codes) == ("unchecked", None, [])
            assert auth.imported_at.replace(tzinfo=UTC) == FIRST_IMPORT
        for row in PROVIDERS:
            provider = get_provider(session, row["npi"])
            assert provider is not None
            assert (provider.name, provider.caqh_attested_date) == (
                row["name"],
                date.fromisoformat(row["caqh_attested_date"]),
            )
        for claim_id, auth_number in PROGRAMS.claim_auths.items():
            claim = get_claim(session, claim_id)
            assert claim is not None and claim.prior_auth_number == auth_number
            assert get_authorization(session, auth_number) is not None
        uhp = list_authorizations(session, payer_id="UHP")
        assert [a.auth_number for a in uhp] == sorted(r["auth_number"] for r in AUTHS if r["payer_id"] == "UHP")
        assert len(list_authorizations(session, status="unchecked")) == len(AUTHS)
        assert list_authorizations(session, status="approved", payer_id="LSM") == []
        assert [p.npi for p in list_providers(session)] == sorted(r["npi"] for r in PROVIDERS)
        assert get_authorization(session, "XA000000") is None and get_provider(session, "1234567893") is None


def test_reimporting_the_same_files_changes_nothing(imported: Engine, tmp_path: Path) -> None:
    before = snapshot(imported)

    auths = import_auths_file(imported, write_auths(tmp_path / "again.csv", auth_rows()), LATER)
    providers = import_providers_file(imported, write_providers(tmp_path / "again_p.csv", provider_rows()), LATER)

    assert (auths.inserted, auths.updated, auths.unchanged) == (0, 0, len(AUTHS))
    assert (providers.inserted, providers.updated, providers.unchanged) == (0, 0, len(PROVIDERS))
    assert snapshot(imported) == before


def test_a_changed_auth_is_updated_but_what_the_portal_said_is_kept(imported: Engine, tmp_path: Path) -> None:
    number = AUTHS[2]["auth_number"]
    with session_scope(imported) as session:
        auth = get_authorization(session, number)
        assert auth is not None
        auth.status, auth.units_used, auth.portal_codes = "approved", 5, ["97112"]
        session.add(auth)
    data = auth_rows()
    data[2].update(units_approved="20", procedure_codes="97112;97140;97530", end_date="2027-02-01", scheduled_date="")
    data.append({**data[0], "auth_number": "UA799999"})

    counts = import_auths_file(imported, write_auths(tmp_path / "changed.csv", data), LATER)

    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, len(AUTHS) - 1)
    with session_scope(imported) as session:
        auth = get_authorization(session, number)
        assert auth is not None
        assert (auth.units_approved, auth.procedure_codes) == (20, ["97112", "97140", "97530"])
        assert (auth.end_date, auth.scheduled_date) == (date(2027, 2, 1), None)
        assert (auth.status, auth.units_used, auth.portal_codes) == ("approved", 5, ["97112"])
        assert auth.imported_at.replace(tzinfo=UTC) == FIRST_IMPORT
        assert auth.updated_at.replace(tzinfo=UTC) == LATER


def test_a_changed_provider_is_updated(imported: Engine, tmp_path: Path) -> None:
    data = provider_rows()
    data[0]["name"] = "Dr. Renamed 1"
    data[1]["caqh_attested_date"] = "11/01/2026"
    data[2]["caqh_attested_date"] = ""

    counts = import_providers_file(imported, write_providers(tmp_path / "changed.csv", data), LATER)

    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 3, len(PROVIDERS) - 3)
    with session_scope(imported) as session:
        stored = [get_provider(session, row["npi"]) for row in data[:3]]
        assert [(p.name, p.caqh_attested_date) for p in stored if p is not None] == [
            ("Dr. Renamed 1", date.fromisoformat(PROVIDERS[0]["caqh_attested_date"])),
            (PROVIDERS[1]["name"], date(2026, 11, 1)),
            (PROVIDERS[2]["name"], None),
        ]


def test_files_without_the_optional_columns_keep_what_is_stored(imported: Engine, tmp_path: Path) -> None:
    before = snapshot(imported)

    auths = import_auths_file(
        imported,
        write_auths(tmp_path / "a.csv", auth_rows(), [c for c in AUTH_COLUMNS if c != "scheduled_date"]),
        LATER,
    )
    providers = import_providers_file(
        imported, write_providers(tmp_path / "p.csv", provider_rows(), ["name", "npi"]), LATER
    )

    assert (auths.updated, providers.updated) == (0, 0)
    assert snapshot(imported) == before


def test_records_keep_phi_out_of_their_repr(tmp_path: Path) -> None:
    (record, *_) = read_auths_csv(write_auths(tmp_path / "auths.csv", auth_rows()))
    assert record.member_id not in repr(record) and record.patient_name not in repr(record)
    assert record.auth_number in repr(record)


# --- bad files: every problem named by file, row and column; nothing written ---------------


@dataclass(frozen=True)
class BadInput:
    name: str
    make: Callable[[Path], Path]  # writes the bad file in the folder, returns it
    row: int
    column: str | None
    says: str


def auths_changed(index: int, **values: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = auth_rows()
        data[index].update(values)
        return write_auths(folder / "auths.csv", data)

    return make


def providers_changed(index: int, **values: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = provider_rows()
        data[index].update(values)
        return write_providers(folder / "providers.csv", data)

    return make


def raw(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return make


def auths_without(column: str) -> Callable[[Path], Path]:
    return lambda folder: write_auths(folder / "auths.csv", auth_rows(), [c for c in AUTH_COLUMNS if c != column])


def wrong_check_digit(npi: str) -> str:
    return npi[:9] + str((int(npi[9]) + 1) % 10)


BAD_NPI = wrong_check_digit(AUTHS[3]["servicing_npi"])
BAD_AUTHS = [
    BadInput("missing column", auths_without("servicing_npi"), 1, "servicing_npi", "required column is missing"),
    BadInput(
        "missing units column", auths_without("units_approved"), 1, "units_approved", "required column is missing"
    ),
    BadInput("empty member id", auths_changed(1, member_id=" "), 3, "member_id", "is empty"),
    BadInput("bad start date", auths_changed(4, start_date="2026-13-01"), 6, "start_date", "is not a date"),
    BadInput("bad scheduled date", auths_changed(4, scheduled_date="soon"), 6, "scheduled_date", "is not a date"),
    BadInput("end before start", auths_changed(5, end_date="2026-01-01"), 7, "end_date", "is before start_date"),
    BadInput("negative units", auths_changed(6, units_approved="-3"), 8, "units_approved", "-3 is negative"),
    BadInput(
        "fractional units", auths_changed(6, units_approved="2.5"), 8, "units_approved", "2.5 is not a whole number"
    ),
    BadInput(
        "bad code", auths_changed(7, procedure_codes="97110;9711"), 9, "procedure_codes", "9711 is not a procedure code"
    ),
    BadInput("no codes", auths_changed(7, procedure_codes=""), 9, "procedure_codes", "is empty"),
    BadInput(
        "only separators", auths_changed(7, procedure_codes=" ; "), 9, "procedure_codes", "has no procedure codes"
    ),
    BadInput("bad npi", auths_changed(3, servicing_npi=BAD_NPI), 5, "servicing_npi", f"{BAD_NPI} is not a valid NPI"),
    BadInput(
        "duplicate number",
        auths_changed(8, auth_number=AUTHS[1]["auth_number"]),
        10,
        "auth_number",
        f"{AUTHS[1]['auth_number']} appears more than once (rows 3 and 10)",
    ),
    BadInput("empty file", raw("auths.csv", b""), 1, None, "the file is empty"),
    BadInput(
        "header only",
        raw("auths.csv", ",".join(AUTH_COLUMNS).encode() + b"\r\n"),
        2,
        None,
        "no authorizations after the header",
    ),
]
BAD_PROVIDERS = [
    BadInput(
        "missing npi column",
        lambda folder: write_providers(folder / "providers.csv", provider_rows(), ["name", "caqh_attested_date"]),
        1,
        "npi",
        "required column is missing",
    ),
    BadInput("short npi", providers_changed(1, npi="12345"), 3, "npi", "12345 is not an NPI"),
    BadInput(
        "npi check digit",
        providers_changed(1, npi=wrong_check_digit(PROVIDERS[1]["npi"])),
        3,
        "npi",
        "is not a valid NPI",
    ),
    BadInput(
        "duplicate npi",
        providers_changed(3, npi=PROVIDERS[0]["npi"]),
        5,
        "npi",
        f"{PROVIDERS[0]['npi']} appears more than once (rows 2 and 5)",
    ),
    BadInput("empty name", providers_changed(2, name=""), 4, "name", "is empty"),
    BadInput(
        "bad attestation date",
        providers_changed(2, caqh_attested_date="2026-02-30"),
        4,
        "caqh_attested_date",
        "is not a date",
    ),
    BadInput(
        "attested in the future",
        providers_changed(0, caqh_attested_date="2027-01-05"),
        2,
        "caqh_attested_date",
        "is in the future",
    ),
    BadInput("empty file", raw("providers.csv", b"\n\n"), 1, None, "the file is empty"),
    BadInput("not utf-8", raw("providers.csv", b"npi,name\n1234567893,Dr. M\xfcller\n"), 2, None, "is not UTF-8"),
]


def check_rejected(
    engine: Engine, path: Path, importer: Callable[[Engine, Path, datetime], Any], bad: BadInput
) -> None:
    before = snapshot(engine)

    with pytest.raises(ImportRejected) as rejected:
        importer(engine, path, LATER)

    found = [p for p in rejected.value.problems if (p.file, p.row, p.column) == (path.name, bad.row, bad.column)]
    assert found, f"no problem at row {bad.row}, column {bad.column}: {rejected.value}"
    assert bad.says in found[0].message
    assert str(found[0]) in str(rejected.value)
    assert snapshot(engine) == before


@pytest.mark.parametrize("bad", BAD_AUTHS, ids=[b.name for b in BAD_AUTHS])
def test_a_bad_auths_file_is_rejected_and_writes_nothing(bad: BadInput, imported: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    check_rejected(imported, bad.make(folder), import_auths_file, bad)


@pytest.mark.parametrize("bad", BAD_PROVIDERS, ids=[b.name for b in BAD_PROVIDERS])
def test_a_bad_providers_file_is_rejected_and_writes_nothing(bad: BadInput, imported: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    check_rejected(imported, bad.make(folder), import_providers_file, bad)


def test_a_bad_first_import_leaves_the_tables_empty(engine: Engine, tmp_path: Path) -> None:
    data = auth_rows()
    data[-1]["units_approved"] = "many"

    with pytest.raises(ImportRejected):
        import_auths_file(engine, write_auths(tmp_path / "auths.csv", data), FIRST_IMPORT)

    assert snapshot(engine) == {"auths": [], "providers": []}


def test_every_problem_in_an_auths_file_is_reported_at_once(tmp_path: Path) -> None:
    data = auth_rows()
    data[0]["units_approved"] = "x"
    data[1]["end_date"] = "2001-01-01"
    data[2]["procedure_codes"] = "ABCDE"
    data[3]["auth_number"] = data[0]["auth_number"]
    path = write_auths(tmp_path / "auths.csv", data, [c for c in AUTH_COLUMNS if c != "payer_id"])

    with pytest.raises(ImportRejected) as rejected:
        read_auths_csv(path)

    assert {(p.row, p.column) for p in rejected.value.problems} == {
        (1, "payer_id"),
        (2, "units_approved"),
        (3, "end_date"),
        (4, "procedure_codes"),
        (5, "auth_number"),
    }


def test_auth_problems_never_show_member_ids_patient_names_or_dates(tmp_path: Path) -> None:
    data = auth_rows()
    victim = data[4]
    victim.update(
        start_date="31/12/2026",
        end_date="2026-02-31",
        scheduled_date="next week",
        units_approved="-1",
        procedure_codes="97110;ZZ",
    )
    data[5].update(end_date="1999-01-01", patient_name="")
    data[6]["auth_number"] = victim["auth_number"]
    path = write_auths(tmp_path / "auths.csv", data)

    with pytest.raises(ImportRejected) as rejected:
        read_auths_csv(path)

    text = str(rejected.value) + repr(rejected.value.problems)
    assert len(rejected.value.problems) == 8
    for secret in (
        victim["member_id"],
        victim["patient_name"],
        data[5]["member_id"],
        AUTHS[5]["patient_name"],
        data[6]["member_id"],
        data[6]["patient_name"],
        "31/12/2026",
        "2026-02-31",
        "next week",
        "1999-01-01",
        data[5]["start_date"],
    ):
        assert secret not in text
    assert "auths.csv, row 6, column procedure_codes: ZZ is not a procedure code" in text
    assert "auths.csv, row 6, column units_approved: -1 is negative" in text


def test_provider_dates_are_checked_against_the_given_day(tmp_path: Path) -> None:
    data = provider_rows()
    data[0]["caqh_attested_date"] = "2026-11-05"
    path = write_providers(tmp_path / "providers.csv", data)

    assert read_providers_csv(path, today=date(2026, 11, 5))[0].caqh_attested_date == date(2026, 11, 5)
    with pytest.raises(ImportRejected):
        read_providers_csv(path, today=date(2026, 11, 4))
