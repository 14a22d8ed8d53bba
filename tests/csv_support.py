"""A worker install without a portal to reach, and synthetic practice exports and remittances for it:
for tests of what the imports and the lists tell a person. Dates count from today, as `portal-worker` does."""

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
        '[portals.unity]\nadapter = "unity_health"\nbase_url = "http://127.0.0.1:9/unity"\npayers = ["UHP"]\n\n'
        '[portals.summit]\nadapter = "summit_exchange"\nbase_url = "http://127.0.0.1:9/clearinghouse"\n'
        'payers = ["NWM"]\n'
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


def denials_835(count: int, denied_days_ago: int = 175) -> str:
    """An 835 denying `count` synthetic claims CO-50 (balanced: billed - adjustment = paid = 0), paid
    `denied_days_ago` days ago so their appeal deadlines fall within the alert window."""
    today = date.today()
    served = (today - timedelta(days=denied_days_ago + 25)).strftime("%Y%m%d")
    paid = (today - timedelta(days=denied_days_ago)).strftime("%Y%m%d")
    segments = [
        "ISA*00*          *00*          *ZZ*NWMUTUAL       *ZZ*PORTALWORKER   *261102*0930*^*00501*000000101*0*T*:",
        "GS*HP*NWMUTUAL*PORTALWORKER*20261102*0930*101*X*005010X221A1",
        "ST*835*0001",
        f"BPR*H*0.00*C*NON************{paid}",
        "TRN*1*PAGING001*1999999999",
        f"DTM*405*{paid}",
        "N1*PR*NORTHWIND MUTUAL",
        "REF*2U*NWM",
        "N1*PE*SYNTHETIC CLINIC*XX*1548726300",
        "LX*1",
    ]
    for i in range(1, count + 1):
        billed = f"{100 + i}.00"
        segments += [
            f"CLP*PG{i:05d}*4*{billed}*0.00**12*NWMPG{i:05d}*11*1",
            "NM1*QC*1*SYNTHETIC*PATIENT****MI*X00000001",
            f"DTM*232*{served}",
            f"DTM*233*{served}",
            f"SVC*HC:99213*{billed}*0.00**1",
            f"DTM*472*{served}",
            f"CAS*CO*50*{billed}",
        ]
    segments += [f"SE*{len(segments) - 1}*0001", "GE*1*101", "IEA*1*000000101"]
    return "~".join(segments) + "~"
