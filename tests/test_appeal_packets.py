"""`portal-worker appeal build DENIAL_ID`: one PDF per denial, printed by Chromium and read back with pypdf:
its parts in order (outline titles and page texts), a correction sheet for a soft denial to correct, staff
attachments merged, bad attachments and unknown denials refused with nothing written, the practice's own
letters winning over the shipped ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from flows.appeal_packet import PacketProblem
from flows.denial_codes import CATEGORIES
from tests.appeal_packet_support import (
    BARE_CLAIM_ID,
    DENIED_PAGE,
    ELIGIBILITY_PAGE,
    MEMBER,
    PATIENT,
    PacketStore,
    add_test_denial,
    packet_store,
    read_packet,
    text_pdf,
)
from tests.cli_support import portal_worker
from worker.runtime.packets import build_packet
from worker.settings import ConfigError, Settings

pytestmark = pytest.mark.browser  # every packet is printed by a real Chromium
TODAY = date(2026, 11, 20)
NOT_DENIALS = {"contractual", "patient_responsibility", "pending"}
# What each category's letter argues (config/letters/<category>.html.j2); unknown gets the general letter.
ARGUMENT = {
    "authorization": "The service was authorized",
    "medical_necessity": "was medically necessary",
    "coding": "describe the service performed",
    "bundling": "separate and distinct",
    "timely_filing": "within your timely-filing limit",
    "eligibility": "The patient was covered on the date of service",
    "duplicate": "This claim is not a duplicate",
    "documentation": "The documentation you asked for is enclosed",
    "coordination_of_benefits": "order of benefits",
    "non_covered": "is a covered benefit",
    "credentialing": "enrolled and credentialed",
    "demographic": "matches your records",
    "unknown": "We believe the service was covered and correctly billed",
}
LETTER, SUMMARY, LINES = "Cover letter: reconsideration", "Claim summary", "Payer's denial: adjustments and ERA lines"
KEPT, ELIGIBILITY = "Payer's denial: page kept from unity on 2026-11-20", "Eligibility confirmation of 2026-10-04"
AUTHORIZATION, CHECKLIST = "Authorization AUTH-5501", "Checklist for staff (remove before sending)"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PacketStore]:
    held = packet_store(tmp_path)
    yield held
    held.engine.dispose()


def build(store: PacketStore, denial_id: int, *args: str) -> tuple[int, str, str]:
    ran = portal_worker("-c", str(store.config_path), "appeal", "build", str(denial_id), *args)
    return ran.returncode, ran.stdout, ran.stderr


def test_every_denial_category_has_a_letter() -> None:
    assert set(ARGUMENT) == (CATEGORIES - NOT_DENIALS) | {"unknown"}


@pytest.mark.parametrize("category", sorted(ARGUMENT))
def test_a_packet_for_each_category_holds_its_parts_in_order(store: PacketStore, category: str) -> None:
    denial_id = add_test_denial(store, category)
    built = build_packet(store.settings, store.engine, denial_id, today=TODAY)

    assert built.path == store.packets / f"denial-{denial_id}.pdf"
    assert built.path.stat().st_mode & 0o777 == 0o600
    read = read_packet(built.path)
    assert read.titles == [LETTER, SUMMARY, LINES, KEPT, ELIGIBILITY, AUTHORIZATION, CHECKLIST]
    letter, summary, lines, kept, eligibility, authorization, checklist = read.texts
    assert ARGUMENT[category] in letter
    assert "Request for reconsideration" in letter and "UHP-99001" in letter and "$480.00" in letter
    assert PATIENT in summary and "97110, 97140" in summary and "Due by November 16, 2027" in summary
    assert "CO-50" in lines and "era-77.835" in lines and "EFT-4455" in lines
    assert kept == DENIED_PAGE and eligibility == ELIGIBILITY_PAGE
    assert "AUTH-5501" in authorization and "Units approved 12" in authorization
    assert "File it on Unity Health Plans's portal" in checklist
    assert read.pages == built.pages


def test_the_checklist_holds_what_the_packet_does_not(store: PacketStore) -> None:
    denial_id = add_test_denial(store, "medical_necessity", claim_id=BARE_CLAIM_ID)
    built = build_packet(store.settings, store.engine, denial_id, today=TODAY)

    read = read_packet(built.path)
    assert read.titles == [LETTER, SUMMARY, LINES, CHECKLIST]  # nothing kept, no ERA, no eligibility, no auth
    still = read.texts[-1]
    for item in ("denial notice", "medical records", "letter of medical necessity", "payer policy cited"):
        assert f"☐ {item}" in still
    assert "☐ claim" not in still  # the claim summary is the claim
    assert built.plan.checklist == (
        "denial notice",
        "medical records",
        "letter of medical necessity",
        "payer policy cited",
    )


def test_a_soft_denial_to_correct_gets_a_correction_sheet_not_a_letter(store: PacketStore) -> None:
    denial_id = add_test_denial(store, "coding", kind="soft", carc="4", rarcs=("N519",))
    code, out, err = build(store, denial_id)

    assert code == 0, err
    assert f"Correction sheet for denial {denial_id}" in out
    read = read_packet(store.packets / f"denial-{denial_id}.pdf")
    assert read.titles == ["Correction sheet", SUMMARY, LINES, KEPT, CHECKLIST]
    sheet = read.texts[0]
    assert "fixed by correcting the claim, not by an appeal" in sheet and "resubmit corrected claim" in sheet
    assert "CO-4" in sheet and "N519" in sheet and "procedure or diagnosis codes" in sheet
    assert "To whom it may concern" not in " ".join(read.texts)
    assert "Corrected claim (claim frequency code 7" in sheet  # the playbook's level 0 for UHP


def test_staff_attachments_are_merged_before_the_checklist(store: PacketStore, tmp_path: Path) -> None:
    denial_id = add_test_denial(store, "medical_necessity")
    records, letter = tmp_path / "records.pdf", tmp_path / "lmn.pdf"
    records.write_bytes(text_pdf("PROGRESS NOTES visit one", "second line"))
    letter.write_bytes(text_pdf("LETTER OF MEDICAL NECESSITY"))
    out = tmp_path / "out" / "packet.pdf"
    out.parent.mkdir()
    code, shown, err = build(store, denial_id, "--attach", str(records), "--attach", str(letter), "--out", str(out))

    assert code == 0, err
    read = read_packet(out)
    assert read.titles[-3:] == ["Attachment 1", "Attachment 2", CHECKLIST]
    assert read.texts[-3].startswith("PROGRESS NOTES visit one") and read.texts[-2] == "LETTER OF MEDICAL NECESSITY"
    assert "2 attachment(s) given by staff" in read.texts[-1]
    assert out.stat().st_mode & 0o777 == 0o600 and not store.packets.exists()
    assert "Still to attach:" in shown and "medical records" in shown
    assert PATIENT not in shown and MEMBER not in shown


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("just notes, not a PDF"), "attachment 2 (bad.pdf): is not a PDF file"),
        (lambda p: None, "attachment 2 (bad.pdf): there is no such file"),
        (lambda p: p.mkdir(), "attachment 2 (bad.pdf): is a folder, not a PDF file"),
        (lambda p: p.write_bytes(b"%PDF-1.4\ngarbage"), "attachment 2 (bad.pdf): is not a readable PDF"),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_is_written(
    store: PacketStore, tmp_path: Path, make: object, message: str
) -> None:
    denial_id = add_test_denial(store, "coding")
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(text_pdf("fine"))
    make(bad)  # type: ignore[operator]
    code, out, err = build(store, denial_id, "--attach", str(good), "--attach", str(bad))

    assert code == 2 and message in err and "nothing was written" in err, err
    assert "Traceback" not in out + err
    assert not store.packets.exists()


def test_an_unknown_denial_or_one_with_nothing_to_file_is_a_clear_error(store: PacketStore) -> None:
    code, _, err = build(store, 999)
    assert code == 2 and "there is no denial 999 in the store" in err

    no_rights = add_test_denial(store, "non_covered", carc="96", appealable=False)
    code, _, err = build(store, no_rights)
    assert code == 2 and "grants no appeal rights" in err

    code, _, err = build(store, 1, "--out", str(store.config_path.parent / "no-folder" / "p.pdf"))
    assert code == 2 and "there is no folder" in err
    assert not store.packets.exists()


def test_the_log_names_the_denial_never_the_patient(store: PacketStore) -> None:
    denial_id = add_test_denial(store, "eligibility")
    code, _, err = build(store, denial_id)

    assert code == 0, err
    logged = (store.settings.worker.data_dir / "logs" / "portal-worker.jsonl").read_text()
    built = [json.loads(line) for line in logged.splitlines() if "appeal_packet_built" in line]
    assert built and built[-1]["denial_id"] == denial_id
    assert PATIENT not in logged and MEMBER not in logged and "Quintero" not in logged


def test_an_installations_letter_wins_and_a_broken_one_stops_the_config(store: PacketStore) -> None:
    folder = store.config_path.parent / "letters"
    folder.mkdir()
    (folder / "medical_necessity.html.j2").write_text(
        '{% extends "appeal.html.j2" %}{% block argument %}<p>OUR OWN ARGUMENT, Dr Reyes</p>{% endblock %}'
    )
    settings = Settings.load(store.config_path)
    built = build_packet(settings, store.engine, add_test_denial(store, "medical_necessity"), today=TODAY)
    letter = read_packet(built.path).texts[0]
    assert "OUR OWN ARGUMENT, Dr Reyes" in letter and "was medically necessary" not in letter

    (folder / "coding.html.j2").write_text("{% extends 'appeal.html.j2' %}\n{% block argument %}\n{% if %}")
    with pytest.raises(ConfigError) as refused:
        Settings.load(store.config_path)
    assert f"{folder / 'coding.html.j2'}, line 3" in str(refused.value)


def test_a_template_that_fails_while_rendering_writes_nothing(store: PacketStore) -> None:
    folder = store.config_path.parent / "letters"
    folder.mkdir()
    (folder / "coding.html.j2").write_text(
        '{% extends "appeal.html.j2" %}{% block argument %}{{ no_such }}{% endblock %}'
    )
    settings = Settings.load(store.config_path)
    with pytest.raises(PacketProblem, match=r"letter template coding\.html\.j2: 'no_such' is undefined"):
        build_packet(settings, store.engine, add_test_denial(store, "coding"), today=TODAY)
    assert not store.packets.exists()


def test_an_installations_playbook_decides_how_the_packet_is_sent(store: PacketStore) -> None:
    (store.config_path.parent / "payer_playbook.toml").write_text(
        '[payers.UHP.levels.1]\nchannel = "fax"\nfax = "555-010-0142"\n'
        'attach = ["denial notice", "signed appeal form"]\n'
    )
    settings = Settings.load(store.config_path)
    built = build_packet(settings, store.engine, add_test_denial(store, "coding"), today=TODAY)

    read = read_packet(built.path)
    assert "By fax to 555-010-0142" in read.texts[0] and "Fax it to 555-010-0142" in read.texts[-1]
    assert built.plan.checklist == ("signed appeal form", "medical records")  # the playbook's, then coding's
