"""Refuse request bodies over 64 KiB with 413 before anything parses them."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
DRAIN_CAP_BYTES = 1024 * 1024

_TOO_LARGE = json.dumps(
    {
        "error": {
            "code": "too_large",
            "message": "The request body is over 64 KiB.",
            "details": {"limit_bytes": MAX_BODY_BYTES},
        }
    }
).encode()


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
                await _reply(
                    send,
                    400,
                    b'{"error": {"code": "malformed", "message": '
                    b'"Content-Length is not a number.", "details": {}}}',
                )
                return
            if too_big:
                await _reply(send, 413, _TOO_LARGE)
                return
        # No length declared (chunked) or a small one: read at most limit + 1 bytes first.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await _drain(receive, more=message.get("more_body", False))
                await _reply(send, 413, _TOO_LARGE)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        buffered: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def replay() -> Message:
            if buffered:
                return buffered.pop()
            return await receive()

        await self.app(scope, replay, send)


async def _drain(receive: Receive, *, more: bool, cap: int = DRAIN_CAP_BYTES) -> None:
    """Read (and drop) what the client is still sending, up to a cap, so it can read our 413
    instead of a connection reset."""
    drained = 0
    while more and drained < cap:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        drained += len(message.get("body", b""))
        more = message.get("more_body", False)


async def _reply(send: Send, status: int, body: bytes) -> None:
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
