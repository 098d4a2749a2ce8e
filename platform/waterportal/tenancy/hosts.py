"""Host header normalisation: lower case, no port, no trailing dot, IDNA (punycode)."""
from __future__ import annotations

import re

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_host(raw: str) -> str:
    """Normalise a Host header value; raise ValueError when it is no valid hostname.

    ``"Nayoro.Localhost:8000."`` -> ``"nayoro.localhost"``; ``"名寄.jp"`` -> ``"xn--...jp"``.
    """
    host = (raw or "").strip()
    if host.startswith("["):  # IPv6 literal: never a tenant host
        raise ValueError("ip literal")
    host = host.rsplit(":", 1)[0] if ":" in host else host
    host = host.rstrip(".").lower()
    if not host:
        raise ValueError("empty host")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("bad idna") from exc
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise ValueError("bad hostname")
    return host
