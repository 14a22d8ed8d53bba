"""Adapter kinds by the name config uses (`adapter = "..."`): the one list of them.

Each name maps to "module:Class", and a class is imported only when it is asked for
(`adapter_class`): listing the names (settings validation, at every command's start-up)
imports no adapter module and so no Playwright.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portals.base import PortalAdapter

ADAPTER_PATHS: Mapping[str, str] = MappingProxyType(
    {
        "summit_exchange": "portals.summit_exchange:SummitExchangeAdapter",
        "unity_health": "portals.unity_health:UnityHealthAdapter",
        "lakeshore_medicaid": "portals.lakeshore_medicaid:LakeshoreMedicaidAdapter",
    }
)


def adapter_names() -> tuple[str, ...]:
    """The names config may give as a portal's `adapter`."""
    return tuple(ADAPTER_PATHS)


def adapter_class(name: str) -> type[PortalAdapter]:
    """The adapter class config calls `name`, its module imported now if it was not yet."""
    try:
        module_name, _, class_name = ADAPTER_PATHS[name].partition(":")
    except KeyError:
        raise LookupError(f"{name!r} is not an adapter (one of: {', '.join(ADAPTER_PATHS)})") from None
    adapter: type[PortalAdapter] = getattr(import_module(module_name), class_name)
    return adapter
