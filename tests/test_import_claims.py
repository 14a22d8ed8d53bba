"""Claims CSV import: all-or-nothing validation, upsert into a real SQLite database, PHI kept out of errors."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fake_portal.data import generate, npi_with_check_digit, pms_export_rows
from fake_portal.programs import generate_programs
from flows.claim_import import ImportProblem, ImportRejected, import_claims_file, read_claims_csv
from store.claims import get_claim, list_claims, upsert_claims
from store.db import create_schema, make_engine, session_scope

FIRST_IMPORT = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
DATASET = generate(seed=7, start=date(2026, 11, 2))
EXPORT = pms_export_rows(DATASET)
COLUMNS = list(EXPORT[0])


def rows() -> list[dict[str, str]]:
    return [dict(row) for row in EXPORT]


def write_csv(
    path: Path, data: list[dict[str, str]], columns: list[str] | None = None, encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as file:
        writer = csv.DictWriter(file, fieldnames=columns or COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data)
    return path


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'worker.db'}")
    create_schema(engine)
    return engine


@pytest.fixture
def imported(engine: Engine, tmp_path: Path) -> Engine:
    """The database after the fake portal's export was imported once."""
    import_claims_file(engine, write_csv(tmp_path / "first.csv", rows()), FIRST_IMPORT)
    return engine


def snapshot(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        return [claim.model_dump() for claim in list_claims(session)]


def test_the_fake_portals_export_imports_cleanly(engine: Engine, tmp_path: Path) -> None:
    counts = import_claims_file(engine, write_csv(tmp_path / "claims.csv", rows()), FIRST_IMPORT)

    assert (counts.inserted, counts.updated, counts.unchanged) == (len(EXPORT), 0, 0)
    first = EXPORT[0]
    with session_scope(engine) as session:
        claim = get_claim(session, first["claim_id"])
        assert claim is not None
        assert claim.payer_id == first["payer_id"]
        assert claim.member_id == first["member_id"]
        assert claim.billed_amount == Decimal(first["billed_amount"])
        assert claim.dos_from == date.fromisoformat(first["dos_from"])
        assert claim.submitted_date == date.fromisoformat(first["submitted_date"])
        assert claim.status == "unchecked"
        assert claim.imported_at.replace(tzinfo=UTC) == FIRST_IMPORT
        nwm = list_claims(session, payer_id="NWM")
        assert [c.claim_id for c in nwm] == sorted(r["claim_id"] for r in EXPORT if r["payer_id"] == "NWM")
        picked = list_claims(session, claim_ids=[EXPORT[5]["claim_id"], EXPORT[1]["claim_id"], "PW999999"])
        assert [c.claim_id for c in picked] == sorted([EXPORT[5]["claim_id"], EXPORT[1]["claim_id"]])
        assert len(list_claims(session, status="unchecked")) == len(EXPORT)
        assert list_claims(session, status="paid") == []


def test_reimporting_the_same_file_changes_nothing(imported: Engine, tmp_path: Path) -> None:
    before = snapshot(imported)

    counts = import_claims_file(imported, write_csv(tmp_path / "again.csv", rows()), LATER)

    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, len(EXPORT))
    assert snapshot(imported) == before


def test_a_changed_row_updates_pm_fields_but_never_the_status(imported: Engine, tmp_path: Path) -> None:
    claim_id = EXPORT[3]["claim_id"]
    with session_scope(imported) as session:
        claim = get_claim(session, claim_id)
        assert claim is not None
        claim.status, claim.paid_amount = "paid", Decimal("80.00")
        session.add(claim)
    data = rows()
    data[3]["billed_amount"] = "999.99"
    data[3]["rendering_npi"] = npi_with_check_digit("123456789")

    counts = import_claims_file(imported, write_csv(tmp_path / "changed.csv", data), LATER)

    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, len(EXPORT) - 1)
    with session_scope(imported) as session:
        claim = get_claim(session, claim_id)
        assert claim is not None
        assert claim.billed_amount == Decimal("999.99")
        assert claim.rendering_npi == npi_with_check_digit("123456789")
        assert (claim.status, claim.paid_amount) == ("paid", Decimal("80.00"))
        assert claim.imported_at.replace(tzinfo=UTC) == FIRST_IMPORT
        assert claim.updated_at.replace(tzinfo=UTC) == LATER


def test_new_rows_are_added_alongside_known_ones(imported: Engine, tmp_path: Path) -> None:
    data = rows()
    data.append({**data[0], "claim_id": "PW900001"})

    counts = import_claims_file(imported, write_csv(tmp_path / "more.csv", data), LATER)

    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 0, len(EXPORT))


def test_excel_style_values_and_extra_columns_are_accepted(tmp_path: Path) -> None:
    data = rows()[:2]
    data[0].update(
        dos_from="9/3/2026",
        dos_to="09/03/2026",
        submitted_date="09/10/2026",
        billed_amount="$1,234.50",
        notes="call back",
        claim_id="  PW1  ",
    )
    path = write_csv(tmp_path / "excel.csv", data, columns=["notes", *COLUMNS], encoding="utf-8-sig")

    records = read_claims_csv(path)

    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert records[0].claim_id == "PW1"
    assert records[0].dos_from == date(2026, 9, 3)
    assert records[0].billed_amount == Decimal("1234.50")
    assert str(records[1].billed_amount) == EXPORT[1]["billed_amount"]
    assert "member_id" not in repr(records[0]) and records[0].member_id not in repr(records[0])
    assert records[0].patient_name not in repr(records[0])


@dataclass(frozen=True)
class BadInput:
    name: str
    make: Callable[[Path], Path]  # writes the bad file in the folder, returns it
    row: int
    column: str | None
    says: str


def changed(index: int, **values: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = rows()
        data[index].update(values)
        return write_csv(folder / "claims.csv", data)

    return make


def raw(content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "claims.csv"
        path.write_bytes(content)
        return path

    return make


def without(column: str) -> Callable[[Path], Path]:
    return lambda folder: write_csv(folder / "claims.csv", rows(), [c for c in COLUMNS if c != column])


def bad_check_digit() -> str:
    good = EXPORT[6]["rendering_npi"]
    return good[:9] + str((int(good[9]) + 1) % 10)


DOS = EXPORT[4]["dos_from"]
BAD_INPUTS = [
    BadInput("missing column", without("rendering_npi"), 1, "rendering_npi", "required column is missing"),
    BadInput("empty member id", changed(3, member_id="  "), 5, "member_id", "is empty"),
    BadInput("empty payer id", changed(0, payer_id=""), 2, "payer_id", "is empty"),
    BadInput("impossible date", changed(4, dos_from="2026-02-30"), 6, "dos_from", "is not a date"),
    BadInput("not a date", changed(4, submitted_date="last Tuesday"), 6, "submitted_date", "is not a date"),
    BadInput("dos_to before dos_from", changed(4, dos_to="2020-01-01"), 6, "dos_to", "is before dos_from"),
    BadInput(
        "submitted before service", changed(4, submitted_date="2020-01-01"), 6, "submitted_date", "is before dos_from"
    ),
    BadInput("amount not a number", changed(2, billed_amount="12,50"), 4, "billed_amount", "12,50 is not an amount"),
    BadInput("negative amount", changed(3, billed_amount="-12.00"), 5, "billed_amount", "-12.00 is negative"),
    BadInput("zero amount", changed(3, billed_amount="0.00"), 5, "billed_amount", "0.00 is zero"),
    BadInput(
        "three decimals",
        changed(3, billed_amount="12.345"),
        5,
        "billed_amount",
        "12.345 has more than 2 decimal places",
    ),
    BadInput("short npi", changed(6, rendering_npi="12345"), 8, "rendering_npi", "12345 is not an NPI"),
    BadInput(
        "npi check digit",
        changed(6, rendering_npi=bad_check_digit()),
        8,
        "rendering_npi",
        f"{bad_check_digit()} is not a valid NPI",
    ),
    BadInput(
        "bad procedure code",
        changed(5, procedure_codes="99213;9300X"),
        7,
        "procedure_codes",
        "9300X is not a procedure code",
    ),
    BadInput(
        "short procedure code", changed(5, procedure_codes="9921"), 7, "procedure_codes", "9921 is not a procedure code"
    ),
    BadInput(
        "duplicate claim id",
        changed(9, claim_id=EXPORT[2]["claim_id"]),
        11,
        "claim_id",
        f"{EXPORT[2]['claim_id']} appears more than once (rows 4 and 11)",
    ),
    BadInput("not utf-8", raw(b"claim_id,patient_name\nPW1,M\xfcller\n"), 2, None, "is not UTF-8"),
    BadInput("empty file", raw(b""), 1, None, "the file is empty"),
    BadInput("blank lines only", raw(b"\n \n"), 1, None, "the file is empty"),
    BadInput("header only", raw(",".join(COLUMNS).encode() + b"\n"), 2, None, "no claims after the header"),
    BadInput("no such file", lambda folder: folder / "claims.csv", 0, None, "cannot be read"),
    BadInput("a folder, not a file", lambda folder: folder, 0, None, "cannot be read"),
]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[b.name for b in BAD_INPUTS])
def test_a_bad_file_is_rejected_and_writes_nothing(bad: BadInput, imported: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    path = bad.make(folder)
    before = snapshot(imported)

    with pytest.raises(ImportRejected) as rejected:
        import_claims_file(imported, path, LATER)

    found = [p for p in rejected.value.problems if (p.file, p.row, p.column) == (path.name, bad.row, bad.column)]
    assert found, f"no problem at row {bad.row}, column {bad.column}: {rejected.value}"
    assert bad.says in found[0].message
    assert str(found[0]) in str(rejected.value)
    assert "Traceback" not in str(rejected.value)
    assert snapshot(imported) == before


def test_problem_text_reads_like_a_spreadsheet_reference() -> None:
    problem = ImportProblem("claims.csv", 5, "billed_amount", "-12.00 is negative")
    assert str(problem) == "claims.csv, row 5, column billed_amount: -12.00 is negative"
    assert str(ImportProblem("claims.csv", 2, None, "x")) == "claims.csv, row 2: x"


def test_every_problem_in_the_file_is_reported_at_once(engine: Engine, tmp_path: Path) -> None:
    data = rows()
    data[0]["billed_amount"] = "abc"
    data[1]["dos_to"] = "2001-01-01"
    data[2]["rendering_npi"] = "999"
    data[3]["patient_name"] = ""
    data[4]["claim_id"] = data[0]["claim_id"]
    path = write_csv(tmp_path / "claims.csv", data, [c for c in COLUMNS if c != "payer_id"])

    with pytest.raises(ImportRejected) as rejected:
        import_claims_file(engine, path, FIRST_IMPORT)

    where = {(p.row, p.column) for p in rejected.value.problems}
    assert where == {
        (1, "payer_id"),
        (2, "billed_amount"),
        (3, "dos_to"),
        (4, "rendering_npi"),
        (5, "patient_name"),
        (6, "claim_id"),
    }
    assert snapshot(engine) == []


def test_missing_columns_are_each_reported_on_row_one(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "claims.csv", rows(), [c for c in COLUMNS if c not in ("dos_to", "payer_id")])

    with pytest.raises(ImportRejected) as rejected:
        read_claims_csv(path)

    assert {(p.row, p.column) for p in rejected.value.problems} == {(1, "dos_to"), (1, "payer_id")}


def test_problems_never_show_member_ids_patient_names_or_dates(tmp_path: Path) -> None:
    data = rows()
    victim = data[7]
    victim.update(dos_from="13/45/2026", dos_to="2026-02-31", submitted_date="1999-01-01", billed_amount="-1")
    data[8]["dos_from"] = "tomorrow-ish"
    data[9]["member_id"] = ""
    path = write_csv(tmp_path / "claims.csv", data)

    with pytest.raises(ImportRejected) as rejected:
        read_claims_csv(path)

    text = str(rejected.value) + repr(rejected.value.problems)
    assert len(rejected.value.problems) == 6  # 1999-01-01 is also before the accepted dates
    for secret in (
        victim["member_id"],
        victim["patient_name"],
        "13/45/2026",
        "2026-02-31",
        "1999-01-01",
        "tomorrow-ish",
        data[9]["patient_name"],
    ):
        assert secret not in text
    assert "claims.csv, row 9, column billed_amount: -1 is negative" in text  # still easy to act on


def test_not_utf8_names_the_line_without_showing_it(tmp_path: Path) -> None:
    data = rows()
    data[2]["patient_name"] = "MÜLLER, JÖRG"
    path = write_csv(tmp_path / "claims.csv", data, encoding="latin-1")

    with pytest.raises(ImportRejected) as rejected:
        read_claims_csv(path)

    (problem,) = rejected.value.problems
    assert (problem.row, problem.column) == (4, None)
    assert "MÜLLER" not in str(rejected.value) and "M\ufffdLLER" not in str(rejected.value)


def test_a_long_list_of_problems_is_capped(tmp_path: Path) -> None:
    data = [{**row, "billed_amount": "x"} for row in rows()]  # 48 rows
    data += [{**row, "claim_id": row["claim_id"] + "B", "rendering_npi": "1"} for row in rows()[:12]]
    path = write_csv(tmp_path / "claims.csv", data)

    with pytest.raises(ImportRejected) as rejected:
        read_claims_csv(path)

    assert len(rejected.value.problems) == 60
    assert str(rejected.value).splitlines()[0] == "claims.csv: nothing was imported; 60 problems to fix:"
    assert str(rejected.value).rstrip().endswith("... and 10 more")


def test_procedure_codes_and_prior_auth_numbers_are_stored(engine: Engine, tmp_path: Path) -> None:
    programs = generate_programs(DATASET, 7)
    export = pms_export_rows(DATASET, programs.claim_auths)
    path = write_csv(tmp_path / "claims.csv", export, list(export[0]))

    counts = import_claims_file(engine, path, FIRST_IMPORT)

    assert counts.inserted == len(export)
    with session_scope(engine) as session:
        for row in export:
            claim = get_claim(session, row["claim_id"])
            assert claim is not None
            assert claim.procedure_codes == row["procedure_codes"].split(";")
            assert claim.prior_auth_number == (row["prior_auth_number"] or None)
    assert set(programs.claim_auths) == {c["claim_id"] for c in snapshot(engine) if c["prior_auth_number"]}


def test_procedure_codes_accept_hcpcs_category_ii_and_blank(tmp_path: Path) -> None:
    data = rows()[:4]
    data[0]["procedure_codes"] = " j1100 ; 99213;"
    data[1]["procedure_codes"] = "3074F;0042T"
    data[2]["procedure_codes"] = ""
    data[3]["prior_auth_number"] = " UA1 "

    records = read_claims_csv(write_csv(tmp_path / "claims.csv", data))

    assert [r.procedure_codes for r in records[:3]] == [("J1100", "99213"), ("3074F", "0042T"), ()]
    assert [r.prior_auth_number for r in records] == [None, None, None, "UA1"]


def test_a_changed_code_or_auth_number_counts_as_an_update(imported: Engine, tmp_path: Path) -> None:
    data = rows()
    data[1]["procedure_codes"] = "99214"
    data[2]["prior_auth_number"] = "UA123"

    counts = import_claims_file(imported, write_csv(tmp_path / "changed.csv", data), LATER)

    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 2, len(EXPORT) - 2)
    with session_scope(imported) as session:
        first, second = get_claim(session, EXPORT[1]["claim_id"]), get_claim(session, EXPORT[2]["claim_id"])
        assert first is not None and second is not None
        assert first.procedure_codes == ["99214"]
        assert second.prior_auth_number == "UA123"
    assert import_claims_file(imported, write_csv(tmp_path / "again.csv", data), LATER).updated == 0


def test_an_export_without_the_new_columns_keeps_what_is_stored(imported: Engine, tmp_path: Path) -> None:
    data = rows()
    data[2]["prior_auth_number"] = "UA123"
    import_claims_file(imported, write_csv(tmp_path / "new.csv", data), LATER)
    before = snapshot(imported)
    old_format = [c for c in COLUMNS if c not in ("procedure_codes", "prior_auth_number")]

    counts = import_claims_file(imported, write_csv(tmp_path / "old.csv", data, old_format), LATER)

    assert (counts.inserted, counts.updated) == (0, 0)
    assert snapshot(imported) == before
    fresh = [{**data[0], "claim_id": "PW900002"}]
    import_claims_file(imported, write_csv(tmp_path / "one.csv", fresh, old_format), LATER)
    with session_scope(imported) as session:
        claim = get_claim(session, "PW900002")
        assert claim is not None and (claim.procedure_codes, claim.prior_auth_number) == ([], None)


def test_upsert_is_all_or_nothing_in_the_callers_transaction(engine: Engine, tmp_path: Path) -> None:
    records = read_claims_csv(write_csv(tmp_path / "claims.csv", rows()))

    with pytest.raises(RuntimeError), session_scope(engine) as session:  # noqa: PT012  (the failure after the upsert is the test)
        upsert_claims(session, records, FIRST_IMPORT)
        raise RuntimeError("something failed after the upsert")

    assert snapshot(engine) == []


def test_upsert_wants_an_aware_utc_time(engine: Engine, tmp_path: Path) -> None:
    records = read_claims_csv(write_csv(tmp_path / "claims.csv", rows()[:1]))
    with pytest.raises(ValueError, match="timezone-aware"), session_scope(engine) as session:
        upsert_claims(session, records, datetime(2026, 11, 2, 6, 0))
