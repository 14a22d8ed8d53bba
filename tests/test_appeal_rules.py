"""The appeal rules that need no browser: which appeal on the portal is ours (the look before any submit), and
when a filed appeal's status is due a read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flows.appeals import ours_on_file, status_read_due_before
from portals.types import AppealReceipt
from store.models import AppealRow

AT = datetime(2026, 11, 2, 17, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def appeal(*, intent_at: datetime | None = AT, level: int = 1) -> AppealRow:
    return AppealRow(
        appeal_id="AP-0000002A",
        denial_id=1,
        claim_id="PW100034",
        payer_id="UHP",
        level=level,
        level_name="reconsideration",
        channel="portal",
        portal="unity",
        state="submitting" if intent_at else "queued",
        disputed_amount=Decimal("65.00"),
        intent_at=intent_at,
        created_by="maria",
        created_at=AT,
        updated_at=AT,
    )


def receipt(
    number: str, reference: str | None, *, level: int | None = 1, on: date = date(2026, 11, 2)
) -> AppealReceipt:
    return AppealReceipt(number, "received", "UHP44670754554", reference, level, on)


def test_our_reference_is_adopted_first_and_never_one_another_appeal_of_ours_holds() -> None:
    ours, other = receipt("UAP700002", "ap-0000002a"), receipt("UAP700001", "AP-99999999")
    assert ours_on_file(appeal(), [other, ours], set()) == ours  # the reference as the portal printed it
    twice = receipt("UAP700003", "AP-0000002A")
    assert ours_on_file(appeal(), [twice, ours], set()) == ours  # a portal that filed twice: the first filed
    assert ours_on_file(appeal(), [twice, ours], {"UAP700002"}) == twice
    assert ours_on_file(appeal(), [other], set()) is None


def test_an_appeal_without_a_reference_is_ours_only_after_our_intent_at_the_same_level() -> None:
    blank = receipt("UAP700001", None)
    assert ours_on_file(appeal(intent_at=None), [blank], set()) is None  # never sent: someone else's
    assert ours_on_file(appeal(), [blank], set()) == blank
    assert ours_on_file(appeal(level=2), [blank], set()) is None
    assert ours_on_file(appeal(), [receipt("UAP700001", None, on=date(2026, 11, 1))], set()) is not None  # zones
    assert ours_on_file(appeal(), [receipt("UAP700001", None, on=date(2026, 10, 31))], set()) is None


def test_a_status_is_read_once_a_practice_day() -> None:
    before = status_read_due_before(datetime(2026, 11, 5, 3, tzinfo=UTC), NEW_YORK)  # still the 4th in New York
    assert before == datetime(2026, 11, 4, 5, tzinfo=UTC)  # midnight of the 4th, New York time
    assert status_read_due_before(datetime(2026, 11, 5, 12, tzinfo=UTC), None) == datetime(2026, 11, 5, tzinfo=UTC)
