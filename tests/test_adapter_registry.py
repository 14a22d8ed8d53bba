"""One adapter registry, capabilities declared as Protocols, one page-object base: checked without a browser."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from flows.task_work import TaskKind, portal_does
from portals.base import PortalAdapter
from portals.capabilities import (
    CAPABILITIES,
    AppealSubmission,
    AuthorizationLookup,
    AuthRequestSubmission,
    ClaimList,
    EligibilityInquiry,
    EnrollmentLookup,
    MemberAuthorizations,
    PayerEnrollments,
    RemittanceFiles,
    capabilities_of,
)
from portals.pages import PageObject
from portals.registry import ADAPTERS, adapter_capabilities, adapter_class, adapter_names

ROOT = Path(__file__).resolve().parent.parent

# What each shipped adapter can do beyond claim status: what planners will queue for its portals.
SHIPPED: dict[str, set[type]] = {
    "summit_exchange": {ClaimList, RemittanceFiles, PayerEnrollments, EligibilityInquiry, AppealSubmission},
    "unity_health": {
        ClaimList,
        AuthorizationLookup,
        MemberAuthorizations,
        EnrollmentLookup,
        EligibilityInquiry,
        AuthRequestSubmission,
        AppealSubmission,
    },
    "lakeshore_medicaid": {
        ClaimList,
        AuthorizationLookup,
        MemberAuthorizations,
        EnrollmentLookup,
        EligibilityInquiry,
        AuthRequestSubmission,
    },
}


def methods_of(capability: type) -> set[str]:
    return {name for name, value in vars(capability).items() if callable(value) and not name.startswith("_")}


def implemented(adapter: type, capability: type) -> bool:
    """Whether the adapter's own code (not a Protocol's stub) defines every method of `capability`."""
    concrete = [k for k in adapter.__mro__ if not getattr(k, "_is_protocol", False)]
    return all(any(callable(vars(k).get(name)) for k in concrete) for name in methods_of(capability))


def test_the_registry_lists_each_adapter_under_its_own_kind() -> None:
    assert adapter_names() == tuple(ADAPTERS) == tuple(SHIPPED)
    for name in adapter_names():
        adapter = adapter_class(name)
        assert issubclass(adapter, PortalAdapter) and adapter.kind == name
        assert not inspect.isabstract(adapter), name


def test_an_unknown_adapter_name_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(LookupError) as caught:
        adapter_class("unity")
    assert str(caught.value) == "'unity' is not an adapter (one of: summit_exchange, unity_health, lakeshore_medicaid)"
    with pytest.raises(LookupError) as caught:
        adapter_capabilities("unity")
    assert "'unity' is not an adapter" in str(caught.value)


def test_settings_and_what_adapters_can_do_import_no_browser_code() -> None:
    """Every command loads the settings at start-up, and status and schedule ask what each portal can do;
    Playwright is imported only where a browser is driven."""
    script = (
        "import json, sys\n"
        "from portals.registry import adapter_capabilities, adapter_names\n"
        "from worker.settings import Settings\n"
        f"settings = Settings.load({str(ROOT / 'config' / 'portal-worker.example.toml')!r})\n"
        "names = adapter_names()\n"
        "able = {name: sorted(c.__name__ for c in adapter_capabilities(name)) for name in names}\n"
        "print(json.dumps({'names': list(names), 'able': able,\n"
        "                  'adapters': sorted({p.adapter for p in settings.portals.values()}),\n"
        "                  'loaded': sorted(m for m in sys.modules if m.split('.')[0] == 'playwright'\n"
        "                                   or m in ('portals.base', 'portals.pages', 'portals.summit_exchange',\n"
        "                                            'portals.unity_health', 'portals.lakeshore_medicaid'))}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["names"] == list(SHIPPED)
    assert seen["able"] == {name: sorted(c.__name__ for c in able) for name, able in SHIPPED.items()}
    assert seen["adapters"] == sorted(SHIPPED)  # the example config names every adapter, each validated
    assert seen["loaded"] == []


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_an_adapter_declares_exactly_the_capabilities_it_implements(name: str) -> None:
    """Declared (a Protocol among its bases, so mypy checks the signatures) and implemented go together."""
    adapter = adapter_class(name)
    declared = {c for c in CAPABILITIES if c in adapter.__mro__}
    implementing = {c for c in CAPABILITIES if implemented(adapter, c)}
    assert declared == implementing, f"{name}: declare {implementing - declared}, implement {declared - implementing}"
    assert capabilities_of(adapter) == declared
    assert adapter_capabilities(name) == declared, f"{name}: the registry's capabilities differ from the class's"


@pytest.mark.parametrize("name", list(SHIPPED))
def test_the_shipped_adapters_offer_what_their_portals_do(name: str) -> None:
    adapter = adapter_class(name)
    assert capabilities_of(adapter) == SHIPPED[name]
    offered = {kind for kind in TaskKind if portal_does(adapter_capabilities(name), kind)}
    expected = {TaskKind.CLAIM_STATUS}
    expected |= {TaskKind.AUTHORIZATION} if AuthorizationLookup in SHIPPED[name] else set()
    expected |= {TaskKind.ENROLLMENT} if SHIPPED[name] & {EnrollmentLookup, PayerEnrollments} else set()
    expected |= {TaskKind.REMITTANCES} if RemittanceFiles in SHIPPED[name] else set()
    expected |= {TaskKind.ELIGIBILITY} if EligibilityInquiry in SHIPPED[name] else set()
    expected |= {TaskKind.AUTH_REQUEST} if AuthRequestSubmission in SHIPPED[name] else set()
    expected |= {TaskKind.APPEAL, TaskKind.APPEAL_STATUS} if AppealSubmission in SHIPPED[name] else set()
    assert offered == expected


def test_a_class_without_the_methods_offers_nothing() -> None:
    class ClaimsOnly:
        def claim_status(self) -> None: ...

    assert capabilities_of(ClaimsOnly) == frozenset()
    assert [kind for kind in TaskKind if portal_does(capabilities_of(ClaimsOnly), kind)] == [TaskKind.CLAIM_STATUS]


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_every_page_of_an_adapter_is_a_page_object(name: str) -> None:
    """A class in an adapter module that names a page (NAME) reads it through the one base."""
    module = import_module(ADAPTERS[name].path.partition(":")[0])
    pages = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__ and hasattr(cls, "NAME")
    ]
    assert pages
    assert [cls.__name__ for cls in pages if not issubclass(cls, PageObject)] == []
    assert [cls.__name__ for cls in pages if not cls.NAME] == []
