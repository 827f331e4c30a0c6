"""The portal API over one keep-alive `requests.Session`, with typed errors and token refresh.

Every call has connect and read timeouts. A 401 on a call refreshes the access token once and
retries; if the refresh fails, `SignInRequired`. TLS verification is always on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from triage_core.version import __version__

from .errors import (
    BadCursor,
    Conflict,
    Forbidden,
    Invalid,
    MalformedReply,
    NotFound,
    Offline,
    PortalError,
    PreconditionFailed,
    ServerError,
    SignInRequired,
    Throttled,
    TlsError,
    Unauthorized,
)
from .urls import normalise_server_url

log = logging.getLogger(__name__)

USER_AGENT = f"TriageDesk/{__version__}"
# The codes of a refresh the server refused because the login is too old or unused too long.
SESSION_LIMITS = ("session_idle", "session_expired")


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0

    def pair(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: str

    @classmethod
    def from_json(cls, data: Any) -> User:
        try:
            return cls(
                str(data["id"]), str(data["username"]), str(data["display_name"]), str(data["role"])
            )
        except (KeyError, TypeError):
            raise MalformedReply("the server's user record is incomplete") from None


def _error_body(response: requests.Response) -> tuple[str | None, str, dict[str, Any]]:
    try:
        error = response.json()["error"]
        return (
            str(error.get("code")),
            str(error.get("message") or ""),
            dict(error.get("details") or {}),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, "", {}


def raise_for_reply(response: requests.Response) -> None:
    """Turn a non-2xx reply into the matching typed error."""
    status = response.status_code
    if status < 400:
        return
    code, message, details = _error_body(response)
    kwargs: dict[str, Any] = {"status": status, "code": code, "details": details}
    if status == 400 and code == "bad_cursor":
        raise BadCursor(message or "the sync cursor is not usable", **kwargs)
    if status in (400, 422):
        raise Invalid(message or "the server refused the request as invalid", **kwargs)
    if status == 401:
        raise Unauthorized(message or "not signed in", **kwargs)
    if status == 403:
        raise Forbidden(message or "not allowed for your role", **kwargs)
    if status == 404:
        raise NotFound(message or "not found", **kwargs)
    if status == 409:
        raise Conflict(message or "the item's state does not allow this", **kwargs)
    if status == 412:
        raise PreconditionFailed(message or "the item changed meanwhile", **kwargs)
    if status == 413:
        raise Invalid(message or "too large for the server", **kwargs)
    if status == 429:
        raise Throttled(message or "too many attempts; wait a while", **kwargs)
    if status >= 500:
        raise ServerError(f"the server failed ({status}); will retry", **kwargs)
    raise PortalError(message or f"unexpected reply {status}", **kwargs)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "unknown content")
        raise MalformedReply(
            f"the server's reply is not valid JSON ({kind.split(';')[0]})",
            status=response.status_code,
        ) from None


def require(data: Any, shape: dict[str, type | tuple[type, ...]], what: str) -> dict[str, Any]:
    """Check the top-level shape of a reply: a dict with these keys of these types."""
    if not isinstance(data, dict):
        raise MalformedReply(f"the server's {what} reply is not a JSON object")
    for key, kind in shape.items():
        if not isinstance(data.get(key), kind):
            raise MalformedReply(f"the server's {what} reply lacks a valid '{key}'")
    return data


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket under a streamed response (urllib3 keeps it on the connection)."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
    raw = getattr(getattr(fp, "raw", None), "_sock", None)
    return raw if isinstance(raw, socket.socket) else None


class TokenHolder:
    """The session's tokens, shared by every client of one sign-in (worker and event stream),
    so that only one of them refreshes at a time: a refresh token works once."""

    def __init__(self, on_refresh_token: Callable[[str | None], None] | None = None) -> None:
        self.lock = threading.RLock()
        self.access: str | None = None
        self.refresh: str | None = None
        self.on_refresh_token = on_refresh_token


class ApiClient:
    """One HTTP session. Use one client per thread; `sibling()` shares the sign-in."""

    def __init__(
        self,
        server_url: str,
        *,
        session: requests.Session | None = None,
        timeouts: Timeouts | None = None,
        on_refresh_token: Callable[[str | None], None] | None = None,
        tokens: TokenHolder | None = None,
    ) -> None:
        self.base_url = normalise_server_url(server_url)
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.http.verify = True
        self.timeouts = timeouts or Timeouts()
        self.tokens = tokens or TokenHolder(on_refresh_token)
        self._stream: requests.Response | None = None

    def sibling(self) -> ApiClient:
        """Another client (own connection pool) on the same sign-in, for another thread."""
        return ApiClient(self.base_url, timeouts=self.timeouts, tokens=self.tokens)

    # ---- tokens ------------------------------------------------------------------------------

    @property
    def has_session(self) -> bool:
        return self.tokens.refresh is not None or self.tokens.access is not None

    def use_refresh_token(self, token: str | None) -> None:
        with self.tokens.lock:
            self.tokens.refresh = token
            self.tokens.access = None

    def _store_tokens(self, data: Any) -> None:
        reply = require(data, {"access_token": str, "refresh_token": str}, "token")
        with self.tokens.lock:
            self.tokens.access = reply["access_token"]
            self.tokens.refresh = reply["refresh_token"]
            if self.tokens.on_refresh_token:
                self.tokens.on_refresh_token(reply["refresh_token"])

    def _forget_tokens(self) -> None:
        with self.tokens.lock:
            self.tokens.access = None
            self.tokens.refresh = None
            if self.tokens.on_refresh_token:
                self.tokens.on_refresh_token(None)

    # ---- transport ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        stream: bool = False,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth and self.tokens.access:
            headers["Authorization"] = f"Bearer {self.tokens.access}"
        try:
            return self.http.request(
                method,
                f"{self.base_url}{path}",
                headers=headers,
                timeout=timeout or self.timeouts.pair(),
                stream=stream,
                **kwargs,
            )
        except requests.exceptions.SSLError:
            raise TlsError(
                "the server's certificate could not be verified; check the address, or ask "
                "IT whether the server's certificate is valid"
            ) from None
        except requests.exceptions.Timeout:
            raise Offline("the server did not answer in time") from None
        except requests.exceptions.ConnectionError:
            raise Offline("the server cannot be reached") from None
        except requests.exceptions.RequestException as exc:
            raise Offline(f"the request failed ({type(exc).__name__})") from None

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """An authenticated call: refresh once on 401, then raise typed errors."""
        if self.tokens.access is None:
            self.refresh()
        used = self.tokens.access
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:
            self.refresh(unless_changed_from=used)
            response = self._send(method, path, **kwargs)
            if response.status_code == 401:
                self._forget_tokens()
                raise SignInRequired("the server ended this session; sign in again", status=401)
        raise_for_reply(response)
        return response

    # ---- authentication ----------------------------------------------------------------------

    def login(self, username: str, password: str) -> User:
        response = self._send(
            "POST",
            "/api/v1/auth/login",
            auth=False,
            json={"username": username, "password": password},
        )
        if response.status_code == 401:
            raise Unauthorized("wrong username or password", status=401)
        raise_for_reply(response)
        data = _json(response)
        self._store_tokens(data)
        return User.from_json(data.get("user"))

    def refresh(self, unless_changed_from: str | None = None) -> None:
        """Trade the refresh token for a new pair; if another thread already did so since
        `unless_changed_from` was the access token, just use its result."""
        with self.tokens.lock:
            if unless_changed_from is not None and self.tokens.access not in (
                None,
                unless_changed_from,
            ):
                return
            token = self.tokens.refresh
            if token is None:
                raise SignInRequired("sign in to continue")
            response = self._send(
                "POST", "/api/v1/auth/refresh", auth=False, json={"refresh_token": token}
            )
            if response.status_code in (400, 401, 422):
                self._forget_tokens()
                code, message, details = _error_body(response)
                if code in SESSION_LIMITS:  # unused too long, or past its time limit
                    raise SignInRequired(message, status=401, code=code, details=details)
                raise SignInRequired("the session has ended; sign in again", status=401)
            raise_for_reply(response)
            self._store_tokens(_json(response))

    def logout(self) -> None:
        try:
            if self.tokens.access or self.tokens.refresh:
                self.call("POST", "/api/v1/auth/logout")
        except PortalError as exc:
            log.info(
                "sign-out could not reach the server (%s); forgetting tokens", type(exc).__name__
            )
        finally:
            self._forget_tokens()

    # ---- endpoints ---------------------------------------------------------------------------

    def me(self) -> User:
        return User.from_json(_json(self.call("GET", "/api/v1/me")))

    def staff(self) -> list[dict[str, Any]]:
        data = require(_json(self.call("GET", "/api/v1/staff")), {"staff": list}, "staff")
        return list(data["staff"])

    def policy(self) -> dict[str, Any]:
        changed, _etag = self.policy_if_changed(None)
        assert changed is not None
        return changed

    def policy_if_changed(self, etag: str | None) -> tuple[dict[str, Any] | None, str | None]:
        """The policy and its ETag, or (None, etag) when it has not changed since `etag`."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self.call("GET", "/api/v1/policy", headers=headers)
        if response.status_code == 304:
            return None, etag
        policy = require(_json(response), {"timezone": str, "business_hours": dict}, "policy")
        return policy, response.headers.get("ETag")

    def sync(self, cursor: str | None, limit: int = 500) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = require(
            _json(self.call("GET", "/api/v1/sync", params=params)),
            {"items": list, "patients": list, "cursor": str, "has_more": bool},
            "sync",
        )
        for item in page["items"]:
            require(
                item, {"id": str, "version": int, "entries": list, "details": dict}, "sync item"
            )
        for patient in page["patients"]:
            require(patient, {"id": str}, "sync patient")
        return page

    def put_policy(self, policy: dict[str, Any]) -> dict[str, Any]:
        """Replace the practice policy (administrators only; the server validates it)."""
        return require(
            _json(self.call("PUT", "/api/v1/policy", json=policy)),
            {"timezone": str, "business_hours": dict},
            "policy",
        )

    def item(self, item_id: str) -> dict[str, Any]:
        data = require(_json(self.call("GET", f"/api/v1/items/{item_id}")), {"item": dict}, "item")
        return dict(data["item"])

    def audit(self, params: dict[str, Any]) -> dict[str, Any]:
        """One page of the audit log, newest first (administrators only)."""
        page = require(
            _json(self.call("GET", "/api/v1/audit", params=params)), {"events": list}, "audit"
        )
        for event in page["events"]:
            require(event, {"seq": int, "at": str, "action": str, "actor": dict}, "audit event")
        return page

    def audit_chain(self) -> dict[str, Any]:
        """The server walks the audit log's hash chain (administrators only; takes a while)."""
        return require(
            _json(self.call("GET", "/api/v1/audit/chain", timeout=(self.timeouts.connect, 300.0))),
            {"intact": bool, "checked": int},
            "audit chain",
        )

    def act(
        self, item_id: str, action: dict[str, Any], key: str, if_match: int | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = self.call(
            "POST", f"/api/v1/items/{item_id}/actions", json=action, headers=headers
        )
        data = require(_json(response), {"item": dict}, "action")
        require(data["item"], {"id": str, "version": int, "entries": list}, "action item")
        return dict(data["item"])

    def record_views(self, views: list[dict[str, Any]]) -> dict[str, Any]:
        """Deliver views (`{"id", "item_id", "viewed_at"}`) to the audit log; replays are
        no-ops on the server."""
        response = self.call("POST", "/api/v1/audit/views", json={"views": views})
        return require(
            _json(response), {"recorded": int, "already_recorded": int}, "recorded views"
        )

    def item_with_reason(self, item_id: str, reason: str) -> dict[str, Any]:
        """Open an item this person's role receives as a header (break the glass): the
        reason is recorded with the access."""
        response = self.call("GET", f"/api/v1/items/{item_id}", params={"reason": reason})
        data = require(_json(response), {"item": dict}, "item")
        require(data["item"], {"id": str, "version": int, "entries": list}, "item")
        return dict(data["item"])

    def events(self, read_timeout: float = 60.0) -> Iterator[str]:
        """Yield the cursor of each `changed` event until the stream ends or fails; an empty
        string first, once the server has accepted the stream."""
        response = self.call(
            "GET", "/api/v1/events", stream=True, timeout=(self.timeouts.connect, read_timeout)
        )
        self._stream = response
        event: str | None = None
        try:
            for chunk in response.iter_lines():
                raw = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
                if not raw:
                    continue
                if raw.startswith(": connected"):
                    yield ""
                elif raw.startswith("event:"):
                    event = raw.split(":", 1)[1].strip()
                elif raw.startswith("data:") and event == "changed":
                    try:
                        yield str(json.loads(raw.split(":", 1)[1])["cursor"])
                    except (ValueError, KeyError, TypeError):
                        log.debug("ignoring a malformed event")
                    event = None
        except (requests.exceptions.RequestException, OSError, AttributeError, ValueError):
            raise Offline("the event stream was interrupted") from None
        finally:
            self._stream = None
            response.close()

    def interrupt_stream(self) -> None:
        """End a blocking `events()` read from another thread (at shutdown)."""
        response = self._stream
        if response is None:
            return
        sock = _socket_of(response)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.http.close()
