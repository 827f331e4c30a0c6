"""Denying a refill: why (always), and the message the patient gets, shown and editable before
it goes (text that reaches the patient is always explicit)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QWidget,
)

from triage_core.vocabulary import DenialReason

from .widgets import PlainLabel


class DenyDialog(QDialog):
    """Emits `denied(reason, message)` (message "" when the clinician clears it)."""

    denied = Signal(str, str)

    def __init__(
        self, message_for: Callable[[str], str], written: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deny refill")
        self._message_for = message_for
        self._edited = bool(written)
        layout = QFormLayout(self)
        self.reason = QComboBox(self)
        self.reason.setAccessibleName("Why is it denied")
        for reason in DenialReason:
            self.reason.addItem(reason.word, reason.value)
        layout.addRow("Why", self.reason)
        self.message = QPlainTextEdit(self)
        self.message.setObjectName("denialMessage")
        self.message.setProperty("audience", "patient")
        self.message.setAccessibleName("Message to the patient")
        self.message.setPlainText(written or message_for(self.reason.currentData()))
        self.message.textChanged.connect(self._typed)
        layout.addRow(PlainLabel("To the patient — they will read this", self, selectable=False))
        layout.addRow(self.message)
        self.reason.currentIndexChanged.connect(self._reason_changed)
        self.buttons = QDialogButtonBox(self)
        self.deny_button = self.buttons.addButton(
            "Deny and send", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._deny)
        self.buttons.rejected.connect(self.reject)
        layout.addRow(self.buttons)
        self.resize(520, 300)

    def _typed(self) -> None:
        self._edited = True

    def _reason_changed(self) -> None:
        """A new reason brings its message, unless the clinician wrote their own."""
        if not self._edited:
            self.message.blockSignals(True)
            self.message.setPlainText(self._message_for(self.reason.currentData()))
            self.message.blockSignals(False)
        self.deny_button.setText(
            "Deny and send" if self.message.toPlainText().strip() else "Deny (no message)"
        )

    def _deny(self) -> None:
        self.denied.emit(str(self.reason.currentData()), self.message.toPlainText().strip())
        self.accept()
