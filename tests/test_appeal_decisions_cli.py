"""`portal-worker appeal decide` and `denial ID --status written-off --amount --reason`: what staff type, what is
stored, and clear refusals that write nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store.denials import history
from store.models import AppealRow, Denial
from tests.cli_support import Ran, portal_worker
from tests.test_appeal_decisions import engine, filed_appeal, settings  # noqa: F401  (fixtures)
from worker.settings import Settings


def run(settings: Settings, *args: str) -> Ran:  # noqa: F811
    return portal_worker("-c", str(settings.config_path), *args)


def said(stderr: str) -> str:
    """The error's words, without the box and line breaks Rich draws around a usage error."""
    return " ".join(stderr.replace("│", " ").split())


def stored(engine: Engine) -> tuple[Denial, list[str]]:  # noqa: F811
    with Session(engine) as session:
        denial = session.exec(select(Denial)).one()
        return denial, [f"{e.actor} {e.status}: {e.note}" for e in history(session, denial.id or 0)]


def test_staff_record_an_overturn_and_then_an_upheld_correction(settings: Settings, engine: Engine) -> None:  # noqa: F811
    filed_appeal(engine)
    ran = run(
        settings, "appeal", "decide", "AP-1", "--overturned", "--amount", "$240", "--on", "2026-11-18", "--by", "bea"
    )
    assert ran.returncode == 0, ran.stderr
    assert (
        "now resolved: appeal AP-1 (reconsideration) overturned on 2026-11-18 (staff): $240.00 recovered" in ran.stdout
    )
    again = run(settings, "appeal", "decide", "AP-1", "--overturned", "--amount", "240.00", "--on", "2026-11-18")
    assert again.returncode == 0 and "already recorded overturned: nothing changed" in again.stdout

    fixed = run(settings, "appeal", "decide", "AP-1", "--upheld", "--on", "2026-11-19", "--note", "misread the letter")
    assert fixed.returncode == 0, fixed.stderr
    denial, events = stored(engine)
    assert denial.status == "open"
    assert "decision corrected by staff (was overturned on 2026-11-18, $240.00; now upheld on 2026-11-19)" in events[-2]
    assert events[-1].endswith("next, file appeal (level 2) by 2027-01-18 (misread the letter)")
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None and (appeal.decision, appeal.amount_recovered) == ("upheld", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE", "--upheld", "--on", "2026-11-18"], "no appeal with id 'NOPE'"),
        (["AP-1"], "say --overturned or --upheld"),
        (["AP-1", "--overturned", "--upheld", "--on", "2026-11-18"], "say --overturned or --upheld"),
        (["AP-1", "--overturned"], "say what the payer will pay"),
        (["AP-1", "--upheld"], "the next level counts from it"),
        (["AP-1", "--upheld", "--on", "2026-11-18", "--amount", "5"], "no --amount with --upheld"),
        (["AP-1", "--overturned", "--amount", "lots"], "--amount must be dollars, like 120.00, not 'lots'"),
        (["AP-1", "--overturned", "--amount", "1.005"], "fractions of a cent"),
        (["AP-1", "--upheld", "--on", "18/11/2026"], "a date is YYYY-MM-DD, not '18/11/2026'"),
        (
            ["AP-1", "--upheld", "--on", "2099-01-01"],
            "nothing was recorded: appeal AP-1: the decision date 2099-01-01 is in",
        ),
    ],
)
def test_a_bad_decision_command_says_why_and_writes_nothing(
    settings: Settings,  # noqa: F811
    engine: Engine,  # noqa: F811
    args: list[str],
    message: str,
) -> None:
    filed_appeal(engine)
    before = stored(engine)
    ran = run(settings, "appeal", "decide", *args)
    assert ran.returncode == 2 and message in said(ran.stderr), ran.stderr
    assert stored(engine) == before


def test_a_write_off_keeps_its_amount_and_reason(settings: Settings, engine: Engine) -> None:  # noqa: F811
    denial, _ = stored(engine)
    ran = run(
        settings, "denial", str(denial.id), "--status", "written-off", "--amount", "120.00", "--reason", "small balance"
    )
    assert ran.returncode == 0, ran.stderr
    denial, events = stored(engine)
    assert (denial.status, denial.write_off_amount, denial.write_off_reason) == (
        "written_off",
        Decimal("120.00"),
        "small balance",
    )
    assert events[-1] == "staff written_off: written off $120.00: small balance"
    # the default is all that was denied; reopening clears the write-off
    run(settings, "denial", str(denial.id), "--status", "open", "--note", "payer called back")
    assert stored(engine)[0].write_off_amount is None
    run(settings, "denial", str(denial.id), "--status", "written-off", "--reason", "appeal upheld at the last level")
    assert stored(engine)[0].write_off_amount == Decimal("300.00")
    run(settings, "denial", str(denial.id), "--status", "open", "--note", "reopened")
    run(settings, "denial", str(denial.id), "--status", "written-off", "--note", "timely filing missed")
    assert stored(engine)[0].write_off_reason == "timely filing missed"  # the note is the reason, as on the page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "written-off"], "a write-off needs a reason"),
        (["--status", "written-off", "--reason", "  "], "a write-off needs a reason"),
        (
            ["--status", "written-off", "--reason", "x", "--amount", "0"],
            "more than $0.00 and at most the denied $300.00",
        ),
        (["--status", "written-off", "--reason", "x", "--amount", "300.01"], "at most the denied $300.00, not $300.01"),
        (["--status", "written-off", "--reason", "x", "--amount", "-4"], "more than $0.00"),
        (["--status", "written-off", "--reason", "x", "--amount", "12,0.0x"], "--amount must be dollars"),
        (["--status", "appealed", "--amount", "5"], "--amount and --reason go with --status written-off"),
        (["--amount", "5"], "--amount and --reason go with --status written-off"),
        (["--status", "written-off", "--reason", "x" * 501], "longer than 500 characters"),
    ],
)
def test_a_bad_write_off_says_why_and_writes_nothing(
    settings: Settings,  # noqa: F811
    engine: Engine,  # noqa: F811
    args: list[str],
    message: str,
) -> None:
    denial, _ = stored(engine)
    before = stored(engine)
    ran = run(settings, "denial", str(denial.id), *args)
    assert ran.returncode == 2 and message in said(ran.stderr), ran.stderr
    assert stored(engine) == before


def test_decision_dates_of_today_are_fine(settings: Settings, engine: Engine) -> None:  # noqa: F811
    filed_appeal(engine)
    ran = run(settings, "appeal", "decide", "AP-1", "--overturned", "--amount", "10")
    assert ran.returncode == 0, ran.stderr
    with Session(engine) as session:
        appeal = session.get(AppealRow, "AP-1")
        assert appeal is not None and appeal.decided_on is not None and appeal.decided_on >= date(2026, 11, 1)
