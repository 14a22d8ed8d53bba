"""`portal-worker feed secret NAME`: the webhook channel's signing secret, made here and kept in the keyring."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from worker.cli.app import console, load_settings
from worker.cli.feed_group import feed_app


@feed_app.command("secret")
def feed_secret(
    name: Annotated[str, typer.Argument(help="The webhook channel's name in the config ([feed.channels.NAME]).")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace the stored secret (the receiver must then be given the new one).")
    ] = False,
    show_existing: Annotated[
        bool, typer.Option("--show-existing", help="Print the stored secret again instead of making one.")
    ] = False,
) -> None:
    """Make the secret that signs a webhook channel's requests, store it in the keyring and print it once,
    for the PM system's receiver. Never put it in the config."""
    from worker.feed.signing import new_secret
    from worker.security.credentials import open_store
    from worker.settings import ConfigError

    settings = load_settings()
    channel = settings.feed.channels.get(name)
    if channel is None:
        known = ", ".join(settings.feed.channels) or "none"
        raise ConfigError(f"{settings.config_path}: no feed channel named {name!r} (configured: {known})")
    if channel.kind != "webhook":
        raise ConfigError(f"feed channel {name!r} is a {channel.kind} channel: only a webhook's requests are signed")
    if rotate and show_existing:
        raise ConfigError("--rotate and --show-existing exclude each other")
    store = open_store(settings.worker.data_dir)
    stored = store.load_feed_secret(name)
    if show_existing:
        if stored is None:
            raise ConfigError(f"no signing secret stored for {name!r}: run `portal-worker feed secret {name}`")
        console.print(stored, markup=False, highlight=False)
        return
    if stored is not None and not rotate:
        raise ConfigError(
            f"feed channel {name!r} already has a signing secret: --show-existing prints it, "
            "--rotate replaces it (and the receiver must be given the new one)"
        )
    secret = new_secret()
    store.save_feed_secret(name, secret)
    console.print(secret, markup=False, highlight=False)
    console.print(
        f"Stored the signing secret of feed channel [bold]{escape(name)}[/] in {escape(store.description)}.\n"
        "Give it to the PM system's receiver: it checks each request's Portal-Worker-Signature with it "
        "(docs/feed.md). It is not shown again unless asked for with --show-existing."
        + (
            "\nThe worker signs with it from its next batch: until the receiver has it, deliveries fail and "
            "are retried, nothing is lost."
            if rotate
            else ""
        ),
        highlight=False,
    )
