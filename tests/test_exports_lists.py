"""Every list command's --csv and --xlsx, read back with the csv module and openpyxl and compared cell by cell
with what the store holds: amounts as numbers, dates as dates, times in the practice's zone, a formula-looking
text kept as text, patient names only where the installation turns them on, and a bad path refused whole."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from store.db import make_engine, session_scope
from store.denials import add_denial
from store.models import (
    Alert,
    Authorization,
    Claim,
    ClaimStatusObservation,
    Denial,
    EraClaim,
    EraFile,
    Finding,
    Provider,
)
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
from worker.settings import Settings

ZONE = ZoneInfo("America/Chicago")
FORMULA = '=HYPERLINK("http://x.invalid")'
# `worklist --csv`'s columns since its first release: readers (and PM imports) rely on them
WORKLIST_KEYS = (
    "id",
    "claim",
    "payer",
    "payer_claim_number",
    "dos",
    "billed",
    "amount",
    "group",
    "carc",
    "rarcs",
    "category",
    "owner",
    "assignee",
    "codes",
    "action",
    "deadline",
    "days_left",
    "status",
    "warnings",
)


def install_with(tmp_path: Path, names: bool = False) -> Install:
    tmp_path.mkdir(exist_ok=True)
    made = make_install(tmp_path)
    text = made.config.read_text().replace("[worker]\n", '[worker]\ntimezone = "America/Chicago"\n')
    made.config.write_text(text + ("\n[alerts]\ninclude_patient_names = true\n" if names else ""))
    for what, columns, rows in (
        ("claims", CLAIM_COLUMNS, claim_rows(4)),
        ("auths", AUTH_COLUMNS, auth_rows(2)),
        ("providers", PROVIDER_COLUMNS, provider_rows(2)),
    ):
        assert made.run("import", what, str(made.csv(f"{what}.csv", columns, rows))).returncode == 0
    craft(made)
    return made


def engine_of(made: Install) -> Engine:
    return make_engine(Settings.load(made.config).database_url())


def craft(made: Install) -> None:
    """C000001 paid by check (portal) and later by EFT (ERA): the EFT is the newest; C000002 denied twice,
    with a payer claim number that looks like a formula; a finding and an alert."""
    now = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
    with session_scope(engine_of(made)) as session:
        first = session.get(Claim, "C000001")
        assert first is not None
        first.status, first.paid_amount, first.payer_claim_number = "paid", Decimal("80.50"), "PCN-1"
        first.last_checked_at, first.status_changed_at = now, now - timedelta(days=1)
        session.add(first)
        session.add(
            ClaimStatusObservation(
                claim_id="C000001",
                observed_at=now - timedelta(days=3),
                portal="unity",
                run_id="r1",
                status="paid",
                check_number="CHK100",
                payment_date=date(2026, 10, 1),
                changes="status: pending -> paid",
            )
        )
        era = EraFile(
            sha256="a" * 64,
            source="file",
            file_id="era1.835",
            trace_number="EFT200",
            payment_date=date(2026, 10, 20),
            imported_at=now,
        )
        session.add(era)
        session.flush()
        assert era.id is not None
        session.add(
            EraClaim(
                era_file_id=era.id,
                reported_claim_id="C000001",
                claim_id="C000001",
                status_code="1",
                billed=Decimal("101.00"),
                paid=Decimal("80.50"),
            )
        )
        second = session.get(Claim, "C000002")
        assert second is not None
        second.status, second.status_text = "denied", FORMULA
        session.add(second)
        for n, (carc, rarcs, amount, status) in enumerate(
            (
                ("197", ["N54"], "60.00", "open"),
                ("16", ["M51", "N54"], "42.00", "appealed"),
                ("45", [], "9", "resolved"),
            )
        ):
            add_denial(
                session,
                Denial(
                    fingerprint=f"x-{n}",
                    claim_id="C000002",
                    reported_claim_id="C000002",
                    source="portal",
                    source_ref="unity",
                    payer_id="UHP",
                    payer_claim_number="-PCN2" if n == 0 else "PCN2",
                    group_code="CO",
                    carc=carc,
                    rarcs=rarcs,
                    amount=Decimal(amount),
                    denial_date=date(2026, 10, 25),
                    category="authorization",
                    owner="front_desk",
                    kind="soft",
                    status=status,
                    first_seen_at=now,
                    last_seen_at=now,
                ),
                "seen",
            )
        session.add(
            Finding(
                key="auth_expiring|A00001",
                kind="auth_expiring",
                subject="A00001",
                payer_id="UHP",
                message="Renew A00001 before the next visit",
                due=date(2026, 12, 1),
                amount_at_risk=Decimal("350.25"),
                claims_at_risk=["C000003", "C000004"],
                first_seen_at=now,
                last_seen_at=now,
            )
        )
        session.add(
            Alert(
                key="denial_deadline|crafted",
                kind="denial_deadline",
                subject="crafted",
                title="Denial on C000002: CO-197 $60.00",
                action="Appeal by 2026-12-20",
                owner="front_desk",
                payer_id="UHP",
                claim_id="C000002",
                amount=Decimal("60.00"),
                due=date(2026, 12, 20),
                codes="CO-197 N54",
                severity="low",
                opened_at=now,
                updated_at=now,
            )
        )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_xlsx(path: Path) -> tuple[list[str], list[tuple[object, ...]], list[list[str]]]:
    """(header titles, rows of values, rows of number formats)."""
    sheet = load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows())
    header = [str(c.value) for c in rows[0]]
    return header, [tuple(c.value for c in r) for r in rows[1:]], [[c.number_format for c in r] for r in rows[1:]]


def local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def test_claims_export_every_claim_cell_by_cell_with_its_newest_payment_and_open_denials(tmp_path: Path) -> None:
    made = install_with(tmp_path)
    out_csv, out_xlsx = tmp_path / "claims.csv", tmp_path / "claims.xlsx"
    ran = made.run("claims", "--limit", "1", "--csv", str(out_csv), "--xlsx", str(out_xlsx))
    assert ran.returncode == 0, ran.stderr
    assert f"Wrote 4 claim(s) to {out_csv}." in ran.stdout  # every claim, whatever --limit says
    rows = read_csv(out_csv)
    with session_scope(engine_of(made)) as session:
        claims = list(session.exec(select(Claim).order_by(Claim.claim_id)))
    assert [r["claim"] for r in rows] == [c.claim_id for c in claims]
    assert "patient_name" not in rows[0] and "member_id" not in rows[0]
    for row, c in zip(rows, claims, strict=True):
        assert row["payer"] == c.payer_id
        assert row["payer_claim_number"] == (c.payer_claim_number or "")
        assert (row["dos_from"], row["dos_to"], row["submitted"]) == (
            c.dos_from.isoformat(),
            c.dos_to.isoformat(),
            c.submitted_date.isoformat(),
        )
        assert row["billed"] == f"{c.billed_amount:.2f}"
        assert (row["rendering_npi"], row["procedures"], row["state"]) == (
            c.rendering_npi,
            " ".join(c.procedure_codes),
            c.status,
        )
        assert row["paid"] == ("" if c.paid_amount is None else f"{c.paid_amount:.2f}")
        assert row["last_checked"] == local(c.last_checked_at)
        assert row["state_changed"] == local(c.status_changed_at)
    by_id = {r["claim"]: r for r in rows}
    paid = by_id["C000001"]
    assert (paid["check_eft_number"], paid["payment_date"]) == ("EFT200", "2026-10-20")  # the ERA's, newer
    assert paid["last_checked"] == "2026-11-02 09:30:00"  # 15:30 UTC in Chicago (standard time)
    denied = by_id["C000002"]
    assert (denied["open_denials"], denied["denied"], denied["carcs"], denied["rarcs"]) == (
        "2",
        "102.00",
        "CO-197 CO-16",
        "N54 M51",
    )  # the resolved CO-45 is not open
    assert denied["status_text"] == "'" + FORMULA  # never run by a spreadsheet
    assert by_id["C000003"]["check_eft_number"] == "" and by_id["C000003"]["open_denials"] == "0"

    header, values, formats = read_xlsx(out_xlsx)
    assert header[:6] == ["Claim", "Payer", "Payer claim #", "Service from", "Service to", "Billed"]
    keys = list(rows[0])
    for row, cells, shapes in zip(rows, values, formats, strict=True):
        cell = dict(zip(keys, cells, strict=True))
        shape = dict(zip(keys, shapes, strict=True))
        assert cell["claim"] == row["claim"]
        assert cell["billed"] == float(row["billed"]) and shape["billed"] == "#,##0.00"
        assert isinstance(cell["dos_from"], datetime) and cell["dos_from"].date().isoformat() == row["dos_from"]
        assert shape["dos_from"] == "yyyy-mm-dd"
        assert cell["open_denials"] == int(row["open_denials"])
    second = dict(zip(keys, values[1], strict=True))
    assert second["status_text"] == FORMULA  # a plain string in Excel, not a formula
    first = dict(zip(keys, values[0], strict=True))
    assert first["last_checked"] == datetime(2026, 11, 2, 9, 30)  # the practice's clock


def test_the_worklist_keeps_its_columns_and_text_and_now_exports_excel(tmp_path: Path) -> None:
    made = install_with(tmp_path)
    out_csv, out_xlsx = tmp_path / "worklist.csv", tmp_path / "worklist.xlsx"
    assert made.run("worklist", "--all", "--csv", str(out_csv), "--xlsx", str(out_xlsx)).returncode == 0
    with out_csv.open(newline="") as f:
        assert tuple(next(csv.reader(f))) == WORKLIST_KEYS
    rows = read_csv(out_csv)
    with session_scope(engine_of(made)) as session:
        unresolved = {
            d.id: d for d in session.exec(select(Denial).where(Denial.status != "resolved")) if d.id is not None
        }
        claim = session.get(Claim, "C000002")
        assert claim is not None
    assert sorted(int(r["id"]) for r in rows) == sorted(unresolved)
    for row in rows:
        d = unresolved[int(row["id"])]
        assert (row["claim"], row["payer"], row["group"], row["carc"], row["rarcs"]) == (
            d.claim_id,
            d.payer_id,
            d.group_code,
            d.carc,
            " ".join(d.rarcs),
        )
        assert row["payer_claim_number"] == ("'-PCN2" if d.payer_claim_number == "-PCN2" else d.payer_claim_number)
        assert (row["dos"], row["billed"], row["amount"]) == (
            claim.dos_from.isoformat(),
            f"{claim.billed_amount:.2f}",
            f"{d.amount:.2f}",
        )
        assert (row["category"], row["owner"], row["status"], row["assignee"]) == (d.category, d.owner, d.status, "")
        assert row["deadline"] == "" or date.fromisoformat(row["deadline"])
        assert (
            row["days_left"] == ""
            or int(row["days_left"]) == (date.fromisoformat(row["deadline"]) - datetime.now(ZONE).date()).days
        )
    header, values, formats = read_xlsx(out_xlsx)
    assert len(header) == len(WORKLIST_KEYS) and len(values) == len(rows)
    for row, cells, shapes in zip(rows, values, formats, strict=True):
        cell = dict(zip(WORKLIST_KEYS, cells, strict=True))
        assert cell["id"] == int(row["id"]) and cell["amount"] == float(row["amount"])
        assert dict(zip(WORKLIST_KEYS, shapes, strict=True))["amount"] == "#,##0.00"
        assert cell["dos"] == datetime.fromisoformat(row["dos"])


def test_auths_providers_findings_and_alerts_export_every_row(tmp_path: Path) -> None:
    made = install_with(tmp_path)
    for command, extra in (("auths", ()), ("providers", ()), ("findings", ("--all",)), ("alerts", ("--all",))):
        out_csv, out_xlsx = tmp_path / f"{command}.csv", tmp_path / f"{command}.xlsx"
        ran = made.run(command, *extra, "--csv", str(out_csv), "--xlsx", str(out_xlsx))
        assert ran.returncode == 0, (command, ran.stderr)
        header, values, _ = read_xlsx(out_xlsx)
        assert len(values) == len(read_csv(out_csv)) and len(header) == len(read_csv(out_csv)[0])
    with session_scope(engine_of(made)) as session:
        auths = list(session.exec(select(Authorization).order_by(Authorization.auth_number)))
        providers = list(session.exec(select(Provider).order_by(Provider.npi)))
        finding = session.exec(select(Finding)).one()
        alerts = {a.id: a for a in session.exec(select(Alert))}

    rows = read_csv(tmp_path / "auths.csv")
    assert [r["auth_number"] for r in rows] == [a.auth_number for a in auths]
    for row, a in zip(rows, auths, strict=True):
        assert (row["payer"], row["servicing_npi"], row["procedures"], row["units_approved"]) == (
            a.payer_id,
            a.servicing_npi,
            " ".join(a.procedure_codes),
            str(a.units_approved),
        )
        assert (row["start"], row["end"], row["state"]) == (a.start_date.isoformat(), a.end_date.isoformat(), a.status)
        assert "patient_name" not in row and a.patient_name not in ",".join(row.values())

    rows = read_csv(tmp_path / "providers.csv")
    assert [(r["npi"], r["provider"], r["status"]) for r in rows] == [
        (p.npi, p.name, "not checked yet") for p in providers
    ]
    assert rows[0]["caqh_attested"] == (providers[0].caqh_attested_date or date.min).isoformat()

    (row,) = read_csv(tmp_path / "findings.csv")
    assert (row["id"], row["kind"], row["subject"], row["payer"], row["due"]) == (
        str(finding.id),
        "auth_expiring",
        "A00001",
        "UHP",
        "2026-12-01",
    )
    assert (row["amount_at_risk"], row["claims_at_risk"], row["claim_ids"]) == ("350.25", "2", "C000003 C000004")
    assert row["first_seen"] == "2026-11-02 09:30:00"

    rows = read_csv(tmp_path / "alerts.csv")
    assert sorted(int(r["id"]) for r in rows) == sorted(i for i in alerts if i is not None)
    for row in rows:
        alert = alerts[int(row["id"])]
        assert (row["severity"], row["kind"], row["claim"], row["payer"], row["codes"], row["status"]) == (
            alert.severity,
            alert.kind,
            alert.claim_id or "",
            alert.payer_id or "",
            alert.codes or "",
            alert.status,
        )
        assert row["amount"] == ("" if alert.amount is None else f"{alert.amount:.2f}")
        assert row["due"] == (alert.due.isoformat() if alert.due else "")
        assert row["opened"] == local(alert.opened_at)
    header, values, _ = read_xlsx(tmp_path / "alerts.xlsx")
    crafted = next(v for v in values if v[3] == "crafted")
    assert crafted[6] == 60.0 and crafted[7] == datetime(2026, 12, 20)


def test_patient_names_are_exported_only_where_the_installation_turns_them_on(tmp_path: Path) -> None:
    quiet, named = install_with(tmp_path / "quiet"), install_with(tmp_path / "named", names=True)
    for made in (quiet, named):
        for command in ("claims", "auths", "worklist", "alerts"):
            extra = ("--all",) if command == "alerts" else ()
            assert made.run(command, *extra, "--csv", str(made.root / f"{command}.csv")).returncode == 0
    for command in ("claims", "auths", "worklist", "alerts"):
        text = (quiet.root / f"{command}.csv").read_text()
        assert "Synthetic Patient" not in text and "patient_name" not in text
        header = (named.root / f"{command}.csv").read_text().splitlines()[0].split(",")
        assert header[-1] == "patient_name"
        assert header[:-1] == (quiet.root / f"{command}.csv").read_text().splitlines()[0].split(",")
    claims = {r["claim"]: r["patient_name"] for r in read_csv(named.root / "claims.csv")}
    assert claims["C000002"] == "Synthetic Patient 2"
    alert = next(r for r in read_csv(named.root / "alerts.csv") if r["subject"] == "crafted")
    assert alert["patient_name"] == "Synthetic Patient 2"


@pytest.mark.parametrize("flag", ["--csv", "--xlsx"])
def test_a_path_that_cannot_be_written_is_refused_and_nothing_is_written(tmp_path: Path, flag: str) -> None:
    made = install_with(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    for command in ("claims", "worklist", "auths", "providers", "findings", "alerts"):
        missing = tmp_path / "no-such-folder" / "out.csv"
        ran = made.run(command, flag, str(missing))
        assert ran.returncode == 2 and f"there is no folder {missing.parent}" in ran.stderr
        assert "nothing was written" in ran.stderr
        ran = made.run(command, flag, str(folder))
        assert ran.returncode == 2 and "is a folder" in ran.stderr
        # one good file and one bad: neither is written
        ran = made.run(command, "--csv", str(folder / "good.csv"), "--xlsx", str(missing))
        assert ran.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not any(folder.iterdir())
