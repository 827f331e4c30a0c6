"""The one thread that writes the cache.

The sync worker, the desktop and the command line all hand their writes to it, so writes never
interleave, state that only writes change (the generation counter) has one owner, and no caller
can write from the GUI thread by accident: a write is a job on this thread, and its caller
waits for the answer (`call`) or takes a future (`submit`).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class WriterClosed(RuntimeError):
    """The cache was closed; nothing more can be written to it."""


class Writer:
    def __init__(self, name: str = "cache-writer") -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise WriterClosed("the local cache is closed")
            self._jobs.put((job, future))
        return future

    def call(self, job: Callable[[], T]) -> T:
        """Run `job` on the writer thread and return its result (inline if already there)."""
        if threading.current_thread() is self._thread:
            return job()
        return self.submit(job).result()

    def on_writer_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def close(self, timeout: float = 30.0) -> None:
        """Finish the queued writes, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._jobs.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            entry = self._jobs.get()
            if entry is None:
                return
            job, future = entry
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except BaseException as exc:  # the caller gets it (and decides what to say)
                future.set_exception(exc)
            else:
                future.set_result(result)
