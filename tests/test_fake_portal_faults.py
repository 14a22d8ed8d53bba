"""The fake portals' throttling and maintenance answers say how long to wait, as real ones do; a test can
shorten that wait (`retry_after_s`) to compress a day without changing what the worker sees."""

from __future__ import annotations

import threading

import httpx
import pytest

from fake_portal.launcher import RunningPortal
from tests.run_support import wait_until

OWN_RETRY_AFTER = {  # portal -> (fault, its own Retry-After)
    "clearinghouse": ("rate_limited", "60"),
    "commercial": ("rate_limited", "120"),
    "medicaid": ("rate_limited", "60"),
}


@pytest.mark.parametrize("portal", list(OWN_RETRY_AFTER))
def test_a_throttled_answer_carries_the_portals_own_retry_after_or_the_one_asked_for(
    fake_portal: RunningPortal, portal: str
) -> None:
    fault, own = OWN_RETRY_AFTER[portal]
    fake_portal.admin(f"faults/{portal}", {fault: True})
    first = httpx.get(f"{fake_portal.url}/{portal}/login", timeout=30)
    fake_portal.admin(f"faults/{portal}", {"retry_after_s": 5})
    shortened = httpx.get(f"{fake_portal.url}/{portal}/login", timeout=30)

    assert (first.status_code, first.headers.get("retry-after")) == (429, own)
    assert (shortened.status_code, shortened.headers.get("retry-after")) == (429, "5")


def test_an_answer_without_a_retry_after_gets_none(fake_portal: RunningPortal) -> None:
    fake_portal.admin("faults/medicaid", {"maintenance": True, "retry_after_s": 5})
    answer = httpx.get(f"{fake_portal.url}/medicaid/login", timeout=30)
    assert answer.status_code == 200 and "retry-after" not in answer.headers  # the legacy portal's 200 page


def test_a_slow_request_a_reset_overtook_counts_for_nobody(fake_portal: RunningPortal) -> None:
    """The next test's counts are its own, even when the last one gave up on a slow page still being answered."""
    fake_portal.admin("faults/commercial", {"latency_ms": 2000})
    answers: list[httpx.Response] = []
    slow = threading.Thread(target=lambda: answers.append(httpx.get(f"{fake_portal.url}/commercial/login", timeout=30)))
    slow.start()
    wait_until(lambda: fake_portal.admin("state")["in_flight"]["commercial"] > 0, "the slow request arrived")

    fake_portal.admin("reset", {})
    slow.join(30)

    state = fake_portal.admin("state")
    assert answers and answers[0].status_code == 200  # still answered
    assert state["requests_by_path"]["commercial"] == {} and state["requests"]["commercial"] == 0
    assert state["in_flight"]["commercial"] == 0
