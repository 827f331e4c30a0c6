"""The idle lock on the real desktop against the real portal API: it engages after the idle
time, nothing of a patient stays on screen (widgets, window titles, the tray) while it is on,
the password opens it (the server's word online, the cache's verifier offline), five wrong
passwords sign the desk out, and Switch user hands a shared PC to the next person without
losing the first person's unsent work."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
)

from desktop.app import DesktopApp
from portal_api.app import create_app
from portal_client.credentials import CredentialStore
from portal_client.engine import State
from portal_client.session import open_cache
from portal_client.unlock import VERIFIER_KEY
from tests.helpers import find_item, free_port, served
from tests.support.keyrings import MemoryKeyring
from tests.ui.conftest import settle, sign_in_desk, wait_for
from tests.ui.test_urgent import file_flagged
from ui.lock_controller import LOCKED_TITLE
from ui.notifier import LOCKED_TOOLTIP, UNLOCK_TO_SEE, URGENT_WHILE_LOCKED

MINUTES = 60_000  # long enough that nothing locks before a test asks for it


class Server:
    """The real portal API on a fixed loopback port that a test can stop and start again."""

    def __init__(self, settings, seeded) -> None:  # type: ignore[no-untyped-def]
        self.app = create_app(settings, seeded)
        self.db = seeded
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._running: AbstractContextManager[str] | None = None

    def start(self) -> None:
        self._running = served(self.app, self.port)
        self._running.__enter__()

    def stop(self) -> None:
        if self._running is not None:
            self._running.__exit__(None, None, None)
            self._running = None


@pytest.fixture
def server(settings, seeded) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    running = Server(settings, seeded)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def lock_desk(qtbot, qapp, server, tmp_path: Path) -> Iterator[Callable[..., DesktopApp]]:  # type: ignore[no-untyped-def]
    apps: list[DesktopApp] = []

    def make(username: str = "nurse", idle_lock_ms: int = 10 * MINUTES) -> DesktopApp:
        backend = MemoryKeyring()
        app = DesktopApp(
            qapp,
            data_dir=tmp_path / f"data-{len(apps)}",
            settings=QSettings(str(tmp_path / f"s-{len(apps)}.ini"), QSettings.Format.IniFormat),
            credentials_backend=backend,
            idle_lock_ms=idle_lock_ms,
        )
        app.keyring = backend  # type: ignore[attr-defined]
        sign_in_desk(app, server.url, username, backend)
        apps.append(app)
        qtbot.waitUntil(lambda: app.services.engine.status.cycles >= 1, timeout=20000)
        settle(qtbot, app.window)
        return app

    yield make
    for app in apps:
        if app.dialog is not None:
            app.dialog.close()
        app.shutdown()


def visible_text(qapp: QApplication) -> str:
    """Everything a person could read on screen now: every visible widget's text, every
    visible view's cells, the window titles and the tray's tooltip."""
    seen: list[str] = []
    for widget in qapp.allWidgets():
        if not widget.isVisible():
            continue
        if widget.isWindow():
            seen.append(widget.windowTitle())
        if isinstance(widget, QLabel | QLineEdit | QAbstractButton):
            seen.append(widget.text())
        elif isinstance(widget, QPlainTextEdit | QTextEdit):
            seen.append(widget.toPlainText())
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model, root = widget.model(), QModelIndex()
            columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(root)
            for row in range(model.rowCount(root)):
                for column in range(columns):
                    seen.append(str(model.data(model.index(row, column)) or ""))
        seen.append(widget.toolTip())
    return "\n".join(seen)


def patient_words(app: DesktopApp) -> set[str]:
    """Every patient's name and every item's subject in this desk's cache."""
    words: set[str] = set()
    queries = app.services.cache.queries
    for item in queries.all_items():
        words.add(item["subject"])
        patient = queries.patient(item["patient_id"]) or {}
        words.update(filter(None, (patient.get("given_name"), patient.get("family_name"))))
    return {w for w in words if len(w) >= 3}


def tray_tooltip(window) -> str:  # type: ignore[no-untyped-def]
    """The tray's tooltip (offscreen there is no tray: what it would say)."""
    return window.tray.toolTip() if window.tray is not None else window.notifier.tooltip


def open_first_item(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.queues.select("nursing")
    settle(qtbot, window)
    window.inbox.step(1)
    wait_for(qtbot, lambda: window.detail.item is not None)


def unlock_with(qtbot, window, password: str) -> None:  # type: ignore[no-untyped-def]
    screen = window.lock_screen
    screen.password.setText(password)
    qtbot.mouseClick(screen.unlock_button, Qt.MouseButton.LeftButton)


def test_the_desk_locks_after_the_idle_time_and_no_patient_data_stays_on_screen(
    qtbot, qapp, lock_desk
) -> None:
    app = lock_desk("nurse")
    window = app.window
    open_first_item(qtbot, window)
    words = patient_words(app)
    shown = visible_text(qapp)
    on_screen = {w for w in words if w in shown}
    assert on_screen, "the check must see what the window shows before the lock"
    assert not window.lock.locked
    # The idle time is the policy's minutes; here a third of a second, asked for again.
    app.services.idle_lock_ms = 300
    window.lock.idle.resume()
    with qtbot.waitSignal(window.lock.locked_changed, timeout=5000) as locked:
        pass
    assert locked.args == [True]
    assert window.lock_screen.isVisible()
    assert not window.splitter.isVisible() and not window.detail.isVisible()
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    assert window.windowTitle() == LOCKED_TITLE
    shown = visible_text(qapp)
    leaked = sorted(w for w in words if w in shown)
    assert not leaked, f"patient data on the lock screen: {leaked[:5]}"
    assert tray_tooltip(window) == LOCKED_TOOLTIP
    assert not any(w in tray_tooltip(window) for w in words)
    # Sync goes on underneath.
    cycles = app.services.engine.status.cycles
    app.services.engine.sync_now()
    wait_for(qtbot, lambda: app.services.engine.status.cycles > cycles)
    assert app.services.engine.status.state is State.ONLINE


def test_urgent_work_while_locked_says_only_that_it_waits(qtbot, qapp, lock_desk, server) -> None:
    app = lock_desk("nurse")
    window = app.window
    window.lock.lock()
    before = len(window.shown_notices)
    item_id = file_flagged(server)
    app.services.engine.sync_now()
    # It arrives underneath, and is announced as it comes (the announcement is remembered).
    wait_for(qtbot, lambda: item_id in app.services.urgent.announced, timeout=15)
    wait_for(qtbot, lambda: len(window.shown_notices) > before)
    new = window.shown_notices[before:]
    assert new and all(notice == (URGENT_WHILE_LOCKED, UNLOCK_TO_SEE) for notice in new)
    wait_for(qtbot, lambda: window.lock_screen.urgent.isVisible())
    window.resize(1200, 800)
    target = os.environ.get("TRIAGE_SCREENSHOTS_DIR")
    image = window.grab()
    assert image.width() >= 1000
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(target) / "lock-screen.png"))
    # Unlocked, the details come with the next announcement (the tray names the category).
    unlock_with(qtbot, window, "demo")
    wait_for(qtbot, lambda: not window.lock.locked, timeout=15)
    assert tray_tooltip(window) != LOCKED_TOOLTIP


def test_ctrl_l_locks_and_the_right_password_unlocks_online(qtbot, qapp, lock_desk) -> None:
    app = lock_desk("nurse")
    window = app.window
    open_first_item(qtbot, window)
    item_id = window.detail.item["id"]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.lock.locked
    # While locked, the window's own shortcuts do nothing (J would move the selection).
    qtbot.keyClick(window.lock_screen.password, Qt.Key.Key_J, Qt.KeyboardModifier.NoModifier)
    assert window.lock_screen.password.text() == "j"
    window.lock_screen.password.clear()
    token_before = CredentialStore(app.services.server, app.keyring).refresh_token("nurse")  # type: ignore[attr-defined]
    verifier_before = app.services.cache.meta(VERIFIER_KEY)
    assert verifier_before and "demo" not in verifier_before  # written at sign-in: a hash

    unlock_with(qtbot, window, "wrong")
    wait_for(qtbot, lambda: window.lock_screen.error.isVisible(), timeout=15)
    assert window.lock_screen.error.text() == (
        "Wrong password. 4 more tries before Triage Desk signs you out."
    )
    assert window.lock.locked and not window.splitter.isVisible()

    unlock_with(qtbot, window, "demo")
    wait_for(qtbot, lambda: not window.lock.locked, timeout=15)
    assert window.splitter.isVisible() and window.menuBar().isVisible()
    assert window.detail.item["id"] == item_id  # where the person left off
    assert window.lock.wrong_tries == 0
    # A fresh sign-in: new tokens for the engine and the keyring, a new verifier.
    token_after = CredentialStore(app.services.server, app.keyring).refresh_token("nurse")  # type: ignore[attr-defined]
    assert token_after and token_after != token_before
    assert app.services.cache.meta(VERIFIER_KEY) != verifier_before
    cycles = app.services.engine.status.cycles
    app.services.engine.sync_now()
    wait_for(qtbot, lambda: app.services.engine.status.cycles > cycles)
    assert app.services.engine.status.state is State.ONLINE
    assert window.lock.idle.watching  # the idle clock runs again


def test_offline_the_password_is_checked_against_the_caches_verifier(
    qtbot, qapp, lock_desk, server
) -> None:
    app = lock_desk("nurse")
    window = app.window
    window.lock.lock()
    server.stop()
    unlock_with(qtbot, window, "not-it")
    wait_for(qtbot, lambda: window.lock_screen.error.isVisible(), timeout=15)
    assert window.lock_screen.error.text().startswith("Wrong password. 4 more tries")
    assert window.lock.locked
    unlock_with(qtbot, window, "demo")
    wait_for(qtbot, lambda: not window.lock.locked, timeout=15)
    assert "Unlocked offline" in window.statusBar().currentMessage()
    server.start()  # (the fixture stops it again)


def test_five_wrong_passwords_sign_the_desk_out(qtbot, qapp, lock_desk) -> None:
    app = lock_desk("nurse")
    window = app.window
    cache = app.services.cache
    window.lock.lock()
    for tries in range(1, 6):
        unlock_with(qtbot, window, f"wrong-{tries}")
        if tries < 5:
            wait_for(qtbot, lambda t=tries: window.lock.wrong_tries == t, timeout=15)
    wait_for(qtbot, lambda: app.window is None and app.dialog is not None, timeout=15)
    dialog = app.dialog
    qtbot.addWidget(dialog)
    assert dialog.error.text().startswith("Signed out after 5 wrong passwords")
    assert dialog.username.text() == "nurse"  # (the same person may sign in again)
    app._teardown.result(30)  # type: ignore[union-attr]
    assert cache.writer._closed  # the cache is closed ...
    assert cache.path.read_bytes()[:16] != b"SQLite format 3\x00"  # ... and still encrypted


def test_switch_user_keeps_unsent_work_and_the_next_person_signs_in(
    qtbot, qapp, lock_desk, server, tmp_path
) -> None:
    app = lock_desk("nurse")
    window = app.window
    services = app.services
    item = find_item(server.db, status="new", kind="message")
    server.stop()
    cycles = services.engine.status.cycles
    services.engine.sync_now()
    wait_for(qtbot, lambda: services.engine.status.cycles > cycles, timeout=15)
    services.act(item.id, {"type": "claim"})
    wait_for(qtbot, lambda: services.engine.status.pending_actions == 1, timeout=15)
    window.lock.lock()
    qtbot.mouseClick(window.lock_screen.switch_user, Qt.MouseButton.LeftButton)
    assert app.window is None
    dialog = app.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.addWidget(dialog)
    assert dialog.username.text() == ""  # the next person types their own name
    assert dialog.server.text() == server.url
    app._teardown.result(30)  # type: ignore[union-attr]
    # The nurse's cache is closed, still encrypted, with the unsent claim in it.
    assert services.cache.path.read_bytes()[:16] != b"SQLite format 3\x00"
    store = CredentialStore(server.url, app.keyring)  # type: ignore[attr-defined]
    kept = open_cache(server.url, "nurse", store, app.data_dir)
    try:
        assert kept.outbox.pending_count() == 1
    finally:
        kept.close()

    server.start()
    dialog.username.setText("frontdesk")
    dialog.password.setText("demo")
    qtbot.mouseClick(dialog.sign_in, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: app.window is not None, timeout=20)
    wait_for(qtbot, lambda: app.services.engine.status.cycles >= 1, timeout=20)
    front = app.window
    assert front.who.text().startswith("Maria Lopez")
    assert app.services.user.username == "frontdesk"
    front.queues.select("front_desk")
    settle(qtbot, front)
    wait_for(qtbot, lambda: front.model.rowCount() > 0)


def test_keyboard_and_mouse_input_anywhere_in_the_app_restart_the_idle_time(qtbot, qapp) -> None:
    from PySide6.QtWidgets import QLineEdit

    from desktop.idle import IdleWatch

    now = [100.0]
    watch = IdleWatch(qapp, lambda: 1000, clock=lambda: now[0])
    field = QLineEdit()
    qtbot.addWidget(field)
    idled: list[bool] = []
    watch.idled.connect(lambda: idled.append(True))
    watch.resume()
    now[0] += 0.9
    qtbot.keyClick(field, Qt.Key.Key_A)
    assert watch.idle_ms() == 0
    now[0] += 0.5
    qtbot.mouseMove(field, field.rect().center())
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    assert watch.idle_ms() == 0
    now[0] += 0.9
    watch._check()
    assert not idled  # 0.9 s since the last input: not yet
    now[0] += 0.2
    watch._check()
    assert idled == [True]
    assert not watch.watching  # locked: the filter is gone until the unlock resumes it
    qtbot.keyClick(field, Qt.Key.Key_B)
    assert watch.idle_ms() >= 1000
    watch.stop()


def test_a_machine_woken_from_sleep_locks_at_the_first_input(qtbot, qapp) -> None:
    """The timer had no chance to fire while the machine slept: the first key after waking
    locks instead of counting as activity (the wall clock counts the sleep)."""
    from PySide6.QtWidgets import QLineEdit

    from desktop.idle import IdleWatch

    now = [100.0]
    watch = IdleWatch(qapp, lambda: 60_000, clock=lambda: now[0])
    field = QLineEdit()
    qtbot.addWidget(field)
    idled: list[bool] = []
    watch.idled.connect(lambda: idled.append(True))
    watch.resume()
    now[0] += 8 * 3600  # a night with the lid closed
    qtbot.keyClick(field, Qt.Key.Key_A)
    assert idled == [True] and not watch.watching
    watch.stop()


def test_the_admin_sets_the_idle_minutes_with_spin_boxes_and_desks_follow(
    qtbot, open_desk, portal
) -> None:
    from tests.helpers import http_policy

    desk = open_desk("admin")
    assert desk.services.idle_lock_timeout_ms() == 10 * 60_000  # the default
    editor = desk.window.open_policy_editor()
    qtbot.addWidget(editor)
    assert editor.idle_lock.value() == 10 and editor.session_idle.value() == 12
    assert editor.idle_lock.maximum() == 30 and editor.idle_lock.minimum() == 1
    editor.idle_lock.setValue(3)
    editor.session_idle.setValue(8)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: editor.result() == 1, timeout=15)
    on_server = http_policy(portal.url)
    assert (on_server["idle_lock_minutes"], on_server["session_idle_hours"]) == (3, 8)
    wait_for(qtbot, lambda: desk.services.idle_lock_timeout_ms() == 3 * 60_000)


def test_a_session_the_server_ended_for_idleness_resumes_after_an_online_unlock(
    qtbot, qapp, lock_desk, server
) -> None:
    from portal_api.models import AuthSession, RefreshToken

    app = lock_desk("nurse")
    window = app.window
    window.lock.lock()
    engine = app.services.engine
    # Nobody has used this login for 13 hours: the next refresh ends it (401 session_idle).
    with server.db.write() as session:
        for login_row in session.query(AuthSession):
            login_row.created_at -= timedelta(hours=13)
        for token in session.query(RefreshToken).filter(RefreshToken.used_at.is_not(None)):
            token.used_at -= timedelta(hours=13)
    with engine.api.tokens.lock:
        engine.api.tokens.access = None  # (its access token would otherwise last 15 minutes)
    engine.sync_now()
    wait_for(qtbot, lambda: engine.status.state is State.SIGN_IN_NEEDED, timeout=15)
    assert "12 hours without use" in (engine.status.last_error or "")
    unlock_with(qtbot, window, "demo")
    wait_for(qtbot, lambda: not window.lock.locked, timeout=15)
    wait_for(qtbot, lambda: engine.status.state is State.ONLINE, timeout=15)


def test_dialogs_wait_hidden_while_locked_even_those_opened_meanwhile(
    qtbot, qapp, lock_desk
) -> None:
    app = lock_desk("admin")
    window = app.window
    editor = window.open_policy_editor()
    qtbot.addWidget(editor)
    assert editor.isVisible()
    window.lock.lock()
    assert not editor.isVisible()
    window._action_failed(RuntimeError("the disk is full"))  # an answer arriving meanwhile
    boxes = [b for b in window.findChildren(QMessageBox) if b.text().endswith("disk is full")]
    assert boxes
    wait_for(qtbot, lambda: not boxes[0].isVisible())
    unlock_with(qtbot, window, "demo")
    wait_for(qtbot, lambda: not window.lock.locked, timeout=15)
    assert editor.isVisible() and boxes[0].isVisible()
    boxes[0].close()
