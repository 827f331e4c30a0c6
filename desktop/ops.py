"""The one sanctioned way to run background work: an operation with on_success/on_failure that
run on the GUI thread.

Two lanes: `write` runs one job at a time, in order (cache writes, mutating API calls, signing
out and quitting, which must come after every queued write); `read` runs a few in parallel.
Every failure reaches the person: the operation's own `on_failure`, or else the reporter the
window installs (a status-bar line), and the log at WARNING (the kind of error and what was
being done, never its text: that may hold patient data).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import count
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """One per `Operations`, living as long as it: workers emit here (queued to the GUI
    thread); no object is made or destroyed per job, so none can vanish under an emit."""

    finished = Signal(int, bool, object)  # job number, succeeded, result or exception


class _Job(QRunnable):
    def __init__(
        self, number: int, fn: Callable[[], Any], relay: _Relay, future: Future[Any]
    ) -> None:
        super().__init__()
        self.number = number
        self.fn = fn
        self.relay = relay
        self.future = future
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # every failure becomes a visible message
            self.future.set_exception(exc)
            self.relay.finished.emit(self.number, False, exc)
        else:
            self.future.set_result(result)
            self.relay.finished.emit(self.number, True, result)


@dataclass(frozen=True)
class _Pending:
    what: str
    on_success: Callable[[Any], None] | None
    on_failure: Callable[[Exception], None] | None


def describe_failure(what: str, exc: Exception) -> str:
    """`Could not load the inbox: the server cannot be reached.`"""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"Could not finish {what}: {message}"


class Operations(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.writes = QThreadPool(self)
        self.writes.setMaxThreadCount(1)
        self.reads = QThreadPool(self)
        self.reads.setMaxThreadCount(2)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._pending: dict[int, _Pending] = {}
        self._numbers = count(1)
        self.reporter: Callable[[str], None] | None = None

    def _submit(
        self,
        pool: QThreadPool,
        what: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[Exception], None] | None,
    ) -> Future[Any]:
        number = next(self._numbers)
        self._pending[number] = _Pending(what, on_success, on_failure)
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        pool.start(_Job(number, fn, self._relay, future))
        return future

    @Slot(int, bool, object)
    def _finished(self, number: int, succeeded: bool, payload: Any) -> None:
        pending = self._pending.pop(number, None)
        if pending is None:
            return
        if not succeeded:
            log.warning("%s failed: %s", pending.what, type(payload).__name__)
        if succeeded:
            if pending.on_success is not None:
                pending.on_success(payload)
        elif pending.on_failure is not None:
            pending.on_failure(payload)
        elif self.reporter is not None:
            self.reporter(describe_failure(pending.what, payload))

    def write(
        self,
        what: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Exception], None] | None = None,
    ) -> Future[Any]:
        """In order, one at a time. `what` names the work for messages ("saving the policy")."""
        return self._submit(self.writes, what, fn, on_success, on_failure)

    def read(
        self,
        what: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[Exception], None] | None = None,
    ) -> Future[Any]:
        return self._submit(self.reads, what, fn, on_success, on_failure)

    def drain(self, msecs: int = 10000) -> bool:
        """Wait for every job (tests and the last moment of quitting only: this blocks)."""
        return bool(self.writes.waitForDone(msecs) and self.reads.waitForDone(msecs))

    @property
    def busy(self) -> bool:
        return bool(self.writes.activeThreadCount() or self.reads.activeThreadCount())
