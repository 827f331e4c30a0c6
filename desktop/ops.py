"""The one sanctioned way to run background work: an operation with on_success/on_failure that
run on the GUI thread. Cache writes go through one serial queue; reads may run in parallel."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # every failure becomes a visible message
            log.debug("operation failed: %s", "".join(traceback.format_exception_only(exc)))
            self.relay.failed.emit(exc)
        else:
            self.relay.succeeded.emit(result)


class _Callbacks(QObject):
    """Lives on the GUI thread; receives the relay's queued signals and calls back there."""

    def __init__(
        self,
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[Exception], None] | None,
        done: Callable[[Any], None],
    ) -> None:
        super().__init__()
        self.on_success = on_success
        self.on_failure = on_failure
        self.done = done

    @Slot(object)
    def succeeded(self, result: Any) -> None:
        try:
            if self.on_success is not None:
                self.on_success(result)
        finally:
            self.done(self)

    @Slot(object)
    def failed(self, exc: Exception) -> None:
        try:
            if self.on_failure is not None:
                self.on_failure(exc)
        finally:
            self.done(self)


class Operations(QObject):
    """`writes`: one thread, in order (cache writes, mutating calls). `reads`: a small pool."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.writes = QThreadPool(self)
        self.writes.setMaxThreadCount(1)
        self.reads = QThreadPool(self)
        self.reads.setMaxThreadCount(2)
        self._live: set[_Callbacks] = set()

    def _submit(
        self,
        pool: QThreadPool,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[Exception], None] | None,
    ) -> None:
        callbacks = _Callbacks(on_success, on_failure, self._live.discard)
        self._live.add(callbacks)
        relay = _Relay()
        relay.succeeded.connect(callbacks.succeeded)
        relay.failed.connect(callbacks.failed)
        callbacks._relay = relay  # type: ignore[attr-defined]  # keep alive until done
        pool.start(_Job(fn, relay))

    def write(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        self._submit(self.writes, fn, on_success, on_failure)

    def read(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        self._submit(self.reads, fn, on_success, on_failure)

    def drain(self, msecs: int = 10000) -> bool:
        return bool(self.writes.waitForDone(msecs) and self.reads.waitForDone(msecs))
