"""The application: builds the object graph once and passes collaborators through constructors.

Sign-in runs on a worker (network, keyring, opening the cache, the first reads); then the main
window opens from the cache at once and the engine syncs in the background. Signing out and
quitting never wait on the GUI thread: the window goes at once, and the engine, the outbox and
the cache are closed on the write lane after every queued write.
"""

from __future__ import annotations

import argparse
import logging
import sys
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from portal_client.urgent import UrgentWatch

from .bridge import EngineBridge
from .ops import Operations
from .services import DeskServices, Reference
from .settings import LAST_USER, SERVER, DeskSettings

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.sign_in import SignInDialog

    from .demo import DemoPortal

log = logging.getLogger(__name__)
TEARDOWN_SECONDS = 60


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


@dataclass
class Session:
    """What a sign-in opens, made on a worker: plain objects, no widgets."""

    signed: SignedIn
    engine: SyncEngine
    inbox: Inbox
    alerts: Alerts
    urgent: UrgentWatch
    reference: Reference


def open_session(signed: SignedIn) -> Session:
    """The engine and the first reads of a signed-in user's cache (on a worker)."""
    cache = signed.cache
    reference = Reference.read(cache)
    return Session(
        signed,
        SyncEngine(signed.api, cache, signed.user),
        Inbox(cache, signed.user.id),
        Alerts(cache, signed.user.id, signed.user.role),
        UrgentWatch(cache, signed.user.role),
        reference,
    )


def close_session(engine: SyncEngine, *, logout: bool) -> None:
    """Stop syncing, end the server session if asked, close the cache (on a worker)."""
    engine.stop()
    if logout:
        try:
            engine.api.logout()
        except PortalError as exc:
            log.info("sign-out could not reach the server: %s", type(exc).__name__)
    engine.api.close()
    engine.cache.close()


class DesktopApp(QObject):
    def __init__(
        self,
        qapp: QApplication,
        *,
        demo: DemoPortal | None = None,
        data_dir: Path | None = None,
        settings: QSettings | None = None,
        credentials_backend: object | None = None,
        exit_on_close: bool = False,
        idle_lock_ms: int | None = None,
    ) -> None:
        super().__init__()
        self.qapp = qapp
        self.idle_lock_ms = idle_lock_ms  # instead of the policy's idle minutes (tests)
        self.exit_on_close = exit_on_close  # leave the event loop when the last window closes
        self.demo = demo
        self.data_dir = data_dir or (demo.data_dir if demo else None)
        self.settings = DeskSettings(settings or QSettings())
        self.credentials_backend = credentials_backend or (demo.keyring if demo else None)
        self.ops = Operations(self)
        import resources

        qapp.setStyleSheet(resources.read_text("style.qss"))
        self.dialog: SignInDialog | None = None
        self.window: MainWindow | None = None
        self.services: DeskServices | None = None
        self._teardown: Future[Any] | None = None
        self.quitting = False
        qapp.aboutToQuit.connect(self.shutdown)

    def start(self) -> None:
        self.show_sign_in()

    # ---- signing in --------------------------------------------------------------------------

    def show_sign_in(self, *, next_person: bool = False) -> None:
        from ui.sign_in import SignInDialog

        server = self.demo.url if self.demo else self.settings.get(SERVER)
        # On a shared PC the next person types their own name.
        blank = self.demo is not None or next_person
        username = "" if blank else self.settings.get(LAST_USER, server=server)
        self.dialog = SignInDialog(server, username, demo=self.demo is not None)
        self.dialog.submitted.connect(self._sign_in)
        self.dialog.rejected.connect(self._dialog_closed)
        self.dialog.open()

    def _dialog_closed(self) -> None:
        if self.window is None:
            self.request_quit()

    def _sign_in(self, server: str, username: str, password: str) -> None:
        backend = self.credentials_backend
        teardown = self._teardown

        def work() -> Session:
            if teardown is not None:  # the previous person's cache must be closed first
                teardown.result(TEARDOWN_SECONDS)
            credentials = CredentialStore(server, backend=backend) if backend else None  # type: ignore[arg-type]
            signed = sign_in(
                server, username, password, data_dir=self.data_dir, credentials=credentials
            )
            return open_session(signed)

        self.ops.read("signing in", work, self._signed_in, self._sign_in_failed)

    def _sign_in_failed(self, exc: Exception) -> None:
        if self.dialog is not None:
            self.dialog.show_error(sign_in_message(exc))

    def _signed_in(self, session: Session) -> None:
        from ui.main_window import MainWindow

        signed = session.signed
        bridge = EngineBridge(session.engine, self)
        self.services = DeskServices(
            user=signed.user,
            cache=signed.cache,
            engine=session.engine,
            bridge=bridge,
            ops=self.ops,
            inbox=session.inbox,
            server=signed.api.base_url,
            alerts=session.alerts,
            urgent=session.urgent,
            reference=session.reference,
            sign_out=self.sign_out,
            idle_lock_ms=self.idle_lock_ms,
        )
        if not self.demo:
            self.settings.put(SERVER, signed.api.base_url)
            self.settings.put(LAST_USER, signed.user.username, server=signed.api.base_url)
        self.window = MainWindow(self.services, self.settings)
        self.window.quit_requested.connect(self.request_quit)
        if not signed.credentials.persistent:
            self.window.say(signed.credentials.status.problem or "")
        if signed.cache.report.integrity != "ok":
            self.window.say(f"The local copy was rebuilt: {signed.cache.report.integrity}")
        self.window.show()
        if self.dialog is not None:
            self.dialog.accept()
            self.dialog = None
        session.engine.start()

    # ---- signing out and quitting ------------------------------------------------------------

    def _close_window(self) -> DeskServices | None:
        services, window = self.services, self.window
        self.services = self.window = None
        if services is not None:
            services.close()
        self.ops.reporter = None
        if window is not None:
            window.save_layout()
            window.stop_timers()
            window.hide()
            window.deleteLater()
        return services

    def sign_out(self, reason: str | None = None, *, next_person: bool = False) -> None:
        """The window goes at once; the session closes on the write lane; sign-in reappears
        (saying `reason`, if any; for the next person on a shared PC, with no username).
        The cache is closed, still encrypted, with any unsent actions in it for next time."""
        services = self._close_window()
        if services is not None:
            engine = services.engine
            self._teardown = self.ops.write(
                "signing out", lambda: close_session(engine, logout=True)
            )
        self.show_sign_in(next_person=next_person)
        if reason and self.dialog is not None:
            self.dialog.show_error(reason)

    def request_quit(self) -> None:
        """Quit without blocking: close the session on the write lane, then leave the loop."""
        if self.quitting:
            return
        self.quitting = True
        services = self._close_window()
        demo, self.demo = self.demo, None

        def work() -> None:
            if services is not None:
                close_session(services.engine, logout=False)
            if demo is not None:
                demo.stop()

        self.ops.write("closing Triage Desk", work, self._quit_now, self._quit_anyway)

    def _quit_now(self, _result: object = None) -> None:
        if self.exit_on_close:
            self.qapp.quit()

    def _quit_anyway(self, exc: Exception) -> None:
        log.warning("closing did not finish cleanly: %s", type(exc).__name__)
        self._quit_now()

    def shutdown(self) -> None:
        """The last moment (the event loop is ending, or a test is done): whatever is still
        open is closed here, waiting a bounded time."""
        services = self._close_window()
        if services is not None:
            close_session(services.engine, logout=False)
        self.ops.drain()
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
        from .demo import DemoPortal, demo_available

        problem = demo_available()
        if problem:
            print(f"portal-triage: {problem}", file=sys.stderr)
            return 2
        demo = DemoPortal()
        print("starting the demo practice…", file=sys.stderr)
        demo.start()
    desktop = DesktopApp(qapp, demo=demo, data_dir=args.data_dir, exit_on_close=True)
    _quit_on_signals(qapp, desktop)
    desktop.start()
    return int(qapp.exec())


def _quit_on_signals(qapp: QApplication, desktop: DesktopApp) -> None:
    """Ctrl+C in the terminal (or a service stop) quits cleanly: the layout is saved, the
    engine stopped, the cache closed and a demo's temporary folder removed."""
    import signal

    from PySide6.QtCore import QTimer

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: desktop.request_quit())
    # Python only runs signal handlers between bytecodes: wake it now and then.
    waker = QTimer(qapp)
    waker.timeout.connect(lambda: None)
    waker.start(250)
