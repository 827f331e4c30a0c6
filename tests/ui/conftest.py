"""A signed-in main window against the real portal API on a loopback port; every Qt test fails
if it leaves a thread running or a timer ticking."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from desktop.app import DesktopApp, open_session
from portal_client.credentials import CredentialStore
from portal_client.session import sign_in
from tests.helpers import wait_until
from tests.support.keyrings import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Threads that outlive a test by design: the demo portal of a module fixture and its servers.
LONG_LIVED = ("demo-portal", "demo-patients", "AnyIO worker thread", "asyncio_")


def _ours(thread: threading.Thread) -> bool:
    """A thread the test may have started (Qt pool threads show up as dummy threads)."""
    return not isinstance(thread, threading._DummyThread) and not thread.name.startswith(  # type: ignore[attr-defined]
        LONG_LIVED
    )


@pytest.fixture(autouse=True)
def no_leaked_threads_or_timers() -> Iterator[None]:
    """Set up before `qtbot` and the desks, so this runs after they are torn down."""
    before = set(threading.enumerate())
    yield
    app = QApplication.instance()

    def leaked() -> list[threading.Thread]:
        if app is not None:
            app.processEvents()  # (answers posted to the GUI thread let workers finish)
        return [t for t in set(threading.enumerate()) - before if t.is_alive() and _ours(t)]

    # Threads end without a signal to wait on (qtbot is gone by now): poll.
    wait_until(lambda: not leaked(), timeout=15)
    assert not leaked(), f"threads still running after the test: {[t.name for t in leaked()]}"
    if app is not None:
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        ticking = [
            f"{type(widget).__name__}/{timer.objectName() or 'timer'}"
            for widget in QApplication.topLevelWidgets()
            for timer in widget.findChildren(QTimer)
            if timer.isActive()
        ]
        assert not ticking, f"timers still running after the test: {ticking}"


@dataclass
class Desk:
    app: DesktopApp

    @property
    def window(self):  # type: ignore[no-untyped-def]
        return self.app.window

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.app.services


def wait_for(qtbot, condition: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(condition, timeout=int(timeout * 1000))


def settle(qtbot, window, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until the window shows the newest answer to everything it asked for."""
    wait_for(qtbot, window.controller.idle, timeout)


def sign_in_desk(app: DesktopApp, url: str, username: str, backend: MemoryKeyring) -> None:
    """Sign in as the dialog would (here on the test's thread) and open the window."""
    signed = sign_in(
        url,
        username,
        "demo",
        data_dir=app.data_dir,
        credentials=CredentialStore(url, backend=backend),
    )
    app._signed_in(open_session(signed))


@pytest.fixture
def open_desk(qtbot, qapp, portal, tmp_path: Path) -> Iterator[Callable[..., Desk]]:  # type: ignore[no-untyped-def]
    desks: list[Desk] = []

    def make(username: str = "nurse") -> Desk:
        settings = QSettings(
            str(tmp_path / f"{username}-{len(desks)}.ini"), QSettings.Format.IniFormat
        )
        backend = MemoryKeyring()
        app = DesktopApp(
            qapp,
            data_dir=tmp_path / f"data-{username}-{len(desks)}",
            settings=settings,
            credentials_backend=backend,
        )
        sign_in_desk(app, portal.url, username, backend)
        desk = Desk(app)
        # Not qtbot.addWidget: the app owns its window (signing out deletes it) and closes it
        # when the desk is torn down.
        start = time.monotonic()
        qtbot.waitUntil(lambda: app.services.engine.status.cycles >= 1, timeout=20000)
        assert time.monotonic() - start < 20
        settle(qtbot, app.window)
        # The staff list and policy arrive on a worker after the first cycle: a person sees
        # them before they can use them, so the tests wait for them too.
        qtbot.waitUntil(lambda: bool(app.services.reference.policy), timeout=20000)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.app.shutdown()


@pytest.fixture
def backend() -> str:
    """Client-side tests run against the service on SQLite only: its behaviour on PostgreSQL
    is covered by the service's own tests, and the suite must stay fast."""
    return "sqlite"
