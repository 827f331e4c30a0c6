"""Telling staff about work that needs them: the tray (its count and messages), or the status
bar where there is no tray. Plain text only, and never a patient's name or words: screens are
shared."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QStyle, QSystemTrayIcon, QWidget

from portal_client.inbox import Alert
from portal_client.urgent import Urgent
from triage_core.vocabulary import Kind, Priority

if TYPE_CHECKING:
    from desktop.services import Counts

SHOWN_AT_ONCE = 5
LOCKED_TOOLTIP = "Triage Desk — locked"
URGENT_WHILE_LOCKED = "Urgent work is waiting"
UNLOCK_TO_SEE = "Unlock Triage Desk to see it."


class Notifier(QObject):
    def __init__(self, window: QWidget, fallback: Callable[[str], None]) -> None:
        super().__init__(window)
        self.fallback = fallback  # the status bar
        self.shown: list[tuple[str, str]] = []
        self.tray: QSystemTrayIcon | None = None
        self.locked = False  # the idle lock: nothing but "Urgent work is waiting"
        self._tooltip = "Triage Desk"
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = window.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self.tray = QSystemTrayIcon(QIcon(icon), window)
            self.tray.show()

    @property
    def tooltip(self) -> str:
        """What the tray's tooltip says (or would say, where there is no tray)."""
        return LOCKED_TOOLTIP if self.locked else self._tooltip

    def set_counts(self, counts: Counts) -> None:
        self._tooltip = f"Triage Desk: {counts.urgent_new} new or urgent"
        if self.tray is not None:
            self.tray.setToolTip(self.tooltip)

    def lock(self) -> None:
        """A neutral tray, and any message on screen withdrawn (hiding the icon takes its
        balloon with it)."""
        self.locked = True
        if self.tray is not None:
            self.tray.setToolTip(self.tooltip)
            if self.tray.isVisible():
                self.tray.hide()
                self.tray.show()

    def unlock(self) -> None:
        self.locked = False
        if self.tray is not None:
            self.tray.setToolTip(self.tooltip)

    def notify(self, title: str, text: str) -> None:
        """The tray shows it where there is one; the status bar otherwise."""
        self.shown.append((title, text))
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10000)
        else:
            self.fallback(f"{title} – {text}")

    def urgent(self, waiting: list[Urgent]) -> None:
        """Unclaimed urgent work: its red-flag categories only, never the patient or the
        message (screens are shared)."""
        if not waiting:
            return
        if self.locked:  # no categories, no count: only that something waits
            self.notify(URGENT_WHILE_LOCKED, UNLOCK_TO_SEE)
            return
        if len(waiting) == 1:
            self.notify(
                f"Urgent: {waiting[0].words}",
                "A patient's message may describe an emergency. Nobody has claimed it yet.",
            )
            return
        words = list(dict.fromkeys(u.words for u in waiting))
        self.notify(f"{len(waiting)} urgent requests unclaimed", " · ".join(words))

    def clocks(self, alerts: list[Alert]) -> None:
        """A notice for each item I can act on that became at risk or overdue (none while
        locked: they are shown after unlocking)."""
        if self.locked:
            return
        for alert in alerts[:SHOWN_AT_ONCE]:
            title = "Overdue" if alert.state == "breached" else "At risk"
            what = (
                f"{Priority.describe(alert.priority).lower()} {Kind.describe(alert.kind).lower()}"
            )
            self.notify(
                f"{title}: an {what}" if what[0] in "aeiou" else f"{title}: a {what}",
                f"{alert.clock.replace('_', ' ')} · open Triage Desk to see it",
            )
        if len(alerts) > SHOWN_AT_ONCE:
            more = len(alerts) - SHOWN_AT_ONCE
            self.notify("More items need attention", f"{more} more at risk or overdue")

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
