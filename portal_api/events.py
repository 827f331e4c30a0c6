"""Server-sent `changed` events: a wake-up call after every committed change.

Writers mark the feed dirty after commit (this process) and send `pg_notify` inside their
transaction (every process on the same PostgreSQL database, through a LISTEN connection). One
publisher thread coalesces bursts, computes the newest visible cursor and hands it to every
subscriber's asyncio queue. When a change is committed but still held back behind an older
running transaction, it checks again shortly, so the change is announced once it is visible.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.05
RECHECK_SECONDS = 0.2


@dataclass(eq=False)
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None]


def _offer(queue: asyncio.Queue[str | None], value: str | None) -> None:
    """Keep only the newest cursor: a slow reader needs the latest, not every one."""
    while not queue.empty():
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:
            break
    queue.put_nowait(value)


class ChangeBroadcaster:
    def __init__(self, newest_cursor: Callable[[], tuple[str, bool]]) -> None:
        self._newest_cursor = newest_cursor
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: PostgresListener | None = None
        self.last_cursor: str | None = None

    def start(self, postgres_dsn: str | None = None) -> None:
        self._stopping.clear()
        try:
            # Announce only what changes from here on (and what a listener missed meanwhile).
            self.last_cursor, _ = self._newest_cursor()
        except Exception as exc:
            log.warning("could not read the newest cursor at start: %s", type(exc).__name__)
        self._thread = threading.Thread(target=self._run, name="change-publisher", daemon=True)
        self._thread.start()
        if postgres_dsn:
            self._listener = PostgresListener(postgres_dsn, self.mark_dirty, self._stopping)
            self._listener.start()

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.join(timeout=5)
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            self._post(sub, None)

    def mark_dirty(self) -> None:
        self._dirty.set()

    def subscribe(self) -> Subscriber:
        sub = Subscriber(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _post(self, sub: Subscriber, value: str | None) -> None:
        try:
            sub.loop.call_soon_threadsafe(_offer, sub.queue, value)
        except RuntimeError:  # the subscriber's loop has closed
            self.unsubscribe(sub)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                break
            time.sleep(COALESCE_SECONDS)
            self._dirty.clear()
            try:
                cursor, held_back = self._newest_cursor()
            except Exception as exc:  # the database may be briefly away; try again soon
                log.warning("could not read the newest cursor: %s", type(exc).__name__)
                time.sleep(1.0)
                self._dirty.set()
                continue
            if cursor != self.last_cursor:
                self.last_cursor = cursor
                with self._lock:
                    subscribers = list(self._subscribers)
                for sub in subscribers:
                    self._post(sub, cursor)
            if held_back:
                threading.Timer(RECHECK_SECONDS, self._dirty.set).start()


class PostgresListener(threading.Thread):
    """LISTEN on its own connection; reconnects with backoff; each notification marks dirty."""

    def __init__(self, dsn: str, on_notify: Callable[[], None], stopping: threading.Event) -> None:
        super().__init__(name="pg-listener", daemon=True)
        self.dsn = dsn
        self.on_notify = on_notify
        self.stopping = stopping
        self.connected = threading.Event()

    def run(self) -> None:
        import psycopg

        from .items import CHANGE_CHANNEL

        delay = 0.5
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANGE_CHANNEL}")
                    self.connected.set()
                    delay = 0.5
                    # Changes committed while we were away: announce once on (re)connect.
                    self.on_notify()
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.on_notify()
            except Exception as exc:
                self.connected.clear()
                if self.stopping.is_set():
                    break
                log.warning(
                    "change listener lost its connection (%s); retrying", type(exc).__name__
                )
                self.stopping.wait(delay)
                delay = min(delay * 2, 10.0)
