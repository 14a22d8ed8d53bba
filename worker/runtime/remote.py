"""Playwright objects of the browser host's thread, driven from the runners' threads.

Playwright's sync API belongs to the thread that started it: each call switches, by greenlet, to the
event loop of that thread and back. `Remote` wraps one of its objects (a context, a page, a locator,
a response, the context manager of `expect_response`) for another thread: every call is run by the
host thread in a greenlet of its own while the calling thread waits for the result. So several
runners wait on one browser at once, as coroutines would, and each keeps its plain sync code, typed
as Playwright's own classes (`as_page`).

What comes back is wrapped again, and Remotes passed as arguments are unwrapped, so a runner never
holds a bare object of the host's thread. Callbacks (route handlers, response predicates) run on the
host thread with the bare objects; a Remote called from there runs at once, without a hop.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

from playwright.sync_api import BrowserContext

T = TypeVar("T")


class Host(Protocol):
    """The thread that owns the Playwright objects: `call` runs `work` there and returns what it returns."""

    def call(self, work: Callable[[], T]) -> T: ...


def _is_playwright(value: object) -> bool:
    return type(value).__module__.startswith("playwright.") and not isinstance(value, BaseException)


def wrap(host: Host, value: Any) -> Any:
    if isinstance(value, list):
        return [wrap(host, item) for item in value]
    if isinstance(value, tuple):
        return tuple(wrap(host, item) for item in value)
    return Remote(host, value) if _is_playwright(value) else value


def unwrap(value: Any) -> Any:
    if isinstance(value, Remote):
        return object.__getattribute__(value, "_target")
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    if isinstance(value, tuple):
        return tuple(unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    return value


class Remote:
    """One Playwright object of the host thread, as seen from another thread."""

    __slots__ = ("_host", "_target")

    def __init__(self, host: Host, target: object) -> None:
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        host, target = object.__getattribute__(self, "_host"), object.__getattribute__(self, "_target")
        if inspect.isfunction(inspect.getattr_static(type(target), name, None)):
            method = getattr(target, name)
            return lambda *args, **kwargs: wrap(host, host.call(lambda: method(*unwrap(args), **unwrap(kwargs))))
        # a property may read the loop's state (`EventInfo.value` waits for its event): read it on the host
        return wrap(host, host.call(lambda: getattr(target, name)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{name}: a remote Playwright object is read-only")

    def __enter__(self) -> Any:
        host, target = object.__getattribute__(self, "_host"), object.__getattribute__(self, "_target")
        return wrap(host, host.call(target.__enter__))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool | None:
        host, target = object.__getattribute__(self, "_host"), object.__getattribute__(self, "_target")
        return cast("bool | None", host.call(lambda: target.__exit__(kind, error, trace)))

    def __eq__(self, other: object) -> bool:
        return unwrap(self) is unwrap(other)

    def __hash__(self) -> int:
        return id(unwrap(self))

    def __repr__(self) -> str:
        return f"Remote({unwrap(self)!r})"


def as_context(remote: Remote) -> BrowserContext:
    """The remote context, typed as what it behaves as (every call hops to the host thread)."""
    return cast(BrowserContext, remote)
