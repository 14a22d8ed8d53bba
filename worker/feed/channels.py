"""A configured channel, opened: the webhook with its signing secret from the keyring, or the CSV folder."""

from __future__ import annotations

from worker.feed.channel import Channel
from worker.settings import FeedChannelSettings, Settings


def open_channel(settings: Settings, name: str, config: FeedChannelSettings) -> Channel:
    if config.kind == "webhook":
        from worker.feed.webhook import WebhookChannel, signing_secret

        # Read before each batch, so a secret stored or rotated (`feed secret`) is used without a restart.
        return WebhookChannel(name, config, lambda: signing_secret(settings, name))
    from worker.feed.csv_drop import CsvDropChannel

    return CsvDropChannel(name, config)
