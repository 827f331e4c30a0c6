"""The idle lock: after the practice's idle minutes (or Ctrl+L) the lock screen covers the
window and nothing of a patient stays on screen; the password (the server's word, or offline
the cache's verifier) opens it again; five wrong passwords in a row sign the desk out.

Locking hides the panes (the stacked page is switched, so they are not merely covered), the
menus and status bar, every dialog the window owns, and turns the tray into "Triage Desk —
locked"; sync and the outbox go on underneath. Nothing here waits on the network: the
password is checked on the write lane and the answer comes back as a callback.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from desktop.idle import IdleWatch
from portal_client.unlock import Outcome, UnlockAnswer
from triage_core.sessions import UNLOCK_TRIES

if TYPE_CHECKING:
    from desktop.services import DeskServices

    from .main_window import MainWindow

LOCKED_TITLE = "Triage Desk – locked"


def _owned_by(window: QWidget, widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if parent is window:
            return True
        parent = parent.parentWidget()
    return False


class LockController(QObject):
    locked_changed = Signal(bool)

    def __init__(self, window: MainWindow, services: DeskServices) -> None:
        super().__init__(window)
        self.window = window
        self.services = services
        self.screen = window.lock_screen
        self.locked = False
        self.wrong_tries = 0
        self._hidden: list[QWidget] = []
        self._disabled: list[QAction | QShortcut] = []
        self._title = window.windowTitle()
        app = QApplication.instance()
        assert app is not None
        self._app = app
        self.idle = IdleWatch(app, services.idle_lock_timeout_ms, self)
        # A dialog the window opens while locked (an answer arriving from a worker) waits
        # hidden for the unlock too; hidden right after its show event, from the event loop.
        self._late: list[QWidget] = []
        self._hide_late = QTimer(self)
        self._hide_late.setObjectName("lock-hide-late")
        self._hide_late.setSingleShot(True)
        self._hide_late.setInterval(0)
        self._hide_late.timeout.connect(self._hide_late_windows)
        self.idle.idled.connect(self.lock)
        self.screen.unlock_requested.connect(self._check_password)
        self.screen.switch_user_requested.connect(self.switch_user)
        window.urgent_checked.connect(self._urgent_checked)

    def start(self) -> None:
        self.idle.resume()

    def stop(self) -> None:
        self.idle.stop()
        self._hide_late.stop()
        self._app.removeEventFilter(self)

    # ---- locking -----------------------------------------------------------------------------

    def lock(self) -> None:
        if self.locked:
            return
        self.locked = True
        self.idle.stop()
        window = self.window
        self._title = window.windowTitle()
        self._hidden = [
            widget
            for widget in QApplication.topLevelWidgets()
            if widget.isVisible() and _owned_by(window, widget)
        ]
        for widget in self._hidden:
            widget.hide()
        self._app.installEventFilter(self)
        things: list[QAction | QShortcut] = [*window.findChildren(QShortcut)]
        things += self._menu_actions()
        self._disabled = [thing for thing in things if thing.isEnabled()]
        for thing in self._disabled:
            thing.setEnabled(False)
        window.stack.setCurrentWidget(self.screen)
        window.menuBar().hide()
        window.statusBar().clearMessage()
        window.statusBar().hide()
        window.setWindowTitle(LOCKED_TITLE)
        window.notifier.lock()
        self.screen.reset()
        self.locked_changed.emit(True)

    def unlock(self) -> None:
        if not self.locked:
            return
        self.locked = False
        self.wrong_tries = 0
        self._app.removeEventFilter(self)
        self._hide_late.stop()
        self._hide_late_windows()
        window = self.window
        window.stack.setCurrentWidget(window.splitter)
        window.menuBar().show()
        window.statusBar().show()
        for thing in self._disabled:
            thing.setEnabled(True)
        for widget in self._hidden:
            with contextlib.suppress(RuntimeError):  # (one deleted meanwhile stays gone)
                widget.show()
        self._hidden, self._disabled = [], []
        window.setWindowTitle(self._title)
        window.notifier.unlock()
        self.idle.resume()
        self.locked_changed.emit(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """(Installed only while locked.) A window of ours that shows now is hidden again."""
        if (
            event.type() == QEvent.Type.Show
            and isinstance(watched, QWidget)
            and watched.isWindow()
            and _owned_by(self.window, watched)
        ):
            self._late.append(watched)
            self._hide_late.start()
        return False

    def _hide_late_windows(self) -> None:
        late, self._late = self._late, []
        for widget in late:
            if self.locked and widget.isVisible():
                widget.hide()
                self._hidden.append(widget)

    def _menu_actions(self) -> list[QAction]:
        actions: list[QAction] = []
        for top in self.window.menuBar().actions():
            menu = top.menu()
            if isinstance(menu, QMenu):
                actions += [a for a in menu.actions() if not a.isSeparator()]
            else:
                actions.append(top)
        return actions

    def _urgent_checked(self, count: int) -> None:
        if self.locked and count:
            self.screen.set_urgent(True)

    # ---- unlocking ---------------------------------------------------------------------------

    def _check_password(self, password: str) -> None:
        self.services.unlock(password, self._answered, self._failed)

    def _answered(self, answer: UnlockAnswer) -> None:
        if not self.locked:
            return
        if answer.unlocked:
            self.unlock()
            if answer.outcome is Outcome.OFFLINE:
                self.window.say("Unlocked offline: your password was checked on this computer.")
            return
        if answer.outcome is Outcome.UNCHECKABLE:
            self.screen.show_error(
                "The server cannot be reached, and this computer has no way yet to check your "
                "password without it. Try again when the network is back, or switch user."
            )
            return
        self.wrong_tries += 1
        left = UNLOCK_TRIES - self.wrong_tries
        if left <= 0:
            self.sign_out(
                f"Signed out after {UNLOCK_TRIES} wrong passwords on the lock screen. "
                "Unsent work stays on this computer for the next sign-in."
            )
            return
        tries = f"{left} more {'try' if left == 1 else 'tries'} before Triage Desk signs you out."
        if answer.outcome is Outcome.THROTTLED:
            minutes = max(1, round(answer.retry_after / 60))
            self.screen.show_error(
                f"The server has locked this account for about {minutes} minute"
                f"{'s' if minutes != 1 else ''} after too many failed attempts. {tries}"
            )
        else:
            self.screen.show_error(f"Wrong password. {tries}")

    def _failed(self, exc: Exception) -> None:
        message = getattr(exc, "message", None) or type(exc).__name__
        self.screen.show_error(f"Your password could not be checked: {message}")

    # ---- leaving -----------------------------------------------------------------------------

    def switch_user(self) -> None:
        """A shared PC: this person is signed out here (cache closed, still encrypted, unsent
        work kept in it) and the sign-in window opens for the next person."""
        self.sign_out(None, next_person=True)

    def sign_out(self, reason: str | None, *, next_person: bool = False) -> None:
        sign_out = self.services.sign_out
        if sign_out is not None:
            sign_out(reason, next_person=next_person)
