"""What the review of the command line found (issue 16): departments and states checked with the choices
listed, tables that keep the ID and Payer columns at 80 and 100 columns, times in the practice's zone, and
`denial ID --by NAME` naming the person in the appeal trail."""

from __future__ import annotations

import csv
import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from flows.denial_codes import OWNERS
from store.db import make_engine, session_scope
from store.denials import add_denial, history
from store.models import Denial
from tests.cli_support import ENTRY_POINT
from tests.csv_support import CLAIM_COLUMNS, Install, claim_rows, make_install
from worker.clock import aware, utcnow
from worker.settings import Settings

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
DENIED = (("C000001", "billing", "UHP"), ("C000002", "coding", "UHP"), ("C000003", "front_desk", "NWM"))


def make_engine_for(config: Path) -> Engine:
    return make_engine(Settings.load(config).database_url())


@pytest.fixture
def install(tmp_path: Path) -> Install:
    """An install with three claims, each with one open denial, owned by billing, coding and the front desk."""
    made = make_install(tmp_path)
    assert made.run("import", "claims", str(made.csv("claims.csv", CLAIM_COLUMNS, claim_rows(3)))).returncode == 0
    now = utcnow()
    with session_scope(make_engine_for(made.config)) as session:
        for n, (claim_id, owner, payer) in enumerate(DENIED, start=1):
            add_denial(
                session,
                Denial(
                    fingerprint=f"cli-{n}",
                    claim_id=claim_id,
                    reported_claim_id=claim_id,
                    source="portal",
                    source_ref="unity",
                    payer_id=payer,
                    payer_claim_number=f"PCN{n:04d}",
                    group_code="CO",
                    carc="16",
                    rarcs=["M51"],
                    amount=Decimal("1234.50") * n,
                    category="coding",
                    owner=owner,
                    kind="soft",
                    first_seen_at=now,
                    last_seen_at=now,
                ),
                "seen",
            )
    return made


def denial_ids(install: Install) -> dict[str, int]:
    with session_scope(make_engine_for(install.config)) as session:
        return {d.claim_id or "": d.id or 0 for d in session.exec(select(Denial))}


def test_departments_are_matched_whatever_their_case_and_an_unknown_one_lists_the_choices(install: Install) -> None:
    for typed, claim in (
        ("Coding", "C000002"),
        ("FRONT DESK", "C000003"),
        ("front-desk", "C000003"),
        ("billing", "C000001"),
    ):
        shown = install.run("worklist", "--owner", typed)
        assert shown.returncode == 0 and claim in shown.stdout, (typed, shown.stdout)
        assert {c for c, _, _ in DENIED} - {claim} & set(shown.stdout.split()) == set()
    refused = install.run("worklist", "--owner", "Cardiology")
    assert refused.returncode == 2
    assert "no department 'Cardiology'" in refused.stderr
    assert all(owner in refused.stderr for owner in OWNERS)


def test_claim_states_are_matched_whatever_their_case_and_an_unknown_one_lists_the_choices(install: Install) -> None:
    assert install.run("claims", "--status", "Unchecked").stdout.count("C00000") == 3
    refused = install.run("claims", "--status", "lost")
    assert refused.returncode == 2 and "no such value 'lost'" in refused.stderr
    assert all(state in refused.stderr for state in ("unchecked", "denied", "partially_paid", "not_on_file"))


def test_a_status_names_who_did_it_and_times_are_the_practices(install: Install) -> None:
    ids = denial_ids(install)
    by_maria = install.run(
        "denial", str(ids["C000001"]), "--status", "Appealed", "--note", "level 1 sent", "--by", "maria"
    )
    assert by_maria.returncode == 0, by_maria.stderr
    anonymous = install.run(
        "denial", str(ids["C000002"]), "--status", "written-off", "--reason", "under the small-balance threshold"
    )
    assert anonymous.returncode == 0, anonymous.stderr
    refused = install.run("denial", str(ids["C000003"]), "--status", "lost", "--by", "maria")
    assert refused.returncode == 2 and "status must be one of" in refused.stderr
    with session_scope(make_engine_for(install.config)) as session:
        trail = history(session, ids["C000001"])
        assert (trail[-1].actor, trail[-1].status, trail[-1].note) == ("maria", "appealed", "level 1 sent")
        assert history(session, ids["C000002"])[-1].actor == "staff"
        assert history(session, ids["C000003"])[-1].status == "open"  # the refused one changed nothing
        seen_at = trail[-1].at
    zone = Settings.load(install.config).worker.tzinfo
    assert f"{aware(seen_at).astimezone(zone):%Y-%m-%d %H:%M}" in by_maria.stdout
    assert "UTC" not in by_maria.stdout


def in_terminal(install: Install, columns: int, *args: str) -> str:
    """`portal-worker ARGS` as a person runs it in a terminal `columns` wide (a pseudo-terminal of that size),
    as printed, colours removed."""
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "NO_COLOR"}}
    process = subprocess.Popen(
        [str(ENTRY_POINT), "-c", str(install.config), *args],
        stdin=side,
        stdout=side,
        stderr=side,
        env={**env, "TERM": "xterm"},
    )
    os.close(side)
    printed = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        printed += chunk
    os.close(main)
    assert process.wait(timeout=120) == 0, printed
    return ANSI.sub("", printed.decode()).replace("\r\n", "\n")


@pytest.mark.parametrize("columns", [80, 100])
def test_narrow_terminals_keep_the_id_and_payer_of_every_row(install: Install, columns: int) -> None:
    ids = denial_ids(install)
    shown = in_terminal(install, columns, "worklist")
    lines = shown.splitlines()
    assert all(len(line) <= columns for line in lines), shown
    header = next(line for line in lines if "ID" in line and "Claim" in line)
    assert "Payer" in header and "Amount" in header and "Deadline" in header
    for claim_id, _owner, payer in DENIED:
        row = next(line for line in lines if claim_id in line)
        assert str(ids[claim_id]) in row.replace("│", " ").split() and payer in row
    assert "worklist --csv" in shown  # says where the columns it left out are
    claims = in_terminal(install, columns, "claims").splitlines()
    assert all(len(line) <= columns for line in claims)
    for claim_id, _owner, _payer in DENIED:
        assert any(claim_id in line and "UHP" in line for line in claims), claims


def test_the_csv_has_plain_amounts_and_each_code_in_its_own_column(install: Install) -> None:
    path = install.root / "worklist.csv"
    assert install.run("worklist", "--csv", str(path)).returncode == 0
    rows = {r["claim"]: r for r in csv.DictReader(path.open())}
    third = rows["C000003"]
    assert (third["amount"], third["billed"], third["group"], third["carc"], third["rarcs"]) == (
        "3703.50",
        "103.00",
        "CO",
        "16",
        "M51",
    )
    assert (third["payer"], third["payer_claim_number"], third["owner"]) == ("NWM", "PCN0003", "front_desk")
