"""The desktop app driven through its real widgets against the real portal API."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from desktop.settings import SERVER
from portal_client.inbox import InboxFilter
from tests.helpers import find_item, http_act, http_item, http_login, http_policy, http_request
from tests.ui.conftest import settle, wait_for
from ui.inbox_model import HEADERS, ID_ROLE, InboxModel
from ui.widgets import PlainLabel


def server_item(portal, item_id: str) -> dict:
    return http_item(portal.url, item_id)


def column_values(qtbot, window, column: int) -> list[str]:
    settle(qtbot, window)
    model = window.model
    values = [model.data(model.index(row, column)) for row in range(model.rowCount())]
    if None in values:  # rows beyond the first screen arrive from a worker
        settle(qtbot, window)
        values = [model.data(model.index(row, column)) for row in range(model.rowCount())]
    return values


def select_queue(qtbot, window, queue: str) -> None:
    window.queues.select(queue)
    settle(qtbot, window)


def open_item(qtbot, window, item_id: str) -> None:
    # Prefer the kind queues: an item stays in them when someone else claims it meanwhile.
    for queue in ("nursing", "front_desk", "clinician", "unassigned", "mine", "waiting", "done"):
        select_queue(qtbot, window, queue)
        if window.model.row_of(item_id) >= 0:
            break
    window.inbox.select_id(item_id)
    wait_for(qtbot, lambda: window.detail.item is not None and window.detail.item["id"] == item_id)


def test_sign_in_dialog_signs_in_and_the_inbox_fills(qtbot, qapp, portal, tmp_path) -> None:
    from PySide6.QtCore import QSettings

    from desktop.app import DesktopApp
    from tests.support.keyrings import MemoryKeyring

    app = DesktopApp(
        qapp,
        data_dir=tmp_path / "d",
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        credentials_backend=MemoryKeyring(),
    )
    app.start()
    dialog = app.dialog
    qtbot.addWidget(dialog)
    dialog.server.setText(portal.url)
    dialog.username.setText("nurse")
    dialog.password.setText("wrong")
    qtbot.mouseClick(dialog.sign_in, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: dialog.error.isVisible())
    assert dialog.error.text() == "Wrong username or password."
    dialog.password.setText("demo")
    qtbot.mouseClick(dialog.sign_in, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: app.window is not None, timeout=20)
    wait_for(qtbot, lambda: app.window.model.rowCount() > 0, timeout=20)
    assert app.settings.get(SERVER) == portal.url
    assert "Jordan Reyes, RN" in app.window.who.text()
    app.shutdown()


def test_unreachable_server_is_explained(qtbot, qapp, tmp_path) -> None:
    from desktop.app import sign_in_message
    from portal_client.errors import Offline, Throttled, TlsError

    assert "cannot be reached" in sign_in_message(Offline("x"))
    assert "certificate" in sign_in_message(TlsError("x"))
    assert "locked" in sign_in_message(Throttled("x", details={"retry_after": 600}))


def test_filter_search_and_sort(qtbot, open_desk, portal) -> None:
    window = open_desk("nurse").window
    select_queue(qtbot, window, "nursing")
    wait_for(qtbot, lambda: window.model.rowCount() > 0)
    everything = window.model.rowCount()
    assert window.inbox.result.text() == f"{everything} items"
    # Default order: overdue first, then at risk, then soonest due.
    clocks = column_values(qtbot, window, 8)

    def rank(text: str) -> int:
        return 0 if text.startswith("Overdue") else 1 if "at risk" in text else 2

    assert [rank(c) for c in clocks] == sorted(rank(c) for c in clocks)
    assert any(c.startswith("Overdue") for c in clocks)  # the demo has a few late items
    assert any(c.endswith("left") for c in clocks)
    refills = next(chip for group, value, chip in window.inbox.chips if value == "refill")
    refills.setChecked(True)
    settle(qtbot, window)
    assert 0 < window.model.rowCount() < everything
    assert set(column_values(qtbot, window, 0)) == {"Refill"}
    refills.setChecked(False)
    settle(qtbot, window)
    # Search by a patient's family name (full-text, prefix).
    name = column_values(qtbot, window, 2)[0].split()[-1]
    window.inbox.search.setText(name[:4])
    wait_for(qtbot, lambda: window.model.rowCount() < everything)
    assert any(name in p for p in column_values(qtbot, window, 2))
    window.inbox.search.setText("zzzqqq")
    wait_for(qtbot, lambda: window.model.rowCount() == 0)
    assert window.inbox.result.text() == "No matches"
    window.inbox.search.clear()
    wait_for(qtbot, lambda: window.model.rowCount() == everything)
    # Sort by patient: the header click asks the query, not the view.
    window.inbox._header_clicked(2)
    patients = column_values(qtbot, window, 2)
    assert patients == sorted(patients)
    window.inbox._header_clicked(2)
    assert column_values(qtbot, window, 2) == sorted(patients, reverse=True)


def test_claim_reply_from_a_template_and_done(qtbot, open_desk, portal) -> None:
    desk = open_desk("nurse")
    window = desk.window
    item = find_item(portal.db, status="new", kind="message")
    open_item(qtbot, window, item.id)
    qtbot.mouseClick(window.detail.buttons["claim"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: window.detail.item["assignee_id"] == desk.services.user.id)
    index = window.detail.template.findText("Message received")
    window.detail.template.setCurrentIndex(index)
    window.detail.template.activated.emit(index)
    text = window.detail.composer.toPlainText()
    patient = desk.services.cache.queries.patient(item.patient_id)
    assert text.startswith(f"Hi {patient['given_name']}, thank you")
    assert text.endswith("- Jordan Reyes, RN")
    qtbot.mouseClick(window.detail.reply_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.detail.buttons["resolve"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: server_item(portal, item.id)["status"] == "done", timeout=15)
    on_server = server_item(portal, item.id)
    assert on_server["assignee_id"] == desk.services.user.id
    assert any(e["type"] == "staff_reply" and e["body"] == text for e in on_server["entries"])
    wait_for(qtbot, lambda: desk.services.cache.queries.counts()["pending_actions"] == 0)


def test_a_clinician_approves_a_refill_and_a_nurse_cannot(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, status="new", kind="refill", queue="nursing")  # not controlled
    nurse = open_desk("nurse").window
    open_item(qtbot, nurse, item.id)
    assert not nurse.detail.approve.isVisibleTo(nurse.detail)
    assert "Only a clinician can approve" in nurse.detail.decision_note.text()
    assert not nurse.detail.approve.isEnabled()
    assert "Only a clinician" in nurse.detail.approve.toolTip()
    doctor_desk = open_desk("doctor")
    doctor = doctor_desk.window
    open_item(qtbot, doctor, item.id)
    assert doctor.detail.approve.isVisibleTo(doctor.detail)
    qtbot.mouseClick(doctor.detail.approve, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: server_item(portal, item.id)["status"] == "done", timeout=15)
    decision = server_item(portal, item.id)["details"]["decision"]
    assert decision["outcome"] == "approved"
    assert decision["decided_by"] == doctor_desk.services.user.id


def test_an_appointment_is_confirmed(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, status="new", kind="appointment")
    window = open_desk("frontdesk").window
    open_item(qtbot, window, item.id)
    assert window.detail.confirm.isVisibleTo(window.detail)
    qtbot.mouseClick(window.detail.confirm, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: server_item(portal, item.id)["status"] == "done", timeout=15)
    decision = server_item(portal, item.id)["details"]["decision"]
    assert decision["outcome"] == "confirmed" and decision["starts_at"].endswith("Z")


def test_the_loser_of_a_conflict_sees_who_acted(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, status="new", kind="message")
    desk = open_desk("nurse")
    window = desk.window
    open_item(qtbot, window, item.id)
    token = http_login(portal.url, "nurse2")
    http_act(portal.url, token, item.id, {"type": "claim"})
    window.detail.composer.setPlainText("I'll call you this afternoon.")
    window.detail.then.setCurrentIndex(2)  # then done
    # Our desk has not seen the other claim yet when it claims too.
    qtbot.mouseClick(window.detail.buttons["claim"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: window.detail.banner.isVisible(), timeout=15)
    assert window.detail.banner_text.text().startswith("Aisha Bello, RN claimed this item at ")
    assert window.detail.item["assignee_id"] == token["user"]["id"]


def test_patient_html_is_shown_as_literal_text(qtbot, open_desk, portal) -> None:
    patient = http_login(portal.url, "patient1", patient=True)
    body = "<b>hi</b><img src=x>"
    created = http_request(
        portal.url,
        patient,
        {
            "kind": "message",
            "subject": "<i>subject</i>",
            "body": body,
            "details": {"category": "other"},
        },
    )
    desk = open_desk("frontdesk")
    window = desk.window
    wait_for(qtbot, lambda: desk.services.cache.queries.item(created["id"]) is not None, timeout=15)
    window.controller.on_items_changed([created["id"]])
    open_item(qtbot, window, created["id"])
    labels = window.detail.thread_box.findChildren(PlainLabel)
    shown = [label for label in labels if body in label.text()]
    assert shown, [label.text() for label in labels]
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)
    assert "<i>subject</i>" in window.detail.title.text()
    assert window.detail.title.textFormat() == Qt.TextFormat.PlainText


def test_window_layout_and_queue_are_remembered(qtbot, open_desk) -> None:
    desk = open_desk("nurse")
    window = desk.window
    select_queue(qtbot, window, "waiting")
    window.inbox.table.setColumnWidth(3, 333)
    window.save_layout()
    from ui.main_window import MainWindow

    again = MainWindow(desk.services, window.settings)
    qtbot.addWidget(again)
    assert again.queues.current() == "waiting"
    assert again.inbox.table.columnWidth(3) == 333
    settle(qtbot, again)
    again.stop_timers()


def test_inbox_model_passes_qtmodeltester(qtbot, qtmodeltester, open_desk) -> None:
    desk = open_desk("nurse")
    inbox = desk.services.inbox
    view = InboxFilter(queue="nursing")

    def rows(ids, done) -> None:  # type: ignore[no-untyped-def]
        done(inbox.rows(ids))

    later: list = []

    def window(offset, done) -> None:  # type: ignore[no-untyped-def]
        later.append(lambda: done(inbox.page(view, offset)))  # answered after a while

    model = InboxModel(rows, lambda: desk.services.reference.staff_names)
    page = inbox.page(view, 0, 10)  # a first window smaller than the view: the rest on demand
    model.set_view(page, inbox.rows(page.ids[:5]), window)
    assert model.rowCount() == page.total > 10 and model.columnCount() == len(HEADERS)
    assert model.data(model.index(0, 0), ID_ROLE)
    last = model.index(page.total - 1, 0)
    assert model.data(last, ID_ROLE) is None  # asked for, not there yet
    assert model.loading()
    with qtbot.waitSignal(model.dataChanged):
        later.pop()()
    assert model.data(last, ID_ROLE) == inbox.ids(view)[-1]
    assert not model.loading()
    qtmodeltester.check(model)


class _Emitter(QObject):
    fired = Signal(list)


def test_ten_thousand_signal_emits_do_not_crash(qapp) -> None:
    """PySide6 6.12.0 aborts CPython 3.11 after ~570 emits; the pin keeps us off it."""
    emitter = _Emitter()
    seen: list[int] = []
    emitter.fired.connect(lambda ids: seen.append(len(ids)))
    for n in range(10_000):
        emitter.fired.emit([str(n)])
    QApplication.processEvents()
    assert len(seen) == 10_000


def test_an_action_taken_offline_is_delivered_when_the_server_returns(
    qtbot, qapp, settings, seeded, tmp_path
) -> None:
    from PySide6.QtCore import QSettings

    from desktop.app import DesktopApp, open_session
    from portal_api.app import create_app
    from portal_client.credentials import CredentialStore
    from portal_client.engine import State
    from portal_client.session import sign_in
    from tests.helpers import free_port, served
    from tests.support.keyrings import MemoryKeyring

    api_app = create_app(settings, seeded)
    port = free_port()
    backend = MemoryKeyring()
    app = DesktopApp(
        qapp,
        data_dir=tmp_path / "d",
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        credentials_backend=backend,
    )
    item = find_item(seeded, status="open", kind="message")
    with served(api_app, port) as url:
        signed = sign_in(
            url,
            "nurse",
            "demo",
            data_dir=app.data_dir,
            credentials=CredentialStore(url, backend=backend),
        )
        app._signed_in(open_session(signed))
        wait_for(qtbot, lambda: app.services.engine.status.cycles >= 1, timeout=20)
    window = app.window
    app.services.engine.poll_seconds = 0.3
    app.services.engine.sync_now()
    wait_for(qtbot, lambda: app.services.engine.status.state is State.OFFLINE, timeout=20)
    open_item(qtbot, window, item.id)
    qtbot.mouseClick(window.detail.editor.internal, Qt.MouseButton.LeftButton)
    window.detail.composer.setPlainText("Written while the server was away.")
    qtbot.mouseClick(window.detail.note_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "action waiting" in window.sync_state.text(), timeout=10)
    assert window.sync_state.text().startswith("Offline since ")
    with served(api_app, port):
        wait_for(qtbot, lambda: app.services.engine.status.pending_actions == 0, timeout=30)
        # The state turns online once the whole cycle (push, then pull) has finished.
        wait_for(qtbot, lambda: app.services.engine.status.state is State.ONLINE, timeout=30)
        window.update_status()
        assert window.sync_state.text().startswith("Synced")
    from sqlalchemy import func, select

    from portal_api.models import Entry

    with seeded.read() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Entry)
            .where(Entry.body == "Written while the server was away.")
        )
    assert count == 1
    app.shutdown()


def test_a_sync_does_not_move_the_selection_to_another_item(qtbot, open_desk, portal) -> None:
    desk = open_desk("nurse")
    window = desk.window
    select_queue(qtbot, window, "unassigned")
    wait_for(qtbot, lambda: window.model.rowCount() > 3)
    chosen = window.model.item_id(2)
    window.inbox.select_id(chosen)
    wait_for(qtbot, lambda: window.detail.item is not None and window.detail.item["id"] == chosen)
    # A new patient request arrives and sorts in above it.
    patient = http_login(portal.url, "patient2", patient=True)
    created = http_request(
        portal.url,
        patient,
        {
            "kind": "message",
            "subject": "Chest pain",
            "body": "chest pain now",
            "details": {"category": "clinical"},
        },
    )
    wait_for(qtbot, lambda: window.model.row_of(created["id"]) >= 0, timeout=15)
    assert window.inbox.selected_id() == chosen
    assert window.detail.item["id"] == chosen
    # Someone else claims the selected item: it leaves "Unassigned", the detail stays on it.
    token = http_login(portal.url, "nurse2")
    http_act(portal.url, token, chosen, {"type": "claim"})
    wait_for(qtbot, lambda: window.model.row_of(chosen) < 0, timeout=15)
    settle(qtbot, window)
    assert window.detail.item["id"] == chosen
    assert window.detail.item["assignee_id"] == token["user"]["id"]
    assert window.inbox.selected_id() in (None, chosen)


def test_at_risk_and_overdue_notices_only_for_my_items_and_once(qtbot, open_desk, portal) -> None:
    desk = open_desk("nurse")
    window = desk.window
    cache = desk.services.cache
    with cache.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, queue, assignee_id FROM items WHERE status IN ('new', 'open')"
        ).fetchall()
    mine = next(r.id for r in rows if r.queue == "nursing" and r.assignee_id is None)
    theirs = next(r.id for r in rows if r.queue == "front_desk" and r.assignee_id is None)

    def overdue(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("UPDATE items SET risk_at = NULL, due_at = NULL")
        conn.exec_driver_sql(
            "UPDATE items SET risk_at = '2000-01-01T00:00:00Z', due_at = '2000-01-02T00:00:00Z', "
            "clock = 'first_response' WHERE id IN (?, ?)",
            (mine, theirs),
        )

    def clock_notices() -> list[tuple[str, str]]:  # (urgent work is announced too)
        return [n for n in window.shown_notices if n[0].startswith(("Overdue", "At risk"))]

    cache.write(overdue)
    window.check_alerts()
    wait_for(qtbot, lambda: len(clock_notices()) == 1)
    title, text = clock_notices()[0]
    assert title.startswith("Overdue: ")
    assert "first response" in text
    with qtbot.waitSignal(window.alerts_checked) as checked:
        window.check_alerts()
    assert checked.args == [0]
    assert len(clock_notices()) == 1  # once per item, clock and state
    from portal_client.inbox import Alerts

    desk.services.ops.drain()  # remembered across restarts too
    assert Alerts(cache, desk.services.user.id, "nurse").due() == []


def test_the_sla_report_window_shows_groups_breaches_and_exports_csv(qtbot, open_desk) -> None:
    from datetime import date, timedelta

    from PySide6.QtCore import QDate

    desk = open_desk("admin")
    window = desk.window
    dialog = window.open_sla_report()
    qtbot.addWidget(dialog)
    today = date.today()
    start = today - timedelta(days=30)
    dialog.start.setDate(QDate(start.year, start.month, start.day))
    dialog.grouping.setCurrentIndex(dialog.grouping.findData("kind"))
    dialog.run()
    wait_for(qtbot, lambda: dialog.report is not None, timeout=20)
    groups = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert groups[-1] == "All"
    assert set(groups[:-1]) <= {"Refill", "Appointment", "Message"} and len(groups) > 1
    assert dialog.breaches.rowCount() == len(dialog.report.breaches) > 0
    assert dialog.chart.series()  # the daily compliance line
    saved: list[str] = []
    dialog.save_csv = saved.append
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert saved and saved[0].splitlines()[0].startswith("Kind,handled,met %")


def test_an_admin_edits_the_policy_and_every_desktop_gets_it(qtbot, open_desk, portal) -> None:
    nurse = open_desk("nurse")
    assert "&Practice" not in [a.text() for a in nurse.window.menuBar().actions()]
    desk = open_desk("admin")
    window = desk.window
    editor = window.open_policy_editor()
    qtbot.addWidget(editor)
    hours, _business = editor.targets[("refill", "routine", "resolution")]
    hours.setText("abc")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.errors.isVisible()
    assert "is not a number of hours" in editor.errors.text()
    hours.setText("20")
    editor.hours["sat"].setText("09:00-12:00")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: editor.result() == 1, timeout=15)
    on_server = http_policy(portal.url)
    assert on_server["sla"]["refill"]["routine"]["resolution"] == {"hours": 20.0, "business": True}
    assert on_server["business_hours"]["sat"] == [["09:00", "12:00"]]
    wait_for(
        qtbot,
        lambda: desk.services.reference.policy["business_hours"]["sat"] == [["09:00", "12:00"]],
    )
    # The nurse's desktop picks it up at its next sync.
    nurse.services.engine.sync_now()
    wait_for(
        qtbot,
        lambda: nurse.services.reference.policy["business_hours"]["sat"] == [["09:00", "12:00"]],
        timeout=15,
    )


def test_the_server_has_the_last_word_on_the_policy(qtbot, open_desk) -> None:
    editor = open_desk("admin").window.open_policy_editor()
    qtbot.addWidget(editor)
    editor.timezone.setText("Mars/Olympus_Mons")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: editor.errors.isVisible(), timeout=15)
    assert "not an IANA time zone" in editor.errors.text()
    assert editor.save_button.isEnabled()


def test_the_clock_column_reads_without_colour_and_repaints_as_time_passes(
    qtbot, open_desk
) -> None:
    from ui.inbox_model import CLOCK_COLUMN

    window = open_desk("nurse").window
    select_queue(qtbot, window, "nursing")
    wait_for(qtbot, lambda: window.model.rowCount() > 0)
    model = window.model
    words = column_values(qtbot, window, CLOCK_COLUMN)
    assert all(
        w.startswith("Overdue since ")
        or w.endswith("left")
        or " left – " in w
        or w in ("Paused (waiting on patient)", "—")
        for w in words
    )
    overdue = next(r for r, w in enumerate(words) if w.startswith("Overdue"))
    assert model.data(model.index(overdue, CLOCK_COLUMN), Qt.ItemDataRole.DecorationRole)
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.refresh_clocks()  # the rows are fetched again, their words made anew
    top_left, bottom_right = blocker.args[0], blocker.args[1]
    assert top_left.row() == 0 and bottom_right.row() == model.rowCount() - 1
    assert top_left.column() <= CLOCK_COLUMN <= bottom_right.column()


def test_the_next_item_stays_open_when_the_last_ones_sync_arrives(qtbot, open_desk, portal) -> None:
    """Act on an item and open the next at once: the sync that confirms the first must not
    bring it back into the detail pane (its refresh was asked after the opening)."""
    first = find_item(portal.db, status="new", kind="message")
    window = open_desk("nurse").window
    open_item(qtbot, window, first.id)
    rows = [window.model.item_id(r) for r in range(window.model.rowCount())]
    following = next(i for i in rows if i and i != first.id)
    for _round in range(3):
        qtbot.mouseClick(window.detail.buttons["claim"], Qt.MouseButton.LeftButton)
        window.controller.open_item(following)  # at once, as a quick person does
        settle(qtbot, window)
        window.controller.services.engine.sync_now()
        settle(qtbot, window)
        assert window.detail.item["id"] == following
        window.controller.open_item(first.id)
        settle(qtbot, window)
        window.detail.buttons["release"].click()
        settle(qtbot, window)
