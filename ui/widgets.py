"""Small widgets used everywhere. Anything from a patient or the server is plain text."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QWidget


class PlainLabel(QLabel):
    """A QLabel that never interprets its text as HTML (QLabel guesses otherwise)."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        *,
        wrap: bool = True,
        selectable: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(wrap)
        if selectable:
            self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:
        self.setTextFormat(Qt.TextFormat.PlainText)
        super().setText(text)


def elide(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ask_reason(
    parent: QWidget, title: str, question: str, ok_text: str, on_answer: Callable[[str], None]
) -> QInputDialog:
    """A non-modal question for a reason (no nested event loop): `on_answer` gets the words,
    stripped, when they are given; a blank answer or Cancel does nothing."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(question)
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    dialog.setOkButtonText(ok_text)
    dialog.textValueSelected.connect(lambda text: on_answer(text.strip()) if text.strip() else None)
    dialog.open()
    return dialog
