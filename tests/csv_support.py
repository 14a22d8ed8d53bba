"""A worker install without a portal to reach, and synthetic practice exports for it: for tests of
what the imports and the lists tell a person. Dates count from today, as `portal-worker` does."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from fake_portal.data import npi_with_check_digit
from tests.cli_support import Ran, portal_worker

NPI = npi_with_check_digit("123456789")
CLAIM_COLUMNS = (
    "claim_id",
    "payer_id",
    "member_id",
    "patient_name",
    "dos_from",
    "dos_to",
    "billed_amount",
    "submitted_date",
    "rendering_npi",
    "procedure_codes",
)
AUTH_COLUMNS = (
    "auth_number",
    "payer_id",
    "member_id",
    "patient_name",
    "servicing_npi",
    "procedure_codes",
    "units_approved",
    "start_date",
    "end_date",
)
PROVIDER_COLUMNS = ("npi", "name", "caqh_attested_date")


@dataclass(frozen=True)
class Install:
    """A config and data directory in tmp; its portal is never contacted by imports or lists."""

    root: Path
    config: Path

    def run(self, *args: str) -> Ran:
        return portal_worker("-c", str(self.config), *args)

    def csv(self, name: str, columns: tuple[str, ...], rows: list[dict[str, str]], delimiter: str = ",") -> Path:
        path = self.root / name
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=columns, delimiter=delimiter)
            writer.writeheader()
            writer.writerows(rows)
        return path


def make_install(root: Path) -> Install:
    config = root / "portal-worker.toml"
    config.write_text(
        f'[worker]\ndata_dir = "{root / "data"}"\n\n'
        '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://127.0.0.1:9/unity"\npayers = ["UHP"]\n'
    )
    return Install(root, config)


def claim_rows(count: int, today: date | None = None) -> list[dict[str, str]]:
    served = (today or date.today()) - timedelta(days=30)
    return [
        {
            "claim_id": f"C{i:06d}",
            "payer_id": "UHP",
            "member_id": f"M{i:08d}",
            "patient_name": f"Synthetic Patient {i}",
            "dos_from": served.isoformat(),
            "dos_to": served.isoformat(),
            "billed_amount": f"{100 + i % 900}.00",
            "submitted_date": (served + timedelta(days=2)).isoformat(),
            "rendering_npi": NPI,
            "procedure_codes": "99213",
        }
        for i in range(1, count + 1)
    ]


def auth_rows(count: int) -> list[dict[str, str]]:
    start = date.today() - timedelta(days=10)
    return [
        {
            "auth_number": f"A{i:05d}",
            "payer_id": "UHP",
            "member_id": f"M{i:08d}",
            "patient_name": f"Synthetic Patient {i}",
            "servicing_npi": NPI,
            "procedure_codes": "97110",
            "units_approved": "12",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=90)).isoformat(),
        }
        for i in range(1, count + 1)
    ]


def provider_rows(count: int) -> list[dict[str, str]]:
    return [
        {
            "npi": npi_with_check_digit(f"{100000000 + i}"),
            "name": f"Synthetic Provider {i}",
            "caqh_attested_date": (date.today() - timedelta(days=20)).isoformat(),
        }
        for i in range(1, count + 1)
    ]
