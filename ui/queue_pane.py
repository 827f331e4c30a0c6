"""The queues on the left, each with its open count (and, with SLA clocks, at risk/breached)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from portal_client.inbox import QUEUES

from .widgets import PlainLabel


def queue_text(label: str, counts: dict[str, int]) -> str:
    text = f"{label}   {counts.get('open', 0)}"
    extra = []
    if counts.get("at_risk"):
        extra.append(f"{counts['at_risk']} at risk")
    if counts.get("breached"):
        extra.append(f"{counts['breached']} overdue")
    return text + (f"  ({', '.join(extra)})" if extra else "")


class QueuePane(QWidget):
    queue_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        title = PlainLabel("Queues", selectable=False)
        title.setObjectName("paneTitle")
        layout.addWidget(title)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Queues")
        for key, label in QUEUES:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.list.addItem(item)
        self.list.currentItemChanged.connect(self._changed)
        layout.addWidget(self.list)

    def _changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.queue_selected.emit(current.data(Qt.ItemDataRole.UserRole))

    def select(self, key: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.list.setCurrentRow(row)
                return

    def current(self) -> str:
        item = self.list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else "mine"

    def set_counts(self, counts: dict[str, dict[str, int]]) -> None:
        labels = dict(QUEUES)
        for row in range(self.list.count()):
            item = self.list.item(row)
            key = item.data(Qt.ItemDataRole.UserRole)
            item.setText(queue_text(labels[key], counts.get(key, {})))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, item.text())

    def step(self, delta: int) -> None:
        row = (self.list.currentRow() + delta) % self.list.count()
        self.list.setCurrentRow(row)
