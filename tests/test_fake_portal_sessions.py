"""The fake portals end an account's other sessions at each sign-in, as real payer portals do, and count
the requests made with a session that was ended that way."""

from __future__ import annotations

from datetime import date

from fake_portal.data import generate
from fake_portal.world import World


def test_a_second_sign_in_displaces_the_first_session_and_its_next_request_is_counted() -> None:
    world = World(generate(seed=7, start=date(2026, 11, 2), claims_per_payer=2))
    first = world.start_session("commercial", "demo.biller", "in")
    assert world.session("commercial", first) is not None
    other_account = world.start_session("commercial", "someone.else", "in")
    second = world.start_session("commercial", "demo.biller", "in")

    assert world.session("commercial", second) is not None
    assert world.session("commercial", other_account) is not None  # other accounts keep theirs
    assert world.stale_session_requests["commercial"] == 0
    assert world.session("commercial", first) is None  # back to the sign-in page
    assert world.stale_session_requests == {"clearinghouse": 0, "commercial": 1, "medicaid": 0}
    assert world.logins["commercial"] == 3


def test_signing_out_and_in_again_leaves_no_stale_session() -> None:
    world = World(generate(seed=7, start=date(2026, 11, 2), claims_per_payer=2))
    first = world.start_session("medicaid", "DEMOBILL01", "in")
    world.end_session(first)
    world.start_session("medicaid", "DEMOBILL01", "in")
    assert world.session("medicaid", first) is None
    assert world.stale_session_requests["medicaid"] == 0
