"""What the pump asks of a channel, and what a channel tells it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flows.feed_format import StoredEvent


class DeliveryFailed(Exception):
    """The receiver did not acknowledge an event: the message says why, in words without PHI
    (a status code and the receiver's first words, a refused connection, a folder that is not writable)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event ready to send: as stored, its envelope (flows.feed_format.envelope) and the exact bytes."""

    event: StoredEvent
    message: dict[str, Any]
    body: bytes


class Channel(Protocol):
    name: str

    def send(self, batch: Sequence[Outgoing], acknowledged: Callable[[Outgoing], bool]) -> None:
        """Send `batch` in order. Call `acknowledged(item)` as soon as the receiver has acknowledged `item`
        and every item before it; stop quietly when it returns False (this process lost the channel).
        Raise DeliveryFailed at the first item the receiver did not acknowledge."""
        ...

    def close(self) -> None: ...
