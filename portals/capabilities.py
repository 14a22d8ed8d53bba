"""What a portal adapter can do, declared as Protocols, so flows and the worker ask by type.

Every adapter is a `PortalSession`: one account logged in to one portal that can look a
claim up. What it can do beyond that is a capability, one small Protocol each. An
adapter class declares the capabilities it has by listing them as bases
(`class UnityHealthAdapter(PortalAdapter, ClaimList, ...)`): mypy then checks its
methods against them, and leaving one out makes the class abstract.

The capabilities hold methods only, so the worker can ask an adapter *class* before any
browser starts: `offers(UnityHealthAdapter, AuthorizationLookup)`. Flows take a session
with the capability they use (`AuthorizationPortal`, ...), so mypy checks every call.

This module imports no browser code: settings and planners read it at start-up.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import date
from typing import Protocol, runtime_checkable

from portals.types import (
    AppealFiling,
    AppealReceipt,
    AuthorizationResult,
    AuthRequest,
    AuthRequestReceipt,
    ClaimQuery,
    ClaimStatusResult,
    EligibilityQuery,
    EligibilityResult,
    EnrollmentResult,
    ListedClaim,
    PageSnapshot,
    RemittanceFile,
)


class PortalSession(Protocol):
    """What every adapter is: one account's session on one portal, able to look a claim up."""

    portal: str  # the portal's name in config
    logins: int  # how many times this session logged in

    def ensure_logged_in(self) -> None: ...
    def claim_status(self, query: ClaimQuery) -> ClaimStatusResult: ...
    def snapshot(self, *, pdf: bool = False, archive: bool = False) -> PageSnapshot: ...


# --- capabilities beyond claim status -----------------------------------------------------


@runtime_checkable
class ClaimList(Protocol):
    """The portal's claim list for a service-date range: every claim whose service dates overlap it.

    The adapter reads every page of the list and splits a range longer than the portal allows into
    ranges it does allow, so a caller may ask for any range. Each row is a ListedClaim: the
    status-level fields the list shows, which fields those are, and the detail page it links to.
    A list whose columns moved is LayoutChanged (never a row read from the wrong column); an empty
    list is []; outages and an ended session raise as everywhere. Given `ClaimQuery.detail_path`,
    the adapter's `claim_status` opens that page directly and checks it shows the claim asked for."""

    @abstractmethod
    def list_claims(self, dos_from: date, dos_to: date) -> list[ListedClaim]: ...


@runtime_checkable
class AuthorizationLookup(Protocol):
    """One prior authorization by its number; RecordNotFound when the payer has none."""

    @abstractmethod
    def authorization(self, auth_number: str) -> AuthorizationResult: ...


@runtime_checkable
class MemberAuthorizations(Protocol):
    """Every prior authorization the payer has on file for one member ([] for none)."""

    @abstractmethod
    def member_authorizations(self, member_id: str) -> list[AuthorizationResult]: ...


@runtime_checkable
class EnrollmentLookup(Protocol):
    """A provider's enrollment with the portal's own payer; RecordNotFound when it has none."""

    @abstractmethod
    def enrollment(self, npi: str) -> EnrollmentResult: ...


@runtime_checkable
class PayerEnrollments(Protocol):
    """A provider's enrollment with each payer behind a clearinghouse; RecordNotFound when it has none."""

    @abstractmethod
    def enrollments(self, npi: str) -> list[EnrollmentResult]: ...


@runtime_checkable
class RemittanceFiles(Protocol):
    """The ERA (X12 835) files the portal offers, and each file's bytes."""

    @abstractmethod
    def list_remittances(self) -> list[RemittanceFile]: ...

    @abstractmethod
    def download_remittance(self, file: RemittanceFile) -> bytes: ...


@runtime_checkable
class EligibilityInquiry(Protocol):
    """The portal's eligibility and benefits inquiry for one member, provider, day and planned codes.

    A member the payer cannot find is a result (coverage "not_found", with the portal's words), not an
    error; an outage is PortalUnavailable as everywhere."""

    @abstractmethod
    def eligibility(self, query: EligibilityQuery) -> EligibilityResult: ...


@runtime_checkable
class AuthRequestSubmission(Protocol):
    """The portal's online prior-authorization request form, and its list of submitted requests.

    The worker writes to a portal only here, so the adapter offers the look before the write:
    `find_auth_requests` lists every request on file for a member (each with the provider reference
    typed at submission; the caller matches codes, dates and reference), and `submit_auth_request`
    fills and submits the form once, returning the confirmation page's reference number, or raising
    RequestRefused with the portal's words when the form was refused (nothing filed). Any other error
    after the click is ambiguous: the caller looks again before it ever submits again."""

    @abstractmethod
    def find_auth_requests(self, member_id: str) -> list[AuthRequestReceipt]: ...

    @abstractmethod
    def submit_auth_request(self, request: AuthRequest) -> AuthRequestReceipt: ...


@runtime_checkable
class AppealSubmission(Protocol):
    """The portal's online appeal (or reconsideration) form with attachment upload, and its appeal status page.

    The same rules as every portal write (AuthRequestSubmission): `find_appeals` lists the appeals on file
    for a claim (each with the provider reference typed at filing), read before any submit;
    `submit_appeal` fills the form, uploads the packet and submits once, returning the confirmation
    page's number, or raising RequestRefused with the portal's words when nothing was filed. Any other
    error after the click is ambiguous. `appeal_status` reads one appeal's status page by its
    confirmation number (ClaimNotFound when the portal does not know it)."""

    @abstractmethod
    def find_appeals(self, payer_id: str, payer_claim_number: str) -> list[AppealReceipt]: ...

    @abstractmethod
    def submit_appeal(self, filing: AppealFiling) -> AppealReceipt: ...

    @abstractmethod
    def appeal_status(self, payer_id: str, confirmation_number: str) -> AppealReceipt: ...


CAPABILITIES: tuple[type, ...] = (
    ClaimList,
    AuthorizationLookup,
    MemberAuthorizations,
    EnrollmentLookup,
    PayerEnrollments,
    RemittanceFiles,
    EligibilityInquiry,
    AuthRequestSubmission,
    AppealSubmission,
)


def offers(adapter_class: type, capability: type) -> bool:
    """Whether instances of `adapter_class` have `capability` (asked of the class: no browser needed)."""
    return issubclass(adapter_class, capability)


def capabilities_of(adapter_class: type) -> frozenset[type]:
    return frozenset(c for c in CAPABILITIES if offers(adapter_class, c))


# --- sessions with a capability, as flows take them ------------------------------------------


class ClaimListPortal(PortalSession, ClaimList, Protocol):
    """A session whose portal lists its claims by service dates."""


class AuthorizationPortal(PortalSession, AuthorizationLookup, Protocol):
    """A session whose portal looks prior authorizations up by number."""


class EnrollmentPortal(PortalSession, EnrollmentLookup, Protocol):
    """A session whose portal shows a provider's enrollment with its own payer."""


class PayerEnrollmentsPortal(PortalSession, PayerEnrollments, Protocol):
    """A session whose portal shows a provider's enrollment with each payer behind it."""


class RemittancePortal(PortalSession, RemittanceFiles, Protocol):
    """A session whose portal offers ERA files."""


class EligibilityPortal(PortalSession, EligibilityInquiry, Protocol):
    """A session whose portal answers eligibility and benefits inquiries."""


class AuthRequestPortal(PortalSession, AuthRequestSubmission, Protocol):
    """A session whose portal takes prior-authorization requests online."""


class AppealPortal(PortalSession, AppealSubmission, Protocol):
    """A session whose portal takes appeals online and shows their status."""
