"""Adapter kinds by the name config uses (`adapter = "..."`)."""

from __future__ import annotations

from portals.base import PortalAdapter
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.summit_exchange import SummitExchangeAdapter
from portals.unity_health import UnityHealthAdapter

ADAPTERS: dict[str, type[PortalAdapter]] = {
    cls.kind: cls for cls in (SummitExchangeAdapter, UnityHealthAdapter, LakeshoreMedicaidAdapter)
}
