"""The change feed: `/sync` pages and the `/events` wake-up stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..deps import IpDep, ServicesDep, StaffDep
from ..errors import documented
from ..schemas import SyncPage

router = APIRouter(tags=["sync"])


@router.get("/sync", responses=documented(400, 401, 403, 422), response_model_exclude_unset=True)
def sync(
    principal: StaffDep,
    svc: ServicesDep,
    ip: IpDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> SyncPage:
    """Items changed after `cursor` in change order, with their patients. Follow `cursor`
    until `has_more` is false; a change committed late is never skipped. Each role receives
    what its work needs: other items arrive as headers (`restricted: true`, no entries, their
    patients without medications and allergies). A page with items is recorded in the audit
    log as one disclosure."""
    return svc.sync.page(principal, cursor, limit, ip)  # type: ignore[return-value]


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
async def events(principal: StaffDep, svc: ServicesDep, request: Request) -> StreamingResponse:
    """Ends when the login does: a sign-out or revocation in this process at once, one
    elsewhere (another server, a deactivation) at the next check in the database."""
    broadcaster = svc.broadcaster
    heartbeat = svc.settings.heartbeat_seconds
    check_every = svc.settings.session_check_seconds
    subscriber = broadcaster.subscribe()

    async def stream() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        ended = asyncio.Event()

        def on_end() -> None:  # from the thread that committed the revocation
            with suppress(RuntimeError):  # the loop has closed: the stream is gone anyway
                loop.call_soon_threadsafe(ended.set)
                loop.call_soon_threadsafe(subscriber.queue.put_nowait, None)

        unwatch = svc.auth.ends.watch(principal.session_id, on_end)
        try:
            yield b": connected\n\n"
            next_beat = loop.time() + heartbeat
            next_check = loop.time() + check_every
            while True:
                ticked = False  # woken by time (to beat or check), not by the queue
                try:
                    cursor = await asyncio.wait_for(
                        subscriber.queue.get(),
                        timeout=max(0.0, min(next_beat, next_check) - loop.time()),
                    )
                except TimeoutError:
                    cursor, ticked = None, True
                if ended.is_set():
                    return
                if loop.time() >= next_check:
                    next_check = loop.time() + check_every
                    if not await run_in_threadpool(svc.auth.session_stands, principal.session_id):
                        return
                if ticked:
                    if loop.time() >= next_beat:
                        if await request.is_disconnected():
                            return
                        yield b": heartbeat\n\n"
                        next_beat = loop.time() + heartbeat
                    continue
                if cursor is None:  # the server is shutting down
                    return
                yield f"event: changed\ndata: {json.dumps({'cursor': cursor})}\n\n".encode()
                next_beat = loop.time() + heartbeat
        finally:
            unwatch()
            broadcaster.unsubscribe(subscriber)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
