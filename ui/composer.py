"""Writing to the patient or a note for colleagues: canned replies, what happens after a reply,
and the text itself."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal_client.templates import fill, placeholders, templates_for
from triage_core.actions import ReplyThen
from triage_core.permissions import Decision


def enable(control: QWidget, decision: Decision) -> None:
    """Enabled when allowed; otherwise disabled, saying why (tooltip and screen reader)."""
    control.setEnabled(decision.allowed)
    reason = "" if decision.allowed else decision.reason
    control.setToolTip(reason)
    control.setAccessibleDescription(reason)


class Composer(QWidget):
    """Emits `reply_requested(action)` and `note_requested(action)` with wire-form actions."""

    reply_requested = Signal(dict)
    note_requested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.template = QComboBox(self)
        self.template.setAccessibleName("Canned reply")
        self.template.activated.connect(self._apply_template)
        self.then = QComboBox(self)
        self.then.setAccessibleName("After replying")
        self.then.addItem("Keep open", None)
        for then in ReplyThen:
            self.then.addItem(then.word.capitalize(), then.value)
        bar.addWidget(self.template, 1)
        bar.addWidget(self.then)
        layout.addLayout(bar)
        self.text = QPlainTextEdit(self)
        self.text.setPlaceholderText("Write a reply to the patient, or an internal note")
        self.text.setAccessibleName("Message")
        self.text.setMaximumHeight(120)
        layout.addWidget(self.text)
        send = QHBoxLayout()
        self.reply_button = QPushButton("Send reply (Ctrl+Enter)", self)
        self.note_button = QPushButton("Add internal note", self)
        self.reply_button.clicked.connect(self.send_reply)
        self.note_button.clicked.connect(self.add_note)
        send.addStretch(1)
        send.addWidget(self.note_button)
        send.addWidget(self.reply_button)
        layout.addLayout(send)
        self._values: dict[str, str] = {}

    def prepare(
        self,
        item: dict[str, Any],
        patient: dict[str, Any] | None,
        me: str,
        policy: dict[str, Any],
        reply: Decision,
        note: Decision,
    ) -> None:
        """Templates for this kind of item, and what may be sent now."""
        self._values = placeholders(item, patient, me, policy)
        self.template.clear()
        self.template.addItem("Canned reply…", None)
        for template in templates_for(policy, item["kind"]):
            self.template.addItem(template["title"], template["body"])
        for control in (self.reply_button, self.then, self.template):
            enable(control, reply)
        enable(self.note_button, note)

    def written(self) -> str:
        return self.text.toPlainText().strip()

    def clear(self) -> None:
        self.text.clear()

    def send_reply(self) -> None:
        text = self.written()
        if not text or not self.reply_button.isEnabled():
            return
        action: dict[str, Any] = {"type": "reply", "body": text}
        if self.then.currentData():
            action["then"] = self.then.currentData()
        self.reply_requested.emit(action)
        self.text.clear()
        self.then.setCurrentIndex(0)

    def add_note(self) -> None:
        text = self.written()
        if text and self.note_button.isEnabled():
            self.note_requested.emit({"type": "note", "body": text})
            self.text.clear()

    def _apply_template(self, index: int) -> None:
        body = self.template.itemData(index)
        if body:
            self.text.setPlainText(fill(body, self._values))
            self.text.setFocus()

    def reuse(self, text: str) -> None:
        self.text.setPlainText(text)
        self.text.setFocus()
