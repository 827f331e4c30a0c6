"""The keyboard shortcuts, listed where staff can find them (F1)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SHORTCUTS = (
    ("J  or  Ctrl+Down", "Next item"),
    ("K  or  Ctrl+Up", "Previous item"),
    ("C", "Claim the item"),
    ("R", "Write to the patient"),
    ("N", "Write an internal note"),
    ("Ctrl+Enter", "Send what is written, to the audience shown"),
    ("Shift+J / Shift+K, Shift+click", "Choose several items (refills to sign together)"),
    ("Ctrl+Shift+A", "Sign the chosen refills that pass protocol (clinicians)"),
    ("D", "Mark done"),
    ("Ctrl+F", "Search"),
    ("Ctrl+1 … Ctrl+7", "Switch queue (My items … Done)"),
    ("Ctrl+PgDown / Ctrl+PgUp", "Next / previous queue"),
    ("Ctrl+L", "Lock the screen now (your password opens it again)"),
    ("F1", "This list"),
)


class HelpDialog(QDialog):
    def __init__(
        self, shortcuts: tuple[tuple[str, str], ...], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        table = QTableWidget(len(shortcuts), 2, self)
        table.setHorizontalHeaderLabels(["Keys", "Does"])
        table.setAccessibleName("Keyboard shortcuts")
        for row, (keys, does) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(does))
        table.resizeColumnsToContents()
        table.verticalHeader().setVisible(False)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(420, 380)
