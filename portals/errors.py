"""Typed errors a portal adapter raises. Messages never carry secrets or PHI."""

from __future__ import annotations

from datetime import datetime


class PortalError(Exception):
    """Base of every error a portal adapter raises."""

    def __init__(self, portal: str, message: str) -> None:
        super().__init__(f"{portal}: {message}")
        self.portal = portal
        self.message = message


class LoginRejected(PortalError):
    """The portal refused the stored username/password (wrong, locked or expired).

    Never retried: retrying a bad password is how accounts get locked out.
    """


class PasswordChangeRequired(LoginRejected):
    """The portal accepted the stored password but demands a new one (it expired) before anything else.

    The worker never chooses or types a new password: a person must choose it on the portal and then
    store it with `portal-worker credentials set PORTAL`.
    """

    def __init__(self, portal: str, page: str) -> None:
        super().__init__(
            portal,
            f"{page}: the portal demands a new password (the stored one has expired); the "
            "worker never chooses one. Choose it on the portal, then run "
            f"`portal-worker credentials set {portal}`",
        )
        self.page = page


class MfaRequired(PortalError):
    """The portal asks for a second factor the worker cannot answer (no TOTP secret, SMS, push)."""


class MfaRejected(PortalError):
    """The portal refused the one-time code or the security answer."""


class SessionExpired(PortalError):
    """The portal logged the session out; a fresh login may fix it."""


class LayoutChanged(PortalError):
    """A page did not look like the adapter expects: never read a value from it."""

    def __init__(self, portal: str, page: str, detail: str) -> None:
        super().__init__(portal, f"page '{page}' does not match the adapter: {detail}")
        self.page = page
        self.detail = detail


class PortalUnavailable(PortalError):
    """Maintenance, an outage or a server error (5xx): back off this portal."""

    def __init__(self, portal: str, message: str, retry_after: datetime | None = None) -> None:
        super().__init__(portal, message)
        self.retry_after = retry_after


class RateLimited(PortalUnavailable):
    """The portal asked us to slow down (HTTP 429 or its own 'too many requests' page)."""


class ClaimNotFound(PortalError):
    """The payer has no claim matching the query: the claim is not on file."""

    def __init__(self, portal: str, claim_id: str) -> None:
        super().__init__(portal, f"no claim on file for claim {claim_id}")
        self.claim_id = claim_id


class RecordNotFound(PortalError):
    """The payer has no record of this kind and number (an authorization, a provider's enrollment)."""

    def __init__(self, portal: str, kind: str, number: str) -> None:
        super().__init__(portal, f"no {kind} {number} on file")
        self.kind = kind
        self.number = number


class RequestRefused(PortalError):
    """The portal refused what was submitted (a missing field, an invalid code): nothing was filed.

    `words` are the portal's own, for the finding that tells staff what to fix."""

    def __init__(self, portal: str, words: str) -> None:
        super().__init__(portal, f"the portal refused the request: {words}")
        self.words = words
