"""Server addresses: https always, plain http only to this machine."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from .errors import InsecureServerUrl

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_server_url(url: str) -> str:
    """`https://host[:port][/prefix]` without a trailing slash; refuses insecure addresses."""
    raw = url.strip()
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InsecureServerUrl(f"'{url}' is not a server address like https://portal.example.org")
    if parts.username or parts.password:
        raise InsecureServerUrl("put no username or password in the server address")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise InsecureServerUrl(
            f"'{url}' uses plain http; use https (plain http is allowed only for this computer)"
        )
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, parts.netloc.lower(), path, "", ""))


def server_slug(url: str) -> str:
    """A file-system-safe name for a server, readable and unique."""
    parts = urlsplit(url)
    readable = re.sub(r"[^a-z0-9.-]+", "-", (parts.hostname or "server").lower())
    if parts.port:
        readable += f"-{parts.port}"
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{readable}-{digest}"
