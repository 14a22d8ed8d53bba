"""A synthetic store the size of a busy practice, for measuring the workspace's pages (bench/web.py).

    python -m bench.web_store --claims 50000 --denials 5000 [--db sqlite|postgres] [--dir DIR]

50,000 claims across the four payers by default, about 1.3 status observations per claim (payer claim
numbers, check numbers on the paid ones), ERA files and claims for some of the payments, open denials
with CARC/RARC codes from config/, and a few hundred alerts and findings. Every name is made up.
Rows go in through the store's own schema (create_schema) with bulk inserts: the point is the
size, not the worker's path to it, which the other benchmarks measure.

PostgreSQL: a database of its own on the local server, dropped and created again at every build
(as tests/pg_support.py makes one per test process).
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from fake_portal.data import npi_with_check_digit
from flows.rules import rules_dir
from store.db import create_schema, make_engine, sqlite_url
from store.models import (
    Alert,
    Claim,
    ClaimStatusObservation,
    Denial,
    DenialEvent,
    EraClaim,
    EraFile,
    Finding,
)
from store.postgres import DEFAULT_URL

PORTAL_OF_PAYER = {"NWM": "summit", "BBH": "summit", "UHP": "unity", "LSM": "lakeshore"}
PAYERS = tuple(PORTAL_OF_PAYER)
FIRST_NAMES = (
    *("Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jordan"),
    *("Kai", "Lane", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Tatum"),
)
# 200 made-up surnames: syllables no register of real people is built from, so a surname matches ~1 claim in 200.
SURNAME_PARTS = ("Bram", "Cor", "Dell", "Fen", "Gar", "Hol", "Kest", "Lom", "Marr", "Nor")
SURNAME_ENDS = ("wick", "stead", "ford", "ley", "ton", "by", "mere", "dale", "holt", "ridge")
SURNAMES = tuple(f"{a}{b}{c}" for a in SURNAME_PARTS for b in SURNAME_ENDS for c in ("", "e"))
OBSERVED_STATES = ("received", "pending", "paid", "partially_paid", "denied", "finalized")
BATCH = 5_000
# The practice's "today" for the synthetic data: service dates fall in the 400 days before it.
TODAY = date(2026, 12, 1)


@dataclass(frozen=True)
class SyntheticStore:
    database_url: str
    claims: int
    denials: int


@dataclass(frozen=True)
class Reason:
    carc: str
    category: str
    owner: str
    kind: str


def denial_reasons() -> list[Reason]:
    """The CARCs that are denials (not deductibles or co-pays), as config/reason_codes.csv files them."""
    with (rules_dir() / "reason_codes.csv").open(newline="") as f:
        return [
            Reason(row["carc"], row["category"], row["owner"], row["kind"])
            for row in csv.DictReader(f)
            if row["kind"] in ("soft", "hard") and row["owner"] not in ("", "none")
        ]


def remark_codes() -> list[str]:
    with (rules_dir() / "remark_codes.csv").open(newline="") as f:
        return [row["rarc"] for row in csv.DictReader(f)]


def patient_name(number: int) -> str:
    return f"{SURNAMES[number % len(SURNAMES)]}, {FIRST_NAMES[(number // len(SURNAMES)) % len(FIRST_NAMES)]}"


def claim_id(number: int) -> str:
    return f"SC{number:07d}"


def member_id(patient: int) -> str:
    return f"MB{patient:08d}"


def payer_claim_number(number: int) -> str:
    return f"PCN{number:09d}"


def check_number(batch: int) -> str:
    return f"CK{batch:07d}"


def sample_surname() -> str:
    return SURNAMES[7].upper()  # a surname the bench searches for, in capitals to show the search ignores case


def postgres_database_url(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def fresh_postgres_database(server_url: str, database: str) -> str:
    """Drop and create `database` on the server of `server_url`; its URL."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE refuses a transaction
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        server.dispose()
    return postgres_database_url(server_url, database)


def build(database_url: str, claims: int, denials: int, seed: int = 16) -> SyntheticStore:
    """Fill the empty store at `database_url` (schema created here) with `claims` claims and `denials` open
    denials; the same seed makes the same store."""
    engine = make_engine(database_url)
    try:
        create_schema(engine)
        _fill(engine, claims, denials, random.Random(seed))
        with engine.begin() as connection:  # planner statistics, as a store in use has them
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return SyntheticStore(database_url, claims, denials)


def _fill(engine: Engine, claims: int, denials: int, rng: random.Random) -> None:
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)
    npis = [npi_with_check_digit(f"1{n:08d}") for n in range(1, 13)]
    claim_rows: list[dict[str, Any]] = []
    observation_rows: list[dict[str, Any]] = []
    era_files: list[dict[str, Any]] = []
    era_claims: list[dict[str, Any]] = []
    paid_batch: dict[str, int] = {}
    for number in range(1, claims + 1):
        patient = rng.randrange(1, max(2, claims // 3))
        payer = PAYERS[patient % len(PAYERS)]
        dos = TODAY - timedelta(days=rng.randrange(5, 400))
        billed = Decimal(rng.randrange(8_000, 250_000)) / 100
        state = rng.choice(OBSERVED_STATES)
        observed = [state] if rng.random() < 0.7 else ["pending", state]
        cid = claim_id(number)
        pcn = payer_claim_number(number)
        paid = billed * Decimal("0.62") if state in ("paid", "partially_paid", "finalized") else None
        checked_at = now - timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(0, 600))
        for i, status in enumerate(observed):
            at = checked_at - timedelta(days=7 * (len(observed) - 1 - i))
            pays = status in ("paid", "partially_paid", "finalized")
            batch = number // 12 if pays else None
            if batch is not None:
                paid_batch[cid] = batch
            observation_rows.append(
                {
                    "claim_id": cid,
                    "observed_at": at,
                    "portal": PORTAL_OF_PAYER[payer],
                    "run_id": f"bench-{at:%Y%m%d}",
                    "status": status,
                    "status_text": status.replace("_", " "),
                    "status_date": at.date(),
                    "payer_claim_number": pcn,
                    "billed_amount": billed,
                    "allowed_amount": billed * Decimal("0.8") if pays else None,
                    "paid_amount": paid if pays else None,
                    "check_number": check_number(batch) if batch is not None else None,
                    "payment_date": at.date() if pays else None,
                    "adjustments": [],
                    "changes": f"status: {observed[i - 1] if i else 'unchecked'} -> {status}",
                }
            )
        claim_rows.append(
            {
                "claim_id": cid,
                "payer_id": payer,
                "member_id": member_id(patient),
                "patient_name": patient_name(patient),
                "dos_from": dos,
                "dos_to": dos,
                "billed_amount": billed,
                "submitted_date": dos + timedelta(days=rng.randrange(1, 20)),
                "rendering_npi": npis[number % len(npis)],
                "procedure_codes": ["99213"] if number % 3 else ["99214", "36415"],
                "prior_auth_number": None,
                "imported_at": now - timedelta(days=30),
                "updated_at": checked_at,
                "status": state,
                "status_text": state.replace("_", " "),
                "payer_claim_number": pcn,
                "paid_amount": paid,
                "last_checked_at": checked_at,
                "status_changed_at": checked_at,
            }
        )
    # An ERA for every other payment batch: one file per check, one CLP per claim it paid.
    era_of_batch: dict[int, int] = {}
    for cid, batch in sorted(paid_batch.items()):
        if batch % 2:
            continue
        if batch not in era_of_batch:
            era_of_batch[batch] = len(era_files) + 1
            era_files.append(
                {
                    "id": era_of_batch[batch],
                    "sha256": f"{batch:064x}",
                    "source": "file",
                    "file_id": f"era-{batch}.835",
                    "trace_number": check_number(batch),
                    "payment_date": TODAY - timedelta(days=batch % 90),
                    "imported_at": now,
                    "warnings": [],
                }
            )
        era_claims.append(
            {
                "era_file_id": era_of_batch[batch],
                "reported_claim_id": cid,
                "claim_id": cid,
                "status_code": "1",
                "billed": Decimal("100.00"),
                "paid": Decimal("62.00"),
                "payer_claim_number": payer_claim_number(int(cid[2:])),
            }
        )
    reasons, remarks = denial_reasons(), remark_codes()
    denial_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for i in range(1, denials + 1):
        number = rng.randrange(1, claims + 1)
        reason = rng.choice(reasons)
        seen = now - timedelta(days=rng.randrange(0, 120))
        row = claim_rows[number - 1]
        denial_rows.append(
            {
                "id": i,
                "fingerprint": f"bench-{i}",
                "claim_id": row["claim_id"],
                "reported_claim_id": row["claim_id"],
                "source": "portal" if i % 3 else "era",
                "source_ref": PORTAL_OF_PAYER[row["payer_id"]],
                "payer_id": row["payer_id"],
                "payer_claim_number": row["payer_claim_number"],
                "group_code": "CO" if i % 5 else "PR",
                "carc": reason.carc,
                "rarcs": rng.sample(remarks, k=i % 3),
                "amount": Decimal(rng.randrange(2_000, 400_000)) / 100,
                "denial_date": seen.date(),
                "category": reason.category,
                "owner": reason.owner,
                "kind": reason.kind,
                "bill_patient": i % 5 == 0,
                "appealable": True,
                "status": "open",
                "assignee": None if i % 4 else "bench",
                "first_seen_at": seen,
                "last_seen_at": now,
            }
        )
        event_rows.append({"denial_id": i, "at": seen, "actor": "worker", "status": "open", "note": "seen"})
    alert_rows, finding_rows = _alerts_and_findings(denial_rows, claim_rows, now, rng)
    with engine.begin() as connection:
        for model, rows in (
            (Claim, claim_rows),
            (ClaimStatusObservation, observation_rows),
            (EraFile, era_files),
            (EraClaim, era_claims),
            (Denial, denial_rows),
            (DenialEvent, event_rows),
            (Alert, alert_rows),
            (Finding, finding_rows),
        ):
            _insert(connection, model, rows)
        if engine.dialect.name == "postgresql":  # ids given explicitly: move the sequences past them
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('denial', 'id'), (SELECT max(id) FROM denial))")
            )
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('era_file', 'id'), (SELECT max(id) FROM era_file))")
            )


def _alerts_and_findings(
    denials: Sequence[dict[str, Any]], claims: Sequence[dict[str, Any]], now: datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    alerts = []
    for denial in denials[:300]:
        due = TODAY + timedelta(days=rng.randrange(-5, 60))
        alerts.append(
            {
                "key": f"denial_deadline|{denial['id']}",
                "kind": "denial_deadline",
                "subject": str(denial["id"]),
                "title": f"{denial['claim_id']} {denial['payer_id']} CO-{denial['carc']} ${denial['amount']}",
                "action": f"File a first-level appeal by {due.isoformat()}",
                "owner": denial["owner"],
                "payer_id": denial["payer_id"],
                "claim_id": denial["claim_id"],
                "amount": denial["amount"],
                "due": due,
                "codes": denial["carc"],
                "severity": rng.choice(("low", "medium", "high", "critical")),
                "status": "open" if denial["id"] % 7 else "acknowledged",
                "opened_at": now - timedelta(days=rng.randrange(0, 30)),
                "updated_at": now,
                "resolution_reported": False,
            }
        )
    findings = []
    for i, claim in enumerate(claims[:200]):
        findings.append(
            {
                "key": f"timely_filing_risk|{claim['claim_id']}",
                "kind": "timely_filing_risk",
                "subject": claim["claim_id"],
                "payer_id": claim["payer_id"],
                "message": "No status from the payer yet: check the claim was received before timely filing ends.",
                "due": TODAY + timedelta(days=rng.randrange(1, 90)),
                "amount_at_risk": claim["billed_amount"],
                "claims_at_risk": [claim["claim_id"]],
                "status": "open" if i % 5 else "resolved",
                "first_seen_at": now - timedelta(days=10),
                "last_seen_at": now,
            }
        )
    return alerts, findings


def _insert(connection: Any, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    for chunk in _chunks(rows):
        connection.execute(insert(table), chunk)


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--denials", type=int, default=5_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--dir", type=Path, default=Path("bench-web-data"), help="Where the SQLite file goes.")
    parser.add_argument("--pg-url", default=DEFAULT_URL, help="The PostgreSQL server (any database on it).")
    args = parser.parse_args()
    if args.db == "sqlite":
        args.dir.mkdir(parents=True, exist_ok=True)
        (args.dir / "portal-worker.db").unlink(missing_ok=True)
        url = sqlite_url(args.dir)
    else:
        url = fresh_postgres_database(args.pg_url, f"pw_bench_web_{args.claims}")
    store = build(url, args.claims, args.denials)
    print(f"{store.claims:,} claims and {store.denials:,} open denials in {make_url(url).render_as_string()}")


if __name__ == "__main__":
    main()
