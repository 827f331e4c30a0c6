"""Showing red flags: a banner naming what matched, and the patient's message with the matched
words highlighted. Plain text throughout (the highlight is a text format, never HTML)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QFrame, QTextEdit, QVBoxLayout, QWidget

from triage_core.red_flags import red_flags_of
from triage_core.vocabulary import Priority, RedFlagCategory

from .widgets import PlainLabel

SHOWN = 3
HIGHLIGHT = QColor("#ffd7d2")


def flag_lines(item: dict[str, Any]) -> list[str]:
    """`Urgent: "swallowed a button battery" — ingestion, overdose or poisoning`, newest first,
    each phrase once."""
    lines: list[str] = []
    # (staff may lower a red-flag item, with a reason: the flags stay, no longer "urgent")
    lead = "Urgent" if item.get("priority") == Priority.URGENT else "Red flag, marked routine"
    for flag in reversed(red_flags_of(item)):
        category = RedFlagCategory.describe(flag.get("category", ""))
        phrase = flag.get("phrase", "")
        # (a header has the category, not the patient's words)
        line = (
            f"{lead}: \u201c{phrase}\u201d \u2014 {category}" if phrase else f"{lead}: {category}"
        )
        if line not in lines:
            lines.append(line)
    if len(lines) > SHOWN:
        lines = [*lines[:SHOWN], f"and {len(lines) - SHOWN} more in the messages below"]
    return lines


class RedFlagBanner(QFrame):
    """Above an item with red flags: what the screening matched, in the patient's words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("redFlag")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        self.text = PlainLabel("", self)
        self.text.setObjectName("redFlagText")
        self.text.setAccessibleName("Red flags")
        layout.addWidget(self.text)
        self.hide()

    def show_item(self, item: dict[str, Any]) -> None:
        lines = flag_lines(item)
        self.text.setText("\n".join(lines))
        self.setVisible(bool(lines))


def phrase_spans(text: str, phrases: list[str]) -> list[tuple[int, int]]:
    """Where each phrase occurs in the text (case-insensitive), in order."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for phrase in dict.fromkeys(p.lower() for p in phrases if p):
        start = lowered.find(phrase)
        while start >= 0:
            spans.append((start, start + len(phrase)))
            start = lowered.find(phrase, start + len(phrase))
    return sorted(spans)


class FlaggedMessage(QTextEdit):
    """A patient's message with red flags: read-only plain text, the matched words marked."""

    def __init__(self, heading: str, body: str, phrases: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("flaggedMessage")
        self.setReadOnly(True)
        self.setAcceptRichText(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setPlainText(f"{heading}\n{body}")
        self.setAccessibleName("Patient message with red flags")
        offset = len(heading) + 1
        self.marked = [(a + offset, b + offset) for a, b in phrase_spans(body, phrases)]
        self.marked_text = [self.toPlainText()[a:b] for a, b in self.marked]
        selections = []
        for start, end in self.marked:
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            style = QTextCharFormat()
            style.setBackground(HIGHLIGHT)
            style.setFontWeight(700)
            selection.cursor = cursor
            selection.format = style
            selections.append(selection)
        self.setExtraSelections(selections)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._fit()

    def _fit(self) -> None:
        """As tall as its text at this width (the thread scrolls, not the message)."""
        self.document().setTextWidth(self.viewport().width())
        margins = self.contentsMargins()
        height = int(self.document().size().height()) + margins.top() + margins.bottom() + 2
        if self.height() != height:
            self.setFixedHeight(height)
