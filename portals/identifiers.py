"""Identifiers as a payer means them: case, spaces and separators are how a page prints them, not the id.

A payer claim number printed `NWM-4413-4036573` one day and `NWM44134036573` the next is one claim.
Every comparison of claim ids, payer claim numbers and authorization numbers goes through here.
"""

from __future__ import annotations

import unicodedata


def normal_id(value: str) -> str:
    """The identifier without case, spaces or separators: letters and digits only, upper case."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in folded if ch.isalnum()).upper()


def same_id(shown: str | None, known: str | None) -> bool:
    """Whether two printed identifiers name the same thing (two missing ones do not)."""
    if shown is None or known is None:
        return False
    return normal_id(shown) == normal_id(known)
