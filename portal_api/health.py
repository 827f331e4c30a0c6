"""`/healthz` apart from the request workers, so a busy service still answers its probes.

A sync route runs on the shared worker threadpool; during a burst of `/sync` calls the check
waited its turn (1.5 to 5.6 s measured), and a load balancer took a busy server for a dead one.
The check runs on the event loop and asks the database on its own thread and its own
connection (no pool to wait on): at most one check at a time, later probes share its answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import suppress

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from .db import Database

CHECK_TIMEOUT_SECONDS = 5.0


def _probe_engine(engine: Engine) -> Engine:
    """An engine on the same database that opens one connection per check and keeps none."""
    if engine.dialect.name == "postgresql":
        connect_args: dict[str, object] = {"connect_timeout": 3}
    else:
        connect_args = {"check_same_thread": False, "timeout": 3}
    return create_engine(
        engine.url, poolclass=NullPool, connect_args=connect_args, hide_parameters=True
    )


def _ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


class HealthProbe:
    def __init__(
        self, database: Callable[[], Database], timeout: float = CHECK_TIMEOUT_SECONDS
    ) -> None:
        self._database = database  # read at each check: the service's current handle
        self.timeout = timeout
        self._engines: dict[Engine, Engine] = {}
        self._running: asyncio.Future[bool] | None = None

    async def ready(self) -> bool:
        """Whether the database answers, without touching the worker threadpool."""
        if self._running is None or self._running.done():
            self._running = self._start()
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), self.timeout)
        except TimeoutError:
            return False

    def _start(self) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        main = self._database().engine
        engine = self._engines.get(main)
        if engine is None:
            engine = self._engines[main] = _probe_engine(main)

        def settle(ok: bool) -> None:
            if not answer.done():
                answer.set_result(ok)

        def check() -> None:
            ok = _ping(engine)
            with suppress(RuntimeError):  # the server may have stopped meanwhile
                loop.call_soon_threadsafe(settle, ok)

        threading.Thread(target=check, name="health-check", daemon=True).start()
        return answer
