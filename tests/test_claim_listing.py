"""The bulk path: a portal's claim list answers for the claims that did not move; the rest open their detail pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from flows.claim_listing import consecutive, month_end, months_of, same_as_listed
from portals.types import ClaimStatusResult, ListedClaim
from store.models import Claim, ClaimStatusObservation
from tests.conftest import Workspace
from tests.run_support import configure, import_claims, portal_clock, running, session, settled, tasks, wait_until
from tests.test_check_run import expected_state
from worker.clock import utcnow


def unity_paths(ws: Workspace) -> dict[str, int]:
    return dict(ws.portal.admin("state")["requests_by_path"]["commercial"])


def detail_pages(paths: dict[str, int], payer_claim_numbers: set[str] | None = None) -> int:
    """Detail pages opened (of these claims only, given their payer claim numbers)."""
    return sum(
        n
        for path, n in paths.items()
        if path.startswith("claims/detail/")
        and (payer_claim_numbers is None or path.removeprefix("claims/detail/") in payer_claim_numbers)
    )


def since(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {path: n - before.get(path, 0) for path, n in after.items() if n > before.get(path, 0)}


@pytest.mark.browser
def test_unchanged_claims_open_no_page_and_changed_ones_open_only_their_detail(workspace: Workspace) -> None:
    configure(workspace)
    text = workspace.config_path.read_text()
    for portal in ("summit", "lakeshore"):
        text = text.replace(f"[portals.{portal}]\n", f"[portals.{portal}]\nenabled = false\n")
    workspace.config_path.write_text(text)
    import_claims(workspace)
    clock = portal_clock(workspace)
    unity = {cid: c for cid, c in workspace.truth.claims.items() if c.payer_id == "UHP"}
    # The first Unity claim the payer decides after the start: the day the worker is run again.
    later = sorted(c.adjudicated for c in unity.values() if c.adjudicated > workspace.truth.start)
    assert later, "the fake practice has a Unity claim that adjudicates later"
    days = (later[0] - workspace.truth.start).days

    with running(workspace, clock):
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), "the first day's checks are done")
        first_day = unity_paths(workspace)
        clock.advance(days=days)
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), f"day {days}'s checks are done")
    second_day = since(unity_paths(workspace), first_day)

    today = workspace.truth.start + timedelta(days=days)
    with session(workspace) as s:
        claims = {c.claim_id: c for c in s.exec(select(Claim).where(Claim.payer_id == "UHP"))}
        observed = {
            o.claim_id for o in s.exec(select(ClaimStatusObservation)) if o.observed_at.date() > workspace.truth.start
        }
    for claim_id, truth in unity.items():
        assert claims[claim_id].status == expected_state(truth, today), claim_id
    # the first day: the list once, then each claim on file read from its detail page, found by the list's link
    on_file = {c.payer_claim_number for c in unity.values() if c.status_on(workspace.truth.start) is not None}
    assert detail_pages(first_day) == len(on_file)
    # only a claim the list does not show is searched for (and found not on file)
    assert first_day.get("claims/results", 0) == len(unity) - len(on_file)
    assert first_day["claims/export.csv"] <= 3

    second_round = [t for t in tasks(workspace) if t.portal == "unity" and t.enqueued_at > mark]
    from_list = {t.target for t in second_round if "claim list" in (t.outcome or "")}
    moved = {cid for cid, c in unity.items() if c.adjudicated == later[0]}
    assert from_list and moved <= observed  # the claims that moved were read from their own pages
    assert not from_list & moved
    # a claim the list showed unchanged opened no page; each that moved opened its detail page once
    assert detail_pages(second_day, {claims[c].payer_claim_number or "" for c in from_list}) == 0
    assert detail_pages(second_day, {claims[c].payer_claim_number or "" for c in moved}) == len(moved)
    rechecked = len([t for t in second_round if t.state == "done"])
    assert sum(second_day.values()) < rechecked  # far under a page per claim checked


# Per portal (config name): its fake portal prefix, how a claim's detail page is addressed, and the
# requests of one search for a claim (Lakeshore's inquiry is a GET of the form and its POST).
PAGES: dict[str, tuple[str, Callable[[str], bool], dict[str, int]]] = {
    "unity": ("commercial", lambda path: path.startswith("claims/detail/"), {"claims/results": 1}),
    "summit": ("clearinghouse", lambda path: path.startswith("claims/"), {"api/claim-status/search": 1}),
    "lakeshore": ("medicaid", lambda path: path == "claims/detail", {"claims/inquiry": 2}),
}


def portal_pages(ws: Workspace) -> dict[str, dict[str, int]]:
    by_path = ws.portal.admin("state")["requests_by_path"]
    return {portal: dict(by_path[prefix]) for portal, (prefix, _, _) in PAGES.items()}


def observations(ws: Workspace) -> list[ClaimStatusObservation]:
    with session(ws) as s:
        return list(s.exec(select(ClaimStatusObservation)))


@pytest.mark.browser
def test_on_every_portal_a_detail_page_is_opened_only_for_a_claim_that_moved(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    clock = portal_clock(workspace)
    later = sorted(c.adjudicated for c in workspace.truth.claims.values() if c.adjudicated > workspace.truth.start)
    days = (later[0] - workspace.truth.start).days + 1  # a day on which some claims moved and others did not

    with running(workspace, clock):
        first_mark = utcnow()
        wait_until(lambda: settled(workspace, first_mark), "the first day's checks are done")
        first_day = portal_pages(workspace)
        first_seen = observations(workspace)
        clock.advance(days=days)
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), f"day {days}'s checks are done")
    second_day = {p: since(after, first_day[p]) for p, after in portal_pages(workspace).items()}
    moved = [o for o in observations(workspace) if o.id not in {seen.id for seen in first_seen}]
    rechecked = [t for t in tasks(workspace) if t.enqueued_at > mark and t.kind == "claim_status"]

    for portal, (_, is_detail, searches) in PAGES.items():
        found = [o for o in first_seen if o.portal == portal and o.status != "not_on_file"]
        not_found = [o for o in first_seen if o.portal == portal and o.status == "not_on_file"]
        # the first day: each claim on the portal's list read once from its detail page, by the list's link;
        # only a claim the list does not show is searched for
        assert sum(n for path, n in first_day[portal].items() if is_detail(path)) == len(found), portal
        for path, requests in searches.items():
            assert first_day[portal].get(path, 0) == requests * len(not_found), portal
        # the next time: a detail page for each claim that moved, none for the ones that did not
        opened = sum(n for path, n in second_day[portal].items() if is_detail(path))
        assert opened == len([o for o in moved if o.portal == portal and o.status != "not_on_file"]), portal
        done = [t for t in rechecked if t.portal == portal and t.state == "done"]
        assert len(done) > opened, f"{portal}: some claims were rechecked and had not moved"
    assert moved, "some claims moved"


def result(**changes: object) -> ClaimStatusResult:
    fields: dict[str, object] = {
        "claim_id": "PW1",
        "category_code": "A2",
        "status_code": None,
        "status_text": "Pending",
        "status_date": date(2026, 11, 1),
        "payer_claim_number": "UHP1",
        "billed_amount": Decimal("100.00"),
        "allowed_amount": None,
        "paid_amount": Decimal("0.00"),
        "check_number": None,
        "payment_date": None,
    }
    fields.update(changes)
    return ClaimStatusResult(**fields)  # type: ignore[arg-type]


def observation(**changes: object) -> ClaimStatusObservation:
    fields: dict[str, object] = {
        "claim_id": "PW1",
        "observed_at": utcnow(),
        "portal": "unity",
        "run_id": "r",
        "changes": "",
        "status": "received",
        "category_code": "A2",
        "status_code": "20",
        "status_text": "Accepted",
        "status_date": date(2026, 11, 1),
        "payer_claim_number": "UHP1",
        "billed_amount": Decimal("100.00"),
        "allowed_amount": None,
        "paid_amount": Decimal("0"),
        "check_number": None,
        "payment_date": None,
        "adjustments": [],
    }
    fields.update(changes)
    return ClaimStatusObservation(**fields)  # type: ignore[arg-type]


LISTED = frozenset(
    {"category_code", "status_date", "payer_claim_number", "paid_amount", "check_number", "payment_date"}
)


def row(shows: frozenset[str] = LISTED, **changes: object) -> ListedClaim:
    return ListedClaim(result(**changes), shows, "claims/detail/UHP1")


@pytest.mark.parametrize(
    ("listed", "latest", "same"),
    [
        (row(), observation(), True),
        (row(status_date=date(2026, 11, 5)), observation(), False),  # the payer touched it
        (row(paid_amount=Decimal("80.00")), observation(), False),
        (row(category_code="F1"), observation(), False),  # decided
        (row(check_number="EFT1"), observation(), False),
        (row(allowed_amount=Decimal("90.00")), observation(), True),  # a field this list does not show
        (row(LISTED | {"allowed_amount"}, allowed_amount=Decimal("90.00")), observation(), False),
        (row(payer_claim_number="uhp-1"), observation(), True),  # printed another way
        # a denial is vouched for by a list that shows its status date, never by one that does not
        (row(category_code="F2"), observation(status="denied", category_code="F2"), True),
        (row(LISTED - {"status_date"}, category_code="F2"), observation(status="denied", category_code="F2"), False),
        (row(category_code="F1"), observation(status="partially_paid", category_code="F1"), True),
    ],
)
def test_only_a_listing_identical_on_every_listed_field_counts_as_unchanged(
    listed: ListedClaim, latest: ClaimStatusObservation, same: bool
) -> None:
    assert same_as_listed(latest, listed) is same


@pytest.mark.parametrize(
    ("first", "last", "months"),
    [
        (date(2026, 1, 31), date(2026, 1, 31), [date(2026, 1, 1)]),
        (date(2026, 1, 30), date(2026, 3, 2), [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]),
        (date(2025, 12, 31), date(2026, 1, 1), [date(2025, 12, 1), date(2026, 1, 1)]),
    ],
)
def test_a_claim_is_looked_for_in_each_month_of_its_service_dates(first: date, last: date, months: list[date]) -> None:
    assert months_of(first, last) == months


def test_months_read_together_are_the_consecutive_ones() -> None:
    jan, feb, apr, dec = date(2026, 1, 1), date(2026, 2, 1), date(2026, 4, 1), date(2025, 12, 1)
    assert consecutive([dec, jan, feb, apr]) == [[dec, jan, feb], [apr]]
    assert month_end(feb) == date(2026, 2, 28) and month_end(dec) == date(2025, 12, 31)
