"""The vendored front-end files are the ones VENDORED.md names, byte for byte, and every page loads only them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor"
ROW = re.compile(r"^\| (?P<file>[^ |]+) \| [^|]+ \| (?P<version>[^ |]+) \| (?P<sha256>[0-9a-f]{64}) \|$", re.MULTILINE)


def test_every_vendored_file_matches_its_sha256_and_nothing_else_is_vendored() -> None:
    listed = {m["file"]: m for m in ROW.finditer((VENDOR / "VENDORED.md").read_text())}
    assert {"htmx-2.0.11.min.js", "chart-4.6.2.umd.min.js"} <= set(listed)
    for name, row in listed.items():
        assert row["version"] in name, name  # the version is in the file name, so a page names the one it loads
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == row["sha256"], name
    scripts = {p.name for p in VENDOR.glob("*.js")}
    assert scripts == set(listed)
