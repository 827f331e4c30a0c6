"""Sign-in: server (remembered), username, password; in demo mode, a role picker."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .widgets import PlainLabel

DEMO_ROLES = (
    ("Front desk", "frontdesk"),
    ("Nurse", "nurse"),
    ("Clinician", "doctor"),
    ("Admin", "admin"),
)


class SignInDialog(QDialog):
    """Emits `submitted(server, username, password)`; the app signs in off the GUI thread and
    calls `show_error` or closes the dialog."""

    submitted = Signal(str, str, str)

    def __init__(
        self,
        server: str = "",
        username: str = "",
        *,
        demo: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to Triage Desk")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.server = QLineEdit(server, self)
        self.server.setPlaceholderText("https://portal.your-practice.org")
        self.server.setAccessibleName("Server address")
        self.username = QLineEdit(username, self)
        self.username.setAccessibleName("Username")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        form.addRow("Server", self.server)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        layout.addLayout(form)
        if demo:
            hint = PlainLabel(
                "Demo practice: pick a role to try (password “demo”).", selectable=False
            )
            layout.addWidget(hint)
            roles = QHBoxLayout()
            for label, user in DEMO_ROLES:
                button = QPushButton(label, self)
                button.setAccessibleName(f"Sign in as {label.lower()}")
                button.clicked.connect(lambda _c=False, u=user: self._demo(u))
                roles.addWidget(button)
            layout.addLayout(roles)
            self.server.setReadOnly(True)
        self.error = PlainLabel("", self)
        self.error.setObjectName("error")
        self.error.setAccessibleName("Sign-in problem")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.sign_in = QPushButton("Sign in", self)
        self.sign_in.setDefault(True)
        self.sign_in.clicked.connect(self._submit)
        buttons.addWidget(self.sign_in)
        layout.addLayout(buttons)
        (self.password if username else self.username).setFocus(Qt.FocusReason.OtherFocusReason)

    def _demo(self, username: str) -> None:
        self.username.setText(username)
        self.password.setText("demo")
        self._submit()

    def _submit(self) -> None:
        server, username = self.server.text().strip(), self.username.text().strip()
        if not server or not username or not self.password.text():
            self.show_error("Enter the server address, your username and your password.")
            return
        self.busy(True)
        self.submitted.emit(server, username, self.password.text())

    def busy(self, busy: bool) -> None:
        self.sign_in.setEnabled(not busy)
        self.sign_in.setText("Signing in…" if busy else "Sign in")

    def show_error(self, message: str) -> None:
        self.busy(False)
        self.error.setText(message)
        self.error.show()
        self.password.selectAll()
        self.password.setFocus()
