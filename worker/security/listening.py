"""Where the workspace may listen: its pages hold PHI, so off this machine only over TLS."""

from __future__ import annotations

import ipaddress


class ListenRefused(ValueError):
    """`web` would serve PHI where it must not (a public address without TLS)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen_address(host: str, tls: bool, behind_proxy: bool) -> None:
    """Refuse a non-loopback address unless TLS is configured or a TLS-terminating proxy is in front."""
    if is_loopback(host) or tls or behind_proxy:
        return
    raise ListenRefused(
        f"refusing to serve the workspace on {host}: its pages hold PHI. Set [web] tls_cert and tls_key, "
        "or put it behind a reverse proxy that does TLS and pass --behind-proxy (see the README), "
        "or listen on 127.0.0.1."
    )
