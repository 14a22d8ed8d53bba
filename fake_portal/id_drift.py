"""The `id_drift` fault: a portal that prints or keeps its claims differently from one day to the next.

- "separators": payer claim numbers printed with separators (`NWM-4413-4036573`), everywhere the
  portal shows or links them; the same claims, the same numbers.
- "renumber": payer claim numbers shown with another last digit, as a payer never does.
- "vanish": the portal finds none of its claims; "vanish:ID1,ID2" only the claims with those
  patient control numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from fake_portal.data import Claim

KINDS = ("separators", "renumber", "vanish")
_NUMBER = re.compile(r"([A-Za-z]*)(\d+)")


def check_id_drift(value: object) -> str:
    """The fault's value, or a ValueError naming what is accepted ('' turns it off)."""
    text = str(value)
    kind, _, ids = text.partition(":")
    if text and (kind not in KINDS or (ids and kind != "vanish")):
        raise ValueError(f"unknown id_drift {text!r}; known: '', {', '.join(KINDS)}, vanish:ID1,ID2")
    return text


def drifted(id_drift: str, claims: Iterable[Claim]) -> list[Claim]:
    """The claims as the portal shows them under the fault."""
    kind, _, ids = id_drift.partition(":")
    if kind == "vanish":
        gone = set(ids.split(",")) if ids else None
        return [c for c in claims if gone is not None and c.claim_id not in gone]
    if kind in ("separators", "renumber"):
        return [replace(c, payer_claim_number=_shown(kind, c.payer_claim_number)) for c in claims]
    return list(claims)


def _shown(kind: str, number: str) -> str:
    match = _NUMBER.fullmatch(number)
    if match is None:
        return number
    prefix, digits = match.groups()
    if kind == "separators":
        return f"{prefix}-{digits[:4]}-{digits[4:]}"
    return f"{prefix}{digits[:-1]}{(int(digits[-1]) + 1) % 10}"
