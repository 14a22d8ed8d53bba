"""Start the fake portal as a separate server process (for tests, the demo and benchmarks)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass
class RunningPortal:
    url: str
    process: subprocess.Popen[bytes]

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST (with a body) or GET an admin endpoint; raises on an error answer."""
        url = f"{self.url}/admin/{path.lstrip('/')}"
        response = httpx.post(url, json=body, timeout=10) if body is not None else httpx.get(url, timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(*args: str, timeout_s: float = 30.0) -> RunningPortal:
    """Run `fake-portal serve --port 0 ARGS...` and wait until it answers."""
    ready = Path(tempfile.mkdtemp(prefix="fake-portal-")) / "ready.json"
    process = subprocess.Popen(  # noqa: S603  (this interpreter running the bundled fake portal)
        [sys.executable, "-m", "fake_portal", "serve", "--port", "0", "--ready-file", str(ready), *args],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"fake portal exited with code {process.returncode} before it was ready")
        if ready.exists() and ready.stat().st_size:
            url = json.loads(ready.read_text())["url"]
            try:
                httpx.get(f"{url}/admin/state", timeout=5).raise_for_status()
                return RunningPortal(url, process)
            except httpx.HTTPError:
                pass
        time.sleep(0.05)  # polling a child process's start-up; no event to wait on
    process.kill()
    raise RuntimeError(f"fake portal did not start within {timeout_s:.0f} s")
