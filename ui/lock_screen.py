"""The lock screen: what covers the window after idle minutes or Ctrl+L. It shows no patient
data at all: who is signed in, a password box, Switch user, and at most "Urgent work is
waiting"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .widgets import PlainLabel


class LockScreen(QWidget):
    """Emits `unlock_requested(password)` and `switch_user_requested()`; the controller
    answers with `show_error`, `busy` and `set_urgent`."""

    unlock_requested = Signal(str)
    switch_user_requested = Signal()

    def __init__(self, display_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAccessibleName("Triage Desk is locked")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        box = QFrame(self)
        box.setObjectName("lockBox")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setMinimumWidth(420)
        box.setMaximumWidth(520)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        self.title = PlainLabel("Triage Desk is locked", box, selectable=False)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.who = PlainLabel(
            f"{display_name} is signed in. Enter your password to go on.", box, selectable=False
        )
        layout.addWidget(self.who)
        self.urgent = PlainLabel("Urgent work is waiting.", box, selectable=False)
        self.urgent.setObjectName("error")
        self.urgent.setAccessibleName("Urgent work is waiting")
        self.urgent.hide()
        layout.addWidget(self.urgent)
        self.password = QLineEdit(box)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.setAccessibleName("Password")
        self.password.returnPressed.connect(self._submit)
        layout.addWidget(self.password)
        self.error = PlainLabel("", box, selectable=False)
        self.error.setObjectName("error")
        self.error.setAccessibleName("Unlock problem")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        self.switch_user = QPushButton("Switch user…", box)
        self.switch_user.setAccessibleName("Switch user")
        self.switch_user.setToolTip(
            "Sign out here so that someone else can sign in. Anything you did that has not "
            "reached the server yet stays on this computer and goes out at your next sign-in."
        )
        self.switch_user.clicked.connect(self.switch_user_requested)
        self.unlock_button = QPushButton("Unlock", box)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._submit)
        buttons.addWidget(self.switch_user)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        layout.addLayout(buttons)
        self.note = PlainLabel(
            "Sync goes on while the screen is locked. Switch user keeps your unsent work on "
            "this computer for your next sign-in.",
            box,
            selectable=False,
        )
        self.note.setObjectName("hint")
        layout.addWidget(self.note)
        row.addWidget(box, 2)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def _submit(self) -> None:
        password = self.password.text()
        if not password:
            self.show_error("Enter your password.")
            return
        self.password.clear()
        self.busy(True)
        self.unlock_requested.emit(password)

    def reset(self) -> None:
        """Freshly locked: empty box, no message, focus in the password box."""
        self.password.clear()
        self.error.hide()
        self.urgent.hide()
        self.busy(False)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def busy(self, busy: bool) -> None:
        self.unlock_button.setEnabled(not busy)
        self.password.setEnabled(not busy)
        self.unlock_button.setText("Checking…" if busy else "Unlock")

    def show_error(self, message: str) -> None:
        self.busy(False)
        self.error.setText(message)
        self.error.show()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_urgent(self, waiting: bool) -> None:
        self.urgent.setVisible(waiting)
