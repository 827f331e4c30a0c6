"""The GUI thread never waits: it runs no SQL, signing out and quitting happen on workers, and
every background failure reaches the person and the log."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Qt
from sqlalchemy import event

from tests.helpers import find_item, http_act, http_login
from tests.ui.conftest import settle, wait_for


def test_the_gui_thread_runs_no_sql_while_staff_work(qtbot, open_desk, portal) -> None:
    desk = open_desk("nurse")
    window = desk.window
    gui = threading.current_thread()
    on_gui: list[str] = []

    def checkout(*_args) -> None:  # type: ignore[no-untyped-def]
        if threading.current_thread() is gui:
            import traceback

            on_gui.append("".join(traceback.format_stack(limit=8)))

    event.listen(desk.services.cache.engine, "checkout", checkout)
    try:
        for queue in ("nursing", "unassigned", "front_desk", "mine"):
            window.queues.select(queue)
            settle(qtbot, window)
        window.queues.select("nursing")
        settle(qtbot, window)
        for text in ("a", "an", "ann", ""):
            window.inbox.search.setText(text)
            settle(qtbot, window)  # (after the pause the search box waits for)
        chip = window.inbox.chips[0][2]
        chip.setChecked(True)
        settle(qtbot, window)
        chip.setChecked(False)
        window.queues.select("unassigned")
        settle(qtbot, window)
        window.inbox.step(1)
        wait_for(qtbot, lambda: window.detail.item is not None)
        qtbot.mouseClick(window.detail.buttons["claim"], Qt.MouseButton.LeftButton)
        wait_for(qtbot, lambda: window.detail.item["assignee_id"] == desk.services.user.id)
        for _ in range(6):
            window._tick()  # status line; the sixth also clocks, counts and notices
        window.controller.on_reference_changed()
        settle(qtbot, window)
        window.update_status()
    finally:
        event.remove(desk.services.cache.engine, "checkout", checkout)
    assert on_gui == [], on_gui[0]


def test_signing_out_does_not_wait_for_the_engine_to_stop(qtbot, open_desk, portal) -> None:
    desk = open_desk("nurse")
    app = desk.app
    engine = desk.services.engine
    stopping, release = threading.Event(), threading.Event()
    original = engine.stop

    def slow_stop(timeout: float = 10.0) -> None:
        stopping.set()
        release.wait(20)  # held until the test has seen the GUI free
        original(timeout)

    engine.stop = slow_stop  # type: ignore[method-assign]
    app.sign_out()
    # Back at once: the sign-in dialog is up while the engine is still stopping.
    assert app.window is None and app.dialog is not None
    qtbot.addWidget(app.dialog)
    wait_for(qtbot, stopping.is_set)
    assert not release.is_set()
    release.set()
    wait_for(qtbot, lambda: app._teardown is not None and app._teardown.done(), timeout=30)
    assert app._teardown.exception() is None
    app.dialog.reject()


def test_quitting_closes_the_session_on_a_worker(qtbot, open_desk) -> None:
    desk = open_desk("nurse")
    app, cache = desk.app, desk.services.cache
    app.request_quit()
    assert app.window is None  # the window went at once
    wait_for(qtbot, lambda: not app.ops.busy and cache.writer._thread.is_alive() is False)


def test_a_background_failure_reaches_the_status_bar_and_the_log(qtbot, open_desk, caplog) -> None:
    window = open_desk("nurse").window

    def broken() -> None:
        raise OSError("the disk is full")

    with caplog.at_level(logging.WARNING, logger="desktop.ops"):
        window.services.ops.read("loading the inbox", broken)
        wait_for(qtbot, lambda: "disk is full" in window.statusBar().currentMessage())
    assert window.statusBar().currentMessage() == (
        "Could not finish loading the inbox: the disk is full"
    )
    assert [r.getMessage() for r in caplog.records] == ["loading the inbox failed: OSError"]


def test_an_action_on_a_closed_item_is_offered_with_its_reason(qtbot, open_desk, portal) -> None:
    window = open_desk("nurse").window
    item = find_item(portal.db, status="new", kind="message")
    http_act(portal.url, http_login(portal.url, "nurse2"), item.id, {"type": "resolve"})
    wait_for(
        qtbot, lambda: (window.services.cache.queries.item(item.id) or {}).get("status") == "done"
    )
    window.queues.select("done")
    settle(qtbot, window)
    window.inbox.select_id(item.id)
    wait_for(qtbot, lambda: window.detail.item is not None and window.detail.item["id"] == item.id)
    claim = window.detail.buttons["claim"]
    assert not claim.isEnabled()
    assert claim.toolTip() == "This item is done; reopen it first."
    assert claim.accessibleDescription() == claim.toolTip()
    assert window.detail.buttons["reopen"].isEnabled()
    assert window.detail.note_button.isEnabled()  # a note is still allowed
    assert not window.detail.reply_button.isEnabled()
