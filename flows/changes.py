"""What changed between the last observation and what a portal says now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def _comparable(value: Any) -> Any:
    return value.normalize() if isinstance(value, Decimal) else value


def describe_changes(before: object | None, after: Mapping[str, Any], fields: Sequence[str]) -> str:
    """'' when nothing changed; else e.g. 'status: pending -> paid; paid_amount: None -> 182.25'.

    Lists (codes, adjustments) are reported as changed without their contents.
    """
    if before is None:
        return f"first seen: {after['status']}"
    changes = []
    for name in fields:
        old, new = getattr(before, name), after[name]
        if _comparable(old) != _comparable(new):
            changes.append(f"{name} changed" if isinstance(new, list) else f"{name}: {old} -> {new}")
    return "; ".join(changes)
