"""The application: builds the object graph once and passes collaborators through constructors.

Sign-in runs off the GUI thread; after it, the sync engine starts, the main window opens from
the cache at once, and syncs in the background. Shutdown stops timers, drains workers, stops the
engine, closes the cache, then quits.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication

from portal_client.credentials import CredentialStore
from portal_client.engine import SyncEngine
from portal_client.errors import (
    InsecureServerUrl,
    Offline,
    PortalError,
    SignInRequired,
    Throttled,
    TlsError,
    Unauthorized,
)
from portal_client.inbox import Alerts, Inbox
from portal_client.session import SignedIn, sign_in

from .bridge import EngineBridge
from .demo import DemoPortal
from .ops import Operations
from .services import DeskServices

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.sign_in import SignInDialog

log = logging.getLogger(__name__)


def sign_in_message(exc: Exception) -> str:
    """What to tell a person whose sign-in failed."""
    if isinstance(exc, Unauthorized):
        return "Wrong username or password."
    if isinstance(exc, Throttled):
        minutes = max(1, round(exc.retry_after / 60))
        return (
            f"This account is locked after too many failed attempts. Try again in about "
            f"{minutes} minute{'s' if minutes != 1 else ''}."
        )
    if isinstance(exc, TlsError):
        return (
            "The server's certificate could not be verified. Check the address; if it is "
            "right, ask your IT contact about the server's certificate."
        )
    if isinstance(exc, Offline):
        return "The server cannot be reached. Check the address and your network connection."
    if isinstance(exc, InsecureServerUrl | SignInRequired | PortalError):
        return exc.message
    return f"Sign-in failed unexpectedly ({type(exc).__name__})."


class DesktopApp(QObject):
    def __init__(
        self,
        qapp: QApplication,
        *,
        demo: DemoPortal | None = None,
        data_dir: Path | None = None,
        settings: QSettings | None = None,
        credentials_backend: object | None = None,
    ) -> None:
        super().__init__()
        self.qapp = qapp
        self.demo = demo
        self.data_dir = data_dir or (demo.data_dir if demo else None)
        self.settings = settings or QSettings()
        self.credentials_backend = credentials_backend or (demo.keyring if demo else None)
        self.ops = Operations(self)
        import resources

        qapp.setStyleSheet(resources.read_text("style.qss"))
        self.dialog: SignInDialog | None = None
        self.window: MainWindow | None = None
        self.services: DeskServices | None = None
        qapp.aboutToQuit.connect(self.shutdown)

    def start(self) -> None:
        self.show_sign_in()

    def show_sign_in(self) -> None:
        from ui.sign_in import SignInDialog

        server = self.demo.url if self.demo else str(self.settings.value("server", ""))
        username = "" if self.demo else str(self.settings.value(f"last_user/{server}", ""))
        self.dialog = SignInDialog(server, username, demo=self.demo is not None)
        self.dialog.submitted.connect(self._sign_in)
        self.dialog.rejected.connect(self._dialog_closed)
        self.dialog.open()

    def _dialog_closed(self) -> None:
        if self.window is None:
            self.qapp.quit()

    def _sign_in(self, server: str, username: str, password: str) -> None:
        backend = self.credentials_backend

        def work() -> SignedIn:
            credentials = CredentialStore(server, backend=backend) if backend else None  # type: ignore[arg-type]
            return sign_in(
                server, username, password, data_dir=self.data_dir, credentials=credentials
            )

        self.ops.read(work, on_success=self._signed_in, on_failure=self._sign_in_failed)

    def _sign_in_failed(self, exc: Exception) -> None:
        if self.dialog is not None:
            self.dialog.show_error(sign_in_message(exc))

    def _signed_in(self, signed: SignedIn) -> None:
        from ui.main_window import MainWindow

        engine = SyncEngine(signed.api, signed.cache, signed.user)
        bridge = EngineBridge(engine, self)
        self.services = DeskServices(
            user=signed.user,
            cache=signed.cache,
            engine=engine,
            bridge=bridge,
            ops=self.ops,
            inbox=Inbox(signed.cache, signed.user.id),
            alerts=Alerts(signed.cache, signed.user.id, signed.user.role),
            server=signed.api.base_url,
            sign_out=self.sign_out,
        )
        if not self.demo:
            self.settings.setValue("server", signed.api.base_url)
            self.settings.setValue(f"last_user/{signed.api.base_url}", signed.user.username)
        self.window = MainWindow(self.services, self.settings)
        if not signed.credentials.persistent:
            self.window.statusBar().showMessage(signed.credentials.status.problem or "", 15000)
        if signed.cache.report.integrity != "ok":
            self.window.statusBar().showMessage(
                f"The local copy was rebuilt: {signed.cache.report.integrity}", 15000
            )
        self.window.resize(1500, 900)
        self.window.show()
        if self.dialog is not None:
            self.dialog.accept()
            self.dialog = None
        engine.start()

    def sign_out(self) -> None:
        services = self.services
        if services is None:
            return
        services.engine.stop()
        api = services.engine.api
        self.ops.write(api.logout)
        self.ops.drain()
        services.cache.close()
        window, self.window, self.services = self.window, None, None
        if window is not None:
            window.hide()
            window.deleteLater()
        self.show_sign_in()

    def shutdown(self) -> None:
        if self.window is not None:
            self.window.save_layout()
        if self.services is not None:
            self.services.engine.stop()
        self.ops.drain()
        if self.services is not None:
            self.services.cache.close()
            self.services = None
        if self.demo is not None:
            self.demo.stop()
            self.demo = None


def run_gui(args: argparse.Namespace) -> int:
    QApplication.setOrganizationName("TriageDesk")
    QApplication.setApplicationName("Triage Desk")
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    demo = None
    if args.demo:
        demo = DemoPortal()
        print("starting the demo practice…", file=sys.stderr)
        demo.start()
    desktop = DesktopApp(qapp, demo=demo, data_dir=args.data_dir)
    _quit_on_signals(qapp)
    desktop.start()
    return int(qapp.exec())


def _quit_on_signals(qapp: QApplication) -> None:
    """Ctrl+C in the terminal (or a service stop) quits cleanly: the layout is saved, the
    engine stopped, the cache closed and a demo's temporary folder removed."""
    import signal

    from PySide6.QtCore import QTimer

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: qapp.quit())
    # Python only runs signal handlers between bytecodes: wake it now and then.
    waker = QTimer(qapp)
    waker.timeout.connect(lambda: None)
    waker.start(250)
