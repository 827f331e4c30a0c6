"""Typed failures of talking to the portal API; each says plainly what happened."""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """Base of every client-side failure. `message` is safe to show to staff."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details or {}


class InsecureServerUrl(PortalError):
    """Plain http to a non-loopback address, or not a URL at all."""


class Offline(PortalError):
    """The server could not be reached (refused, reset, DNS, timeout, TLS failure)."""


class TlsError(Offline):
    """The server's certificate could not be verified."""


class SignInRequired(PortalError):
    """No valid session: the refresh token is missing, expired, revoked or reused."""


class Unauthorized(PortalError):
    """401 on sign-in itself: wrong username or password."""


class Throttled(PortalError):
    """429: too many failed sign-ins; `retry_after` seconds to wait."""

    @property
    def retry_after(self) -> int:
        return int(self.details.get("retry_after", 60))


class Forbidden(PortalError):
    """403: this user's role may not do this."""


class NotFound(PortalError):
    """404: the item does not exist (or is not visible)."""


class Conflict(PortalError):
    """409: the item's state forbids the action (claimed by someone else, closed, …)."""


class PreconditionFailed(PortalError):
    """412: the item changed since the version the action was based on."""


class Invalid(PortalError):
    """400/422: the request was refused as malformed or invalid."""


class BadCursor(PortalError):
    """400 bad_cursor: the sync cursor is unusable; resync from scratch."""


class ServerError(PortalError):
    """5xx: the server failed; worth retrying later."""


class MalformedReply(PortalError):
    """The server answered with something that is not the JSON the contract promises."""
