"""Where the rule tables (config/*.csv, *.toml) live: the source checkout, or inside the wheel."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent


def rules_dir() -> Path:
    for candidate in (_HERE / "rules", _HERE.parent / "config"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("portal-worker's rule tables (config/) are missing from this installation")
