"""`/healthz` answers while every worker thread is busy (issue #10, point 7). SQLite and
PostgreSQL."""

from __future__ import annotations

import threading

import anyio.to_thread
import requests

from portal_api.app import create_app
from tests.helpers import served, wait_until


def test_healthz_answers_while_every_worker_thread_is_blocked(settings, seeded) -> None:
    app = create_app(settings, seeded)
    release = threading.Event()
    blocked: list[int] = []
    lock = threading.Lock()

    @app.get("/test/threads")
    async def threads() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    @app.get("/test/block")
    def block() -> None:  # a sync route: it holds one worker thread until released
        with lock:
            blocked.append(1)
        release.wait(timeout=60)

    with served(app) as url:
        workers = requests.get(f"{url}/test/threads", timeout=10).json()
        callers = [
            threading.Thread(
                target=requests.get, args=(f"{url}/test/block",), kwargs={"timeout": 90}
            )
            for _ in range(workers)
        ]
        try:
            for caller in callers:
                caller.start()
            assert wait_until(lambda: len(blocked) == workers, timeout=30)
            # Every worker thread is taken; the check still answers, and says the truth.
            reply = requests.get(f"{url}/healthz", timeout=20)
            assert reply.status_code == 200
            assert reply.json() == {"status": "ok"}
        finally:
            release.set()
            for caller in callers:
                caller.join(timeout=30)
