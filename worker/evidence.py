"""Write evidence (screenshot + HTML) privately: directory 0700, files 0600, named by claim and time."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from portals.types import PageSnapshot
from store.models import Evidence
from worker.logs import scrub


def evidence_dir(data_dir: Path) -> Path:
    return data_dir / "evidence"


def save_snapshot(data_dir: Path, snapshot: PageSnapshot, *, portal: str, claim_id: str | None,
                  reason: str, at: datetime) -> Evidence:
    folder = evidence_dir(data_dir) / _safe(portal)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(evidence_dir(data_dir), 0o700)
    os.chmod(folder, 0o700)
    stem = f"{_safe(claim_id or 'login')}-{at.strftime('%Y%m%dT%H%M%S%fZ')}"
    html_path = _write_private(folder / f"{stem}.html", scrub(snapshot.html).encode())
    png_path = _write_private(folder / f"{stem}.png", snapshot.screenshot_png) if snapshot.screenshot_png else None
    return Evidence(created_at=at, portal=portal, claim_id=claim_id, reason=reason, url=snapshot.url,
                    screenshot_path=str(png_path) if png_path else None, html_path=str(html_path))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path
