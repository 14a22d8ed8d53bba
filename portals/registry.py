"""Adapter kinds by the name config uses (`adapter = "..."`): the one list of them.

Each name maps to its class ("module:Class") and to the capabilities that class declares.
A class is imported only when it is asked for (`adapter_class`), so listing the names
(settings validation, at every command's start-up) or asking what a portal can do
(`status`, `schedule`, the planners) imports no adapter module and so no Playwright.
The capabilities written here are the class's own bases: a test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING

from portals.capabilities import (
    AppealSubmission,
    AuthorizationLookup,
    AuthRequestSubmission,
    ClaimList,
    EligibilityInquiry,
    EnrollmentLookup,
    MemberAuthorizations,
    PayerEnrollments,
    RemittanceFiles,
)

if TYPE_CHECKING:
    from portals.base import PortalAdapter


@dataclass(frozen=True)
class AdapterEntry:
    path: str  # "module:Class"
    capabilities: frozenset[type]  # what the class offers beyond claim status


ADAPTERS: Mapping[str, AdapterEntry] = MappingProxyType(
    {
        "summit_exchange": AdapterEntry(
            "portals.summit_exchange:SummitExchangeAdapter",
            frozenset({ClaimList, RemittanceFiles, PayerEnrollments, EligibilityInquiry, AppealSubmission}),
        ),
        "unity_health": AdapterEntry(
            "portals.unity_health:UnityHealthAdapter",
            frozenset(
                {
                    ClaimList,
                    AuthorizationLookup,
                    MemberAuthorizations,
                    EnrollmentLookup,
                    EligibilityInquiry,
                    AuthRequestSubmission,
                    AppealSubmission,
                }
            ),
        ),
        "lakeshore_medicaid": AdapterEntry(
            "portals.lakeshore_medicaid:LakeshoreMedicaidAdapter",
            frozenset(
                {
                    ClaimList,
                    AuthorizationLookup,
                    MemberAuthorizations,
                    EnrollmentLookup,
                    EligibilityInquiry,
                    AuthRequestSubmission,
                }
            ),
        ),
    }
)


def adapter_names() -> tuple[str, ...]:
    """The names config may give as a portal's `adapter`."""
    return tuple(ADAPTERS)


def _entry(name: str) -> AdapterEntry:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise LookupError(f"{name!r} is not an adapter (one of: {', '.join(ADAPTERS)})") from None


def adapter_capabilities(name: str) -> frozenset[type]:
    """What the adapter config calls `name` can do beyond claim status, without importing it."""
    return _entry(name).capabilities


def adapter_class(name: str) -> type[PortalAdapter]:
    """The adapter class config calls `name`, its module imported now if it was not yet."""
    module_name, _, class_name = _entry(name).path.partition(":")
    adapter: type[PortalAdapter] = getattr(import_module(module_name), class_name)
    return adapter
