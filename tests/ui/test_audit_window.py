"""The audit log window, driven through its real widgets against the real portal API."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import requests
from PySide6.QtCore import Qt

from portal_api import audit
from portal_api.db import Database, create_db_engine
from tests.helpers import find_item, http_login, staff_id
from tests.ui.conftest import wait_for
from tests.ui.test_screenshots import _keep, demo_desk, demo_portal  # noqa: F401 (fixture)
from ui.audit_log import AuditLogDialog

REASON = "<b>covering</b> for Dr. Patel's patient"


def view(url: str, tokens: dict[str, Any], item_id: str) -> None:
    reply = requests.get(
        f"{url}/api/v1/items/{item_id}",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    reply.raise_for_status()


def break_glass(db: Database, username: str, item: Any, reason: str) -> None:
    """As the service records a restricted item opened with a reason."""
    with db.write() as session:
        audit.append(
            session,
            actor_kind="staff",
            actor_id=staff_id(db, username),
            action="item.break_glass",
            item_id=item.id,
            patient_id=item.patient_id,
            detail={"reason": reason},
        )


def shown(qtbot, dialog: AuditLogDialog, change) -> None:  # type: ignore[no-untyped-def]
    """Do what changes the filter and wait until the events tab shows the answer."""
    with qtbot.waitSignal(dialog.page_shown, timeout=10000, check_params_cb=_events_tab):
        change()


def _events_tab(key: str) -> bool:
    return key == "events"


def actions(dialog: AuditLogDialog) -> set[str]:
    return {row.action for row in dialog.events.model.rows}


def menu_entries(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        action.text()
        for top in window.menuBar().actions()
        if top.menu() is not None
        for action in top.menu().actions()
    ]


def open_from_menu(qtbot, window) -> AuditLogDialog:  # type: ignore[no-untyped-def]
    """Practice → Audit log…, then wait for its first rows and the chain check."""
    window.audit_action.trigger()
    dialog: AuditLogDialog = window.audit_log
    assert dialog is not None and dialog.isVisible()
    wait_for(qtbot, lambda: dialog.events.query is not None and dialog.events.waiting_for is None)
    wait_for(qtbot, dialog.check_button.isEnabled)
    return dialog


def test_admin_reads_filters_and_exports_the_audit_log(
    qtbot, open_desk, portal, tmp_path: Path
) -> None:
    item = find_item(portal.db, status="open")
    other = find_item(portal.db, status="new")
    nurse = http_login(portal.url, "nurse")
    view(portal.url, nurse, item.id)
    view(portal.url, nurse, other.id)
    http_login(portal.url, "frontdesk")
    break_glass(portal.db, "nurse", item, REASON)

    window = open_desk("admin").window
    assert "Audit log…" in menu_entries(window)
    dialog = open_from_menu(qtbot, window)

    # the chain check at the top, in plain words
    assert dialog.chain.text().startswith("Audit chain intact: ")
    assert dialog.chain.text().endswith(" events verified")
    assert dialog.chain.textFormat() == Qt.TextFormat.PlainText
    # every event of the last 30 days, newest first, named from the cache
    everything = list(dialog.events.model.rows)
    assert {"staff.login", "item.view", "item.break_glass"} <= actions(dialog)
    assert [r.seq for r in everything] == sorted((r.seq for r in everything), reverse=True)
    nurse_name = "Jordan Reyes, RN"
    viewed = next(r for r in everything if r.action == "item.view" and r.item_id == item.id)
    assert viewed.staff_text == f"{nurse_name} · Nurse"
    assert viewed.action_text == "Viewed"
    assert viewed.patient_name and viewed.patient_name != "(not on this computer)"
    assert viewed.subject == item.subject
    model = dialog.events.model
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Time (practice)"
    assert model.data(model.index(0, 0))  # a practice time

    # by staff member: only the nurse's events
    shown(
        qtbot,
        dialog,
        lambda: dialog.staff.setCurrentIndex(dialog.staff.findData(nurse["user"]["id"])),
    )
    by_nurse = dialog.events.model.rows
    assert by_nurse and len(by_nurse) < len(everything)
    assert {r.staff_name for r in by_nurse} == {nurse_name}

    # by action, on top of it: Viewed
    shown(qtbot, dialog, lambda: dialog.action.setCurrentIndex(dialog.action.findData("viewed")))
    assert actions(dialog) == {"item.view"}
    assert {r.item_id for r in dialog.events.model.rows} == {item.id, other.id}

    # by patient (as picked from the cached patients)
    wait_for(qtbot, lambda: bool(dialog.patients))
    shown(qtbot, dialog, lambda: dialog.choose_patient(item.patient_id))
    assert {r.patient_id for r in dialog.events.model.rows} == {item.patient_id}
    assert item.patient_id != other.patient_id  # (the filter narrowed something)

    # export writes exactly the rows shown, with a header, read back through csv
    target = tmp_path / "audit.csv"
    dialog.ask_path = lambda chosen: chosen(str(target))
    with qtbot.waitSignal(dialog.exported, timeout=10000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    with open(target, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:3] == ["seq", "time (practice)", "time (UTC)"]
    assert [int(line[0]) for line in lines[1:]] == [r.seq for r in dialog.events.model.rows]
    assert all(line[lines[0].index("action")] == "item.view" for line in lines[1:])
    assert item.subject not in target.read_text(encoding="utf-8")  # patient-written text stays out

    # break-the-glass accesses, with their reasons as typed (no HTML interpretation)
    dialog.choose_patient(None)
    dialog.staff.setCurrentIndex(0)
    wait_for(qtbot, lambda: dialog.break_glass.waiting_for is None)
    dialog.tabs.setCurrentIndex(1)
    rows = dialog.break_glass.model.rows
    assert [(r.action, r.reason, r.staff_name) for r in rows] == [
        ("item.break_glass", REASON, nurse_name)
    ]
    glass = dialog.break_glass.model
    reason_column = [c.header for c in glass.columns].index("Reason")
    assert glass.data(glass.index(0, reason_column)) == REASON
    assert not dialog.action.isEnabled()  # that tab is one action already


def test_older_events_load_page_by_page(qtbot, open_desk, portal) -> None:
    for _ in range(4):
        http_login(portal.url, "nurse")
    window = open_desk("admin").window
    dialog = open_from_menu(qtbot, window)
    everything = [r.seq for r in dialog.events.model.rows]
    dialog.page_size = 3
    shown(qtbot, dialog, dialog.reload)
    assert len(dialog.events.model.rows) == 3
    assert dialog.older_button.isEnabled()
    assert "Load older" in dialog.status.text()
    while dialog.older_button.isEnabled():
        shown(
            qtbot, dialog, lambda: qtbot.mouseClick(dialog.older_button, Qt.MouseButton.LeftButton)
        )
    assert [r.seq for r in dialog.events.model.rows] == everything


def test_a_nurse_has_no_audit_log_entry(open_desk) -> None:
    window = open_desk("nurse").window
    assert window.audit_action is None
    assert not any("Audit" in text for text in menu_entries(window))


def test_audit_window_screenshot(qtbot, qapp, demo_portal, tmp_path) -> None:  # noqa: F811
    """The window on the demo practice, for docs/screenshots/audit-window.png."""
    db = Database(create_db_engine(f"sqlite:///{demo_portal.folder / 'portal.sqlite3'}"))
    try:
        nurse = http_login(demo_portal.url, "nurse")
        frontdesk = http_login(demo_portal.url, "frontdesk")
        for status, who, queue in (
            ("open", nurse, "nursing"),
            ("new", frontdesk, "front_desk"),
            ("waiting_patient", nurse, "nursing"),
        ):
            view(demo_portal.url, who, find_item(db, status=status, queue=queue).id)
        break_glass(
            db,
            "doctor",
            find_item(db, status="done"),
            "On call: patient phoned the service overnight",
        )
    finally:
        db.engine.dispose()
    with demo_desk(qtbot, qapp, demo_portal, tmp_path, "admin") as app:
        dialog = open_from_menu(qtbot, app.window)
        assert dialog.chain.text().startswith("Audit chain intact")
        dialog.resize(1320, 640)
        qapp.processEvents()
        path = tmp_path / "audit.png"
        assert dialog.grab().save(str(path))
        _keep(path, "audit-window.png")


def test_the_audit_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from portal_client.audit_log import rows_from_events
    from ui.audit_model import EVENT_COLUMNS, AuditModel

    def event(seq: int) -> dict[str, Any]:
        return {
            "seq": seq,
            "at": "2026-03-09T14:05:00Z",
            "actor": {"kind": "system", "id": None},
            "action": "item.break_glass" if seq % 2 else "item.view",
            "detail": {"reason": "x"},
        }

    rows = rows_from_events([event(n) for n in (5, 4, 3)], staff=[], patients={}, subjects={})
    model = AuditModel(EVENT_COLUMNS)
    model.set_rows(rows[:2])
    qtmodeltester.check(model)
    model.append(rows[2:])
    qtmodeltester.check(model)
    assert model.rowCount() == 3
