"""The change feed: `/sync` pages and the `/events` wake-up stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from ..deps import ServicesDep, StaffDep
from ..errors import documented
from ..schemas import SyncPage

router = APIRouter(tags=["sync"])


@router.get("/sync", responses=documented(400, 401, 403, 422))
def sync(
    _principal: StaffDep,
    svc: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> SyncPage:
    """Items changed after `cursor` in change order, with their patients. Follow `cursor`
    until `has_more` is false; a change committed late is never skipped."""
    return svc.sync.page(cursor, limit)  # type: ignore[return-value]


@router.get(
    "/events",
    responses={
        **documented(401, 403),
        200: {
            "content": {"text/event-stream": {}},
            "description": '`event: changed` with data `{"cursor": ...}` after every '
            "committed change; a `: heartbeat` comment at least every 25 s.",
        },
    },
    response_class=StreamingResponse,
)
async def events(_principal: StaffDep, svc: ServicesDep, request: Request) -> StreamingResponse:
    broadcaster = svc.broadcaster
    heartbeat = svc.settings.heartbeat_seconds
    subscriber = broadcaster.subscribe()

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    cursor = await asyncio.wait_for(subscriber.queue.get(), timeout=heartbeat)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield b": heartbeat\n\n"
                    continue
                if cursor is None:  # the server is shutting down
                    return
                yield f"event: changed\ndata: {json.dumps({'cursor': cursor})}\n\n".encode()
        finally:
            broadcaster.unsubscribe(subscriber)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
