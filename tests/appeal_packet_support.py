"""A store holding one claim with everything an appeal packet can carry: a kept denial page as PDF, an ERA,
an eligibility check with its PDF and an approved authorization; denials added per test. PDFs read back."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy.engine import Engine

from flows.claim_import import ClaimRecord
from store.claims import upsert_claims
from store.db import create_schema, make_engine, session_scope
from store.denials import add_denial
from store.evidence import add_evidence
from store.models import Appointment, Authorization, Denial, EligibilityCheck, EraClaim, EraFile, Evidence
from worker.runtime.evidence import evidence_dir
from worker.settings import Settings

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CLAIM_ID, BARE_CLAIM_ID = "PA0001", "PA0002"
PATIENT, MEMBER = "Quintero, Alma", "UHPM7788"
AUTH = "AUTH-5501"
DENIED_PAGE, ELIGIBILITY_PAGE = "PAYER PAGE: claim denied CO-50", "PAYER PAGE: coverage active"


def text_pdf(*lines: str) -> bytes:
    """A one-page PDF whose text pypdf reads back (Helvetica, one line each)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    shown = "".join(f"({line}) Tj 0 -16 Td " for line in lines)
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 720 Td {shown}ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class PacketStore:
    settings: Settings
    engine: Engine
    config_path: Path

    @property
    def packets(self) -> Path:
        return self.settings.worker.data_dir / "packets"


def packet_store(root: Path, extra_config: str = "") -> PacketStore:
    from tests.conftest import write_config

    config_path = root / "portal-worker.toml"
    write_config(config_path, "https://portal.invalid", root / "data", extra=extra_config)
    settings = Settings.load(config_path)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    _fill(settings, engine)
    return PacketStore(settings, engine, config_path)


def _kept(settings: Settings, name: str, text: str) -> str:
    folder = evidence_dir(settings.worker.data_dir) / "unity"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text_pdf(text))
    return str(path)


def _fill(settings: Settings, engine: Engine) -> None:
    claims = [
        ClaimRecord(
            claim_id=claim_id,
            payer_id="UHP",
            member_id=MEMBER,
            patient_name=PATIENT,
            dos_from=date(2026, 10, 5) if claim_id == CLAIM_ID else date(2026, 10, 12),
            dos_to=date(2026, 10, 5) if claim_id == CLAIM_ID else date(2026, 10, 12),
            billed_amount=Decimal("480.00"),
            submitted_date=date(2026, 10, 7),
            rendering_npi="1234567893",
            procedure_codes=("97110", "97140"),
            prior_auth_number=AUTH if claim_id == CLAIM_ID else None,
        )
        for claim_id in (CLAIM_ID, BARE_CLAIM_ID)
    ]
    with session_scope(engine) as session:
        upsert_claims(session, claims, AT)
        session.flush()
        add_evidence(
            session,
            Evidence(
                created_at=AT,
                portal="unity",
                claim_id=CLAIM_ID,
                reason="denial first seen",
                url="https://portal.invalid/claims",
                pdf_path=_kept(settings, f"{CLAIM_ID}-denied.pdf", DENIED_PAGE),
            ),
        )
        era_file = EraFile(
            sha256="e" * 64,
            source="file",
            file_id="era-77.835",
            trace_number="EFT-4455",
            payment_date=date(2026, 11, 16),
            imported_at=AT,
        )
        session.add(era_file)
        session.flush()
        assert era_file.id is not None
        session.add(
            EraClaim(
                era_file_id=era_file.id,
                reported_claim_id=CLAIM_ID,
                claim_id=CLAIM_ID,
                status_code="4",
                billed=Decimal("480.00"),
                paid=Decimal("0.00"),
                payer_claim_number="UHP-99001",
            )
        )
        session.add(
            Authorization(
                auth_number=AUTH,
                payer_id="UHP",
                member_id=MEMBER,
                patient_name=PATIENT,
                servicing_npi="1234567893",
                procedure_codes=["97110", "97140"],
                units_approved=12,
                start_date=date(2026, 9, 1),
                end_date=date(2026, 12, 31),
                imported_at=AT,
                updated_at=AT,
                status="approved",
            )
        )
        session.add(
            Appointment(
                appointment_id="APT-1",
                appointment_date=date(2026, 10, 5),
                appointment_time=time(9, 30),
                patient_name=PATIENT,
                date_of_birth=date(1970, 3, 4),
                member_id=MEMBER,
                payer_id="UHP",
                rendering_npi="1234567893",
                imported_at=AT,
                updated_at=AT,
            )
        )
        session.flush()
        session.add(
            EligibilityCheck(
                appointment_id="APT-1",
                checked_on=date(2026, 10, 4),
                service_date=date(2026, 10, 5),
                checked_at=AT,
                portal="unity",
                run_id="r1",
                payer_id="UHP",
                coverage="active",
                portal_words="Active coverage",
                pdf_path=_kept(settings, "APT-1-eligibility.pdf", ELIGIBILITY_PAGE),
            )
        )


def add_test_denial(
    store: PacketStore,
    category: str,
    *,
    kind: str = "hard",
    carc: str = "50",
    rarcs: tuple[str, ...] = (),
    claim_id: str = CLAIM_ID,
    appealable: bool = True,
) -> int:
    with session_scope(store.engine) as session:
        denial = add_denial(
            session,
            Denial(
                fingerprint=f"{claim_id}|CO|{carc}|{category}|{kind}",
                claim_id=claim_id,
                reported_claim_id=claim_id,
                source="portal",
                source_ref="unity",
                payer_id="UHP",
                payer_claim_number="UHP-99001",
                group_code="CO",
                carc=carc,
                rarcs=list(rarcs),
                amount=Decimal("480.00"),
                denial_date=date(2026, 11, 16),
                category=category,
                owner="billing",
                kind=kind,
                appealable=appealable,
                first_seen_at=AT,
                last_seen_at=AT,
            ),
            "seen on unity",
        )
        assert denial.id is not None
        return denial.id


@dataclass(frozen=True)
class ReadPacket:
    titles: list[str]  # the outline, in order
    texts: list[str]  # each outline part's text, whitespace collapsed
    pages: int


def read_packet(path: Path) -> ReadPacket:
    reader = PdfReader(path)
    starts = [reader.get_destination_page_number(item) for item in reader.outline]  # type: ignore[arg-type]
    pages = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    ends = [*starts[1:], len(pages)]
    return ReadPacket(
        [str(item.title) for item in reader.outline],  # type: ignore[union-attr]
        [" ".join(pages[start:end]) for start, end in zip(starts, ends, strict=True)],
        len(pages),
    )
