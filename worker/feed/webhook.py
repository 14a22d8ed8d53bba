"""The webhook channel: one signed JSON POST per event to the PM system's receiver (docs/feed.md).

Success is any 2xx answer; anything else stops the batch at that event, and the pump tries it again later.
The secret lives in the keyring only: it is read from there, scrubbed from every log line, and never put in
an error, whatever the receiver answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx

from worker.feed.channel import DeliveryFailed, Outgoing
from worker.feed.signing import SECRET_PREFIX, sign
from worker.security.redaction import REDACTED, register_secret, scrub
from worker.settings import FeedChannelSettings, Settings

ANSWER_WORDS = 100  # characters of a refusing receiver's answer kept in the channel's last error
ANY_SECRET = re.compile(re.escape(SECRET_PREFIX) + r"[A-Za-z0-9_-]+")


def signing_secret(settings: Settings, name: str) -> str:
    """The channel's secret from the keyring; DeliveryFailed, saying what to run, when there is none."""
    from worker.security.credentials import CredentialStoreUnavailable, open_store

    try:
        secret = open_store(settings.worker.data_dir).load_feed_secret(name)
    except CredentialStoreUnavailable as exc:
        raise DeliveryFailed(str(exc)) from None
    if secret is None:
        raise DeliveryFailed(
            f"no signing secret stored for feed channel {name}: run `portal-worker feed secret {name}`"
        )
    register_secret(secret)
    return secret


class WebhookChannel:
    """`secret` is the secret itself, or a function that reads it (again) before each batch, so a rotated
    secret is used without restarting the worker."""

    def __init__(
        self,
        name: str,
        config: FeedChannelSettings,
        secret: str | Callable[[], str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if config.url is None:
            raise DeliveryFailed(f"feed channel {name} has no url")
        self.name, self.url, self.clock = name, config.url, clock
        self.timeout = config.timeout_seconds
        self._secret = secret
        parts = urlsplit(config.url)
        self.host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        # One client for the channel's life: keep-alive spares a TLS handshake per event. Redirects are
        # not followed: a signed body goes to the configured address or nowhere.
        self._client = httpx.Client(timeout=config.timeout_seconds, follow_redirects=False)

    def send(self, batch: Sequence[Outgoing], acknowledged: Callable[[Outgoing], bool]) -> None:
        secret = self._secret() if callable(self._secret) else self._secret
        register_secret(secret)
        for item in batch:
            self._post(item, secret)
            if not acknowledged(item):
                return

    def close(self) -> None:
        self._client.close()

    def _post(self, item: Outgoing, secret: str) -> None:
        headers = {
            "Content-Type": "application/json",
            "Portal-Worker-Event-Id": item.event.event_id,
            "Portal-Worker-Event-Type": item.event.type,
            "Portal-Worker-Signature": sign(secret, item.body, int(self.clock())),
        }
        try:
            response = self._client.post(self.url, content=item.body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"no answer from {self.host} within {self.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise DeliveryFailed(f"cannot connect to {self.host}: {_safe(str(exc)) or 'refused'}") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise DeliveryFailed(f"{self.host} closed the connection without an answer") from None
        except httpx.HTTPError as exc:  # a proxy or TLS failure, ...
            raise DeliveryFailed(f"request to {self.host} failed: {type(exc).__name__}") from None
        if not response.is_success:
            words = _safe(response.text)[:ANSWER_WORDS]
            raise DeliveryFailed(f"HTTP {response.status_code} from {self.host}" + (f": {words}" if words else ""))


def _safe(text: str) -> str:
    """The receiver's words on one line, for the store and the log: never a secret, should it echo one (this
    one, or an older one it still holds)."""
    return ANY_SECRET.sub(REDACTED, scrub(" ".join(text.split())))
