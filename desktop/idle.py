"""Noticing that nobody has used the app for a while (the idle lock's clock).

One application-wide event filter notes the time of each keyboard, mouse, wheel, touch or
tablet input (a float assignment: the filter sees every event of the app and must stay cheap),
and one single-shot QTimer checks when the idle time could have run out, re-arming itself for
the rest. No polling thread. The timeout is asked for each time the timer is armed, so a new
practice policy applies within a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TabletPress,
        QEvent.Type.TabletMove,
    }
)
RECHECK_MS = 60_000  # at least this often, so a shorter policy timeout applies soon


class IdleWatch(QObject):
    """Emits `idled` once when no input has come for `timeout_ms()`; `resume()` starts over."""

    idled = Signal()

    def __init__(
        self,
        app: QCoreApplication,
        timeout_ms: Callable[[], int],
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._timeout_ms = timeout_ms
        # Two clocks: the monotonic one ignores a changed wall clock, but on Linux and macOS it
        # stands still while the machine sleeps; the wall clock counts the sleep. Idle time is
        # the larger of the two, so a laptop opened after a night locks (errs toward locking).
        self._clocks: tuple[Callable[[], float], ...] = (
            (clock,) if clock is not None else (time.monotonic, time.time)
        )
        self._last_input = self._now()
        self._watching = False
        self._timer = QTimer(self)
        self._timer.setObjectName("idle-lock")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._check)

    @property
    def watching(self) -> bool:
        return self._watching

    def resume(self) -> None:
        """Start (or start again, after unlocking) counting idle time from now."""
        if not self._watching:
            self._app.installEventFilter(self)
            self._watching = True
        self._last_input = self._now()
        self._arm()

    def stop(self) -> None:
        """While locked and when the window goes: no filter, no timer."""
        if self._watching:
            self._app.removeEventFilter(self)
            self._watching = False
        self._timer.stop()

    def _now(self) -> tuple[float, ...]:
        return tuple(clock() for clock in self._clocks)

    def idle_ms(self) -> int:
        now = self._now()
        return int(max(a - b for a, b in zip(now, self._last_input, strict=True)) * 1000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            if self._watching and self.idle_ms() >= self._timeout_ms():
                # Input after the idle time ran out (the timer had not fired yet: the machine
                # slept) locks first; it does not count as activity.
                self._check()
            else:
                self._last_input = self._now()
        return False  # only watching: every event goes on as usual

    def _arm(self) -> None:
        remaining = self._timeout_ms() - self.idle_ms()
        self._timer.start(max(0, min(remaining, RECHECK_MS)))

    def _check(self) -> None:
        if not self._watching:
            return
        if self.idle_ms() >= self._timeout_ms():
            self.stop()
            self.idled.emit()
        else:
            self._arm()
