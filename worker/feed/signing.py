"""The webhook's signature (docs/feed.md), as Stripe and GitHub sign theirs: an HMAC-SHA256 over the
request's timestamp and its exact body, so a receiver can tell our requests from forged ones and refuse an
old one replayed.

    Portal-Worker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}." + body)>

A header may carry several `v1=` (one per secret during a rotation); a receiver accepts it when any matches.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "pwsec_"  # noqa: S105  (what a secret starts with, not one)
TOLERANCE_SECONDS = 300  # a receiver refuses a timestamp further than this from its own clock


class SignatureRejected(Exception):
    """A request that fails the check: the message says which part failed, never the secret."""


def new_secret() -> str:
    """A new signing secret: 32 random bytes, URL-safe base64, after a prefix that says what it is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `{timestamp}.` + body under `secret` (its UTF-8 bytes)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Portal-Worker-Signature header's value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def parse(header: str) -> tuple[int, list[str]]:
    """The header's timestamp and its v1 signatures; SignatureRejected when it is not a signature header."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals:
            raise SignatureRejected("malformed signature header: expected t=<seconds>,v1=<hex>")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
        # other schemes (a later v2) are for receivers that know them
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        raise SignatureRejected("signature header has no single t=<unix seconds>")
    if not signatures:
        raise SignatureRejected("signature header has no v1= signature")
    return int(timestamps[0]), signatures


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = TOLERANCE_SECONDS) -> None:
    """Check a received request as a receiver should; return quietly when it is ours and fresh, else raise
    SignatureRejected saying why."""
    timestamp, signatures = parse(header)
    age = now - timestamp
    if abs(age) > tolerance:
        when = "old" if age > 0 else "in the future"
        raise SignatureRejected(
            f"timestamp {abs(age):.0f} s {when} (more than {tolerance:.0f} s): a replay or a wrong clock"
        )
    expected = signature(secret, body, timestamp)
    # Every candidate is compared, in constant time, so the time taken says nothing about which came close.
    matched = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matched):
        raise SignatureRejected("no v1 signature matches the body: wrong secret or the body was changed")
