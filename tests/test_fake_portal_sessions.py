"""The fake portals end an account's other sessions at each sign-in, as real payer portals do, and count
the requests made with each session, including those made once it was ended."""

from __future__ import annotations

from datetime import date

import httpx

from fake_portal.data import generate
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS, World


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


def test_every_request_with_a_session_cookie_is_counted_by_session_and_account() -> None:
    world = World(generate(seed=7, start=date(2026, 11, 2), claims_per_payer=2))
    first = world.start_session("medicaid", "DEMOBILL01", "in")
    world.count_session_request(first)
    world.count_session_request(first)
    second = world.start_session("medicaid", "DEMOBILL01", "in")  # displaces the first
    world.count_session_request(second)
    world.count_session_request(first)  # stale
    world.count_session_request("never-issued")

    report = world.session_report()
    sessions = report["sessions"]
    assert isinstance(sessions, list)
    assert [(s["number"], s["requests"], s["after_end"], s["ended"], s["live"]) for s in sessions] == [
        (1, 3, 1, "displaced by a new sign-in", False),
        (2, 1, 0, None, True),
    ]
    assert first not in str(report) and second not in str(report)  # the cookies themselves stay secret
    assert report["accounts"] == {"medicaid/DEMOBILL01": {"sessions": 2, "requests": 4, "after_end": 1}}


def test_the_admin_api_counts_requests_by_session_through_the_real_server(fake_portal: RunningPortal) -> None:
    base = f"{fake_portal.url}/commercial"
    account = next(a for a in DEFAULT_ACCOUNTS if a.portal == "commercial")
    sign_in = {"username": account.username, "password": account.password}
    with httpx.Client(base_url=base) as first, httpx.Client(base_url=base) as second:
        assert first.post("/login", data=sign_in).status_code in (302, 303)
        first.get("/notice")
        first.get("/static/unity.css")  # static files carry the cookie too
        second.post("/login", data=sign_in)
        second.get("/notice")
        assert first.get("/home").status_code in (302, 303)  # displaced: back to the sign-in page

    report = fake_portal.admin("sessions")
    assert [(s["number"], s["requests"], s["after_end"], s["ended"]) for s in report["sessions"]] == [
        (1, 3, 1, "displaced by a new sign-in"),
        (2, 1, 0, None),
    ]
    assert report["accounts"][f"commercial/{account.username}"]["requests"] == 4
