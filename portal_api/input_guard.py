"""Refuse input no route can store or parse safely, once, before any route sees it.

- JSON nested deeper than `MAX_JSON_DEPTH` levels: `400 malformed`. Python's parser recurses,
  so a body of 50,000 `[` raised RecursionError (a 500) wherever it was parsed.
- Text that no database column can hold: a NUL character (`\\u0000`; PostgreSQL refuses it in
  text and JSON, and its error quoted the value into the server log) or an unpaired surrogate
  (`\\ud800`; not UTF-8), in a JSON body, a query parameter or the path: `422 invalid`.

The checks are cheap for ordinary requests: the depth scan runs only when a body holds more
brackets than the limit, and a body is decoded here only when it holds such an escape. The
answer never repeats the input: it names where, not what.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 32

# A JSON string (skipped whole) or a bracket: what the depth scan walks. Possessive, and an
# unterminated string runs to the end in one match: linear on any body (a body of escaped
# quotes without a closing one made the plain pattern quadratic: 17 s for 64 KiB).
_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.DOTALL)
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|d[89a-f])", re.IGNORECASE)


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON in `body` nests arrays and objects more than `limit` levels."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def unstorable(text: str) -> bool:
    """Text a database column cannot hold: a NUL, or not encodable as UTF-8."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unstorable_at(value: Any, path: list[str]) -> list[str] | None:
    if isinstance(value, str):
        return path if unstorable(value) else None
    if isinstance(value, list):
        for index, element in enumerate(value):
            found = _unstorable_at(element, [*path, str(index)])
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, element in value.items():
            if unstorable(key):
                return [*path, "(a key)"]
            found = _unstorable_at(element, [*path, key])
            if found is not None:
                return found
    return None


def body_problem(body: bytes) -> tuple[int, dict[str, Any]] | None:
    """The refusal for a request body, or None to let it through to its route."""
    if too_deep(body):
        return 400, _error(
            "malformed",
            f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.",
        )
    if not _SUSPECT_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route answers 400 itself
    where = _unstorable_at(data, ["body"])
    return None if where is None else (422, _unstorable_error(where))


def url_problem(scope: Scope) -> tuple[int, dict[str, Any]] | None:
    if unstorable(str(scope.get("path", ""))):
        return 422, _unstorable_error(["path"])
    query = bytes(scope.get("query_string") or b"")
    if b"%" in query and unstorable(unquote(query.decode("latin-1"))):  # as routes decode it
        return 422, _unstorable_error(["query"])
    return None


def _error(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _unstorable_error(where: list[str]) -> dict[str, Any]:
    return _error(
        "invalid",
        "The request holds a NUL character or an invalid character code; remove it.",
        {
            "errors": [
                {
                    "loc": where,
                    "msg": "text may not hold NUL characters or unpaired surrogates",
                    "type": "text_unstorable",
                }
            ]
        },
    )


class InputGuardMiddleware:
    """Sits inside `BodyLimitMiddleware` (so a body is at most 64 KiB when read here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = url_problem(scope)
        if problem is not None:
            await _reply(send, *problem)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = body_problem(body) if body else None
        if problem is not None:
            await _reply(send, *problem)
            return
        buffered: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            if buffered:
                return buffered.pop()
            return await receive()

        await self.app(scope, replay, send)


async def _reply(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
