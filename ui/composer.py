"""Writing to the patient or a note for colleagues: two modes that never look alike.

The audience is always explicit. "To the patient" (blue, solid frame) sends a reply the patient
reads; "Internal note" (amber, dashed frame) stays with the staff. The heading over the text
says which, and the send button says it again. Text typed before a decision goes with the
decision in the same way: as a message to the patient or as an internal note, by the mode the
text was written in (the decision buttons say which, see `ItemActions.set_attachment`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
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

from .widgets import PlainLabel

TO_PATIENT = "patient"
INTERNAL = "internal"
HEADINGS = {
    TO_PATIENT: "To the patient — they will read this",
    INTERNAL: "Internal note — staff only, never shown to the patient",
}
PLACEHOLDERS = {
    TO_PATIENT: "Write to the patient…",
    INTERNAL: "Write a note for colleagues…",
}


def enable(control: QWidget, decision: Decision) -> None:
    """Enabled when allowed; otherwise disabled, saying why (tooltip and screen reader)."""
    control.setEnabled(decision.allowed)
    reason = "" if decision.allowed else decision.reason
    control.setToolTip(reason)
    control.setAccessibleDescription(reason)


class Composer(QWidget):
    """Emits `reply_requested(action)` and `note_requested(action)` with wire-form actions, and
    `attachment_changed(audience)` ("" when empty) as the text or the mode changes."""

    reply_requested = Signal(dict)
    note_requested = Signal(dict)
    attachment_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        modes = QHBoxLayout()
        self.to_patient = QPushButton("To the patient", self)
        self.to_patient.setObjectName("audiencePatient")
        self.internal = QPushButton("Internal note", self)
        self.internal.setObjectName("audienceInternal")
        self.mode_group = QButtonGroup(self)
        for button in (self.to_patient, self.internal):
            button.setCheckable(True)
            self.mode_group.addButton(button)
            modes.addWidget(button)
        self.to_patient.clicked.connect(lambda: self.set_mode(TO_PATIENT))
        self.internal.clicked.connect(lambda: self.set_mode(INTERNAL))
        modes.addStretch(1)
        self.template = QComboBox(self)
        self.template.setMinimumWidth(150)
        self.template.setAccessibleName("Canned reply")
        self.template.activated.connect(self._apply_template)
        self.then = QComboBox(self)
        self.then.setAccessibleName("After replying")
        self.then.addItem("Keep open", None)
        for then in ReplyThen:
            self.then.addItem(then.word.capitalize(), then.value)
        modes.addWidget(self.template)
        modes.addWidget(self.then)
        layout.addLayout(modes)
        self.heading = PlainLabel("", self, selectable=False)
        self.heading.setObjectName("audienceHeading")
        layout.addWidget(self.heading)
        self.text = QPlainTextEdit(self)
        self.text.setAccessibleName("Message")
        self.text.setMaximumHeight(120)
        self.text.textChanged.connect(self._announce)
        layout.addWidget(self.text)
        send = QHBoxLayout()
        self.reply_button = QPushButton("Send to the patient (Ctrl+Enter)", self)
        self.reply_button.setObjectName("sendToPatient")
        self.note_button = QPushButton("Add internal note (Ctrl+Enter)", self)
        self.note_button.setObjectName("addInternalNote")
        self.reply_button.clicked.connect(self.send_reply)
        self.note_button.clicked.connect(self.add_note)
        send.addStretch(1)
        send.addWidget(self.note_button)
        send.addWidget(self.reply_button)
        layout.addLayout(send)
        self._values: dict[str, str] = {}
        self._reply_allowed = True
        self.mode = ""
        self.set_mode(TO_PATIENT)

    # ---- the audience ------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Write to the patient or an internal note: heading, colours, controls, placeholder."""
        if mode == TO_PATIENT and not self._reply_allowed:
            mode = INTERNAL  # a reply is not possible now (e.g. the item is done)
        if mode == self.mode:
            return
        self.mode = mode
        patient = mode == TO_PATIENT
        for button, on in ((self.to_patient, patient), (self.internal, not patient)):
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        self.heading.setText(HEADINGS[mode])
        self.heading.setProperty("audience", mode)
        self.text.setProperty("audience", mode)
        self.text.setPlaceholderText(PLACEHOLDERS[mode])
        self.text.setAccessibleDescription(HEADINGS[mode])
        for widget in (self.heading, self.text):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.template.setVisible(patient)
        self.then.setVisible(patient)
        self.reply_button.setVisible(patient)
        self.note_button.setVisible(not patient)
        self._announce()

    def attachment(self) -> str:
        """What a decision would carry now: "patient", "internal" or "" (nothing written)."""
        return self.mode if self.written() else ""

    def _announce(self) -> None:
        self.attachment_changed.emit(self.attachment())

    # ---- filling -----------------------------------------------------------------------------

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
        for control in (self.reply_button, self.then, self.template, self.to_patient):
            enable(control, reply)
        enable(self.note_button, note)
        enable(self.internal, note)
        self._reply_allowed = reply.allowed
        if not reply.allowed and self.mode == TO_PATIENT:
            self.set_mode(INTERNAL)

    def set_value(self, name: str, value: str) -> None:
        """A placeholder's value as the person sets it now (the new appointment time)."""
        self._values[name] = value

    def values(self) -> dict[str, str]:
        """The placeholders' values for this item (patient, medication, staff, practice)."""
        return dict(self._values)

    def written(self) -> str:
        return self.text.toPlainText().strip()

    def clear(self) -> None:
        self.text.clear()

    def focus(self, mode: str) -> None:
        self.set_mode(mode)
        self.text.setFocus()

    # ---- sending -----------------------------------------------------------------------------

    def send(self) -> None:
        """Ctrl+Enter: send in the current mode."""
        if self.mode == TO_PATIENT:
            self.send_reply()
        else:
            self.add_note()

    def send_reply(self) -> None:
        text = self.written()
        if not text or not self.reply_button.isEnabled() or self.mode != TO_PATIENT:
            return
        action: dict[str, Any] = {"type": "reply", "body": text}
        if self.then.currentData():
            action["then"] = self.then.currentData()
        self.reply_requested.emit(action)
        self.text.clear()
        self.then.setCurrentIndex(0)

    def add_note(self) -> None:
        text = self.written()
        if text and self.note_button.isEnabled() and self.mode == INTERNAL:
            self.note_requested.emit({"type": "note", "body": text})
            self.text.clear()

    def _apply_template(self, index: int) -> None:
        body = self.template.itemData(index)
        if body:
            self.set_mode(TO_PATIENT)  # a canned reply is written to the patient
            self.text.setPlainText(fill(body, self._values))
            self.text.setFocus()

    def reuse(self, text: str, audience: str | None = None) -> None:
        """Put refused text back, in the mode it was written in."""
        if audience in (TO_PATIENT, INTERNAL):
            self.set_mode(audience)
        self.text.setPlainText(text)
        self.text.setFocus()
