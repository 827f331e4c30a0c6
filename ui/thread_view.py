"""An item's conversation and history, oldest first. Every text is plain text."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from portal_client.templates import local_time
from triage_core.vocabulary import AuthorKind, EntryType

from .red_flags import FlaggedMessage
from .widgets import PlainLabel

# Every entry says who can read it: the patient's words, what went to the patient, what stayed
# with the staff.
HEADINGS = {
    EntryType.PATIENT_MESSAGE: "{name} wrote",
    EntryType.STAFF_REPLY: "To the patient · reply from {name}",
    EntryType.INTERNAL_NOTE: "Internal note · staff only · {name}",
}


def author_name(author: dict[str, Any], staff: dict[str, str]) -> str:
    kind = author.get("kind")
    if kind == AuthorKind.PATIENT:
        return "Patient"
    if kind == AuthorKind.SYSTEM:
        return AuthorKind.SYSTEM.word
    return staff.get(author.get("id") or "", "Staff")


class ThreadView(QScrollArea):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setAccessibleName("Conversation")
        self.box = QWidget()
        self.entries = QVBoxLayout(self.box)
        self.entries.addStretch(1)
        self.setWidget(self.box)

    def show_entries(
        self, entries: list[dict[str, Any]], staff: dict[str, str], timezone: str | None
    ) -> None:
        while self.entries.count() > 1:
            taken = self.entries.takeAt(0)
            old = taken.widget() if taken is not None else None
            if old is not None:
                old.deleteLater()
        for entry in entries:
            label = self._label(entry, staff, timezone)
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            self.entries.insertWidget(self.entries.count() - 1, label)

    @staticmethod
    def _label(entry: dict[str, Any], staff: dict[str, str], timezone: str | None) -> QWidget:
        name = author_name(entry.get("author") or {}, staff)
        when = local_time(entry.get("created_at"), timezone)
        data = entry.get("data") or {}
        sending = " (sending…)" if data.get("pending") else ""
        if entry.get("type") == EntryType.EVENT:
            what = entry.get("body") or data.get("action", "")
            if data.get("action") == "set_priority" and data.get("reason"):
                what = f"{what}: {data['reason']}"  # why a red-flag item was marked routine
            label = PlainLabel(f"{name} · {what} · {when}{sending}")
            label.setObjectName("eventLine")
            return label
        heading = HEADINGS.get(entry.get("type", ""), "{name}").format(name=name)
        if data.get("automatic") == "safety_reply":
            heading = "Automatic safety reply to the patient (sent at once)"
        flags = data.get("red_flags") or []
        if entry.get("type") == EntryType.PATIENT_MESSAGE and flags:
            phrases = [str(flag.get("phrase", "")) for flag in flags]
            return FlaggedMessage(f"{heading} · {when}{sending}", entry.get("body", ""), phrases)
        label = PlainLabel(f"{heading} · {when}{sending}\n{entry.get('body', '')}")
        label.setObjectName(str(entry.get("type")))
        label.setFrameShape(QFrame.Shape.StyledPanel)
        return label
