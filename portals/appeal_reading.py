"""What the appeal adapters (portals/unity_appeals.py, portals/summit_appeals.py) share: the shape of a
confirmation number and a claim number, and the packet checked before any form is opened."""

from __future__ import annotations

import re
from pathlib import Path

from portals.types import AppealFiling

CONFIRMATION = re.compile(r"[A-Z0-9-]{4,24}")
CLAIM_NUMBER = re.compile(r"[A-Za-z0-9-]{4,30}")
DECIDED = frozenset({"overturned", "upheld"})
# Every [attr] element inside a box, as name -> text (one browser round trip per box).
READ_FIELDS_JS = """(box, attr) => Object.fromEntries(
  Array.from(box.querySelectorAll('[' + attr + ']'), el => [el.getAttribute(attr), el.innerText.trim()]))"""


def require_packet(filing: AppealFiling) -> None:
    """The packet to upload is there, before the form is opened: a missing file is no portal's refusal."""
    if not Path(filing.packet_pdf).is_file():
        raise FileNotFoundError(f"appeal {filing.appeal_id}: its packet {filing.packet_pdf} is not a file")
