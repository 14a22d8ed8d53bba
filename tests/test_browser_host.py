"""The worker's one browser: shared by runner threads, relaunched when it dies, recycled after N tasks or past a
memory limit, reaped when orphaned, never left behind."""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session, select

from store.models import ClaimStatusObservation
from tests.conftest import Workspace
from tests.run_support import configure, import_claims, running, settled, tasks, wait_until
from worker.clock import utcnow
from worker.runtime.browser import find_chromium, launch_options
from worker.runtime.browser_host import BrowserHost, RecyclePolicy
from worker.runtime.browser_slot import HostedSlot
from worker.runtime.processes import marker_arg, reap_orphans, tagged_browsers, with_descendants

pytestmark = pytest.mark.browser


@pytest.fixture
def host(tmp_path: Path) -> Iterator[BrowserHost]:
    made = BrowserHost(find_chromium(), data_dir=tmp_path, policy=RecyclePolicy(100, 10_000))
    yield made
    made.close()
    assert tagged_browsers(tmp_path) == []  # closed with every process


def page_text(host: BrowserHost, text: str) -> str:
    with host.context(None) as context:
        page = context.new_page()
        page.set_content(f"<p id=text>{text}</p>")
        return page.locator("#text").inner_text()


def test_runner_threads_share_one_browser_each_in_a_context_of_its_own(host: BrowserHost, tmp_path: Path) -> None:
    read: dict[int, str] = {}
    contexts_at_once: list[int] = []
    all_in = threading.Barrier(3)

    def runner(n: int) -> None:
        with host.context(None) as context:
            page = context.new_page()
            page.set_content(f"<p id=text>runner {n}</p>")
            all_in.wait(30)  # every runner holds its context now
            contexts_at_once.append(len(host.call(lambda: host._launched().contexts)))
            context.add_cookies([{"name": "who", "value": str(n), "url": "https://portal.example/"}])
            read[n] = page.locator("#text").inner_text() + " " + context.cookies()[0]["value"]

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert read == {n: f"runner {n} {n}" for n in range(3)}  # cookies stay in their own context
    assert contexts_at_once == [3, 3, 3] and host.launches == 1
    assert len(tagged_browsers(tmp_path)) == 1


def test_an_unreadable_saved_session_signs_in_afresh_and_the_saved_one_is_whole_and_private(
    host: BrowserHost, tmp_path: Path
) -> None:
    state_file = tmp_path / "sessions" / "unity.json"
    state_file.parent.mkdir()
    state_file.write_text("")  # what an older worker left when its browser died while saving
    with host.context(state_file) as context:
        context.add_cookies([{"name": "session", "value": "fresh", "url": "https://portal.example/"}])
    saved = json.loads(state_file.read_text())
    assert [c["value"] for c in saved["cookies"]] == ["fresh"]
    assert state_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in state_file.parent.iterdir()] == ["unity.json"]  # no temporary file left beside it


def test_the_browser_is_recycled_after_its_tasks_once_its_contexts_close(tmp_path: Path) -> None:
    host = BrowserHost(find_chromium(), data_dir=tmp_path, policy=RecyclePolicy(2, 10_000))
    try:
        assert page_text(host, "one") == "one"
        [first] = tagged_browsers(tmp_path)
        first_tree = with_descendants([first])
        with host.context(None):
            host.task_done()
            host.task_done()
            assert host.recycle_if_due() is None  # a context is open: it waits for it
            assert first.is_running()
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in first_tree)
        assert page_text(host, "two") == "two"
        assert host.launches == 2 and [p.pid for p in tagged_browsers(tmp_path)] != [first.pid]
    finally:
        host.close()
    assert tagged_browsers(tmp_path) == []


def test_a_browser_past_its_memory_limit_is_recycled(tmp_path: Path) -> None:
    host = BrowserHost(find_chromium(), data_dir=tmp_path, policy=RecyclePolicy(100, 1))
    try:
        page_text(host, "one page")  # recycled as its context closed
        assert tagged_browsers(tmp_path) == []
        page_text(host, "another")
        assert host.launches == 2
    finally:
        host.close()


def killed_mid_batch(host: BrowserHost) -> None:
    with host.context(None) as context:
        page = context.new_page()
        page.set_content("<p>before</p>")
        assert host.kill() >= 1
        page.set_content("<p>after</p>")


def test_a_killed_browser_fails_the_batch_in_it_and_the_next_context_gets_a_new_one(host: BrowserHost) -> None:
    with pytest.raises(PlaywrightError):
        killed_mid_batch(host)
    assert page_text(host, "relaunched") == "relaunched" and host.launches == 2


def hangs_until_the_watchdog_acts(slot: HostedSlot) -> None:
    with slot.context(None) as context:
        page = context.new_page()
        threading.Timer(1, slot.kill).start()  # the watchdog, from its own thread
        page.wait_for_function("false", timeout=0)  # never true: hangs until its context closes


def test_the_watchdog_ends_a_hung_call_by_closing_its_context_then_the_browser(host: BrowserHost) -> None:
    slot = HostedSlot(host)
    with pytest.raises(PlaywrightError):
        hangs_until_the_watchdog_acts(slot)
    assert page_text(host, "still here") == "still here" and host.launches == 1  # others' contexts were spared
    assert slot.kill() >= 1  # no context in hand: the host itself is stuck, so the browser goes


def test_chromium_orphaned_by_a_dead_worker_is_reaped_at_the_next_start(tmp_path: Path) -> None:
    # Playwright's driver takes its browsers down when Python dies; when the driver is killed too
    # (kill -9 of the whole tree but one), Chromium is left running with the dead worker's tag.
    gone = subprocess.Popen(["true"])  # a worker pid that no longer exists
    gone.wait()
    choice = find_chromium()
    assert choice.executable_path
    args = [
        *launch_options(choice)["args"],
        "--headless=new",
        "--remote-debugging-port=0",
        f"--user-data-dir={tmp_path / 'profile'}",
        marker_arg(tmp_path, "r1", pid=gone.pid),
        "about:blank",
    ]
    orphan = subprocess.Popen([choice.executable_path, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert [p.pid for p in tagged_browsers(tmp_path)] == [orphan.pid]

        assert reap_orphans(tmp_path) >= 1

        orphan.wait(timeout=30)
        assert tagged_browsers(tmp_path) == []
    finally:
        if orphan.poll() is None:
            orphan.kill()


def test_a_browser_killed_mid_batch_is_relaunched_and_its_tasks_are_done_once(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    for prefix in ("commercial", "clearinghouse", "medicaid"):  # slow enough that the kill lands mid-batch
        workspace.portal.admin(f"faults/{prefix}", {"latency_ms": 150})
    started = utcnow()
    with running(workspace) as worker:
        wait_until(lambda: any(t.state == "done" for t in tasks(workspace)), "a first task is done")
        assert worker.ctx is not None
        host = worker.ctx.browser_host
        in_hand = {t.id for t in tasks(workspace) if t.state == "leased"}
        assert host.kill() >= 1
        wait_until(lambda: settled(workspace, started), "every claim is checked")
        launches = host.launches

    assert in_hand and launches >= 2
    claim_tasks = tasks(workspace, kind="claim_status")
    assert claim_tasks and all(t.state == "done" for t in claim_tasks)
    assert all(t.attempts == 1 for t in claim_tasks)  # handed back unworked, not counted as a failed attempt
    with Session(workspace.engine) as session:
        observed = Counter(o.claim_id for o in session.exec(select(ClaimStatusObservation)))
    assert set(observed) == {t.target for t in claim_tasks} and set(observed.values()) == {1}  # each recorded once
