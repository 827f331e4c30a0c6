"""Turns the sync engine's plain-Python notifications into Qt signals on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from portal_client.engine import Change, SyncEngine


class EngineBridge(QObject):
    items_changed = Signal(list)  # item ids
    state_changed = Signal()
    notices_changed = Signal()
    reference_changed = Signal()

    def __init__(self, engine: SyncEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        engine.subscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        # Called on engine threads; emitting here queues the call to GUI-thread receivers.
        if change.kind == "items":
            self.items_changed.emit(list(change.ids))
        elif change.kind == "state":
            self.state_changed.emit()
        elif change.kind == "notices":
            self.notices_changed.emit()
            self.items_changed.emit(list(change.ids))
        elif change.kind == "reference":
            self.reference_changed.emit()
