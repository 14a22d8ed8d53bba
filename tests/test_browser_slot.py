"""A runner's browser: recycled after N tasks or past a memory limit, reaped when orphaned, never left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psutil
import pytest

from worker.runtime.browser import find_chromium, in_a_thread_of_its_own, launch_options
from worker.runtime.browser_slot import BrowserSlot, RecyclePolicy
from worker.runtime.processes import marker_arg, reap_orphans, tagged_browsers, with_descendants

pytestmark = pytest.mark.browser


# A slot belongs to its runner's thread, as in `run`: each test drives it from a thread of its own.


def slot(data_dir: Path, after_tasks: int = 100, max_rss_mb: float = 10_000) -> BrowserSlot:
    return BrowserSlot(
        find_chromium(), data_dir=data_dir, runner="runner-t", policy=RecyclePolicy(after_tasks, max_rss_mb)
    )


def test_the_browser_is_recycled_after_its_tasks_and_closes_every_process(tmp_path: Path) -> None:
    in_a_thread_of_its_own(lambda: recycled_after_its_tasks(tmp_path))


def recycled_after_its_tasks(tmp_path: Path) -> None:
    browsers = slot(tmp_path, after_tasks=2)
    first = browsers.browser()
    [first_process] = tagged_browsers(tmp_path)
    first_tree = with_descendants([first_process])

    browsers.task_done()
    assert browsers.recycle_if_due() is None and first.is_connected()
    browsers.task_done()
    assert browsers.recycle_if_due() == "2 tasks"

    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in first_tree)
    browsers.browser()
    assert browsers.launches == 2 and [p.pid for p in tagged_browsers(tmp_path)] != [first_process.pid]
    browsers.close()
    assert tagged_browsers(tmp_path) == []


def test_a_browser_past_its_memory_limit_is_recycled(tmp_path: Path) -> None:
    in_a_thread_of_its_own(lambda: recycled_past_its_memory_limit(tmp_path))


def recycled_past_its_memory_limit(tmp_path: Path) -> None:
    browsers = slot(tmp_path, max_rss_mb=1)
    browsers.browser().new_page().set_content("<p>one page</p>")

    assert browsers.memory_mb() > 1
    assert "MB in use" in (browsers.recycle_if_due() or "")
    assert tagged_browsers(tmp_path) == []


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
