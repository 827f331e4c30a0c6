"""Privacy in the desktop: an explicit audience for every text, headers for work that is not the
role's, break the glass, and views recorded for the audit log (real portal on loopback)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt
from sqlalchemy import select

from portal_api.models import AuditEvent
from portal_client.templates import local_time
from tests.helpers import find_item, http_item
from tests.ui.conftest import settle, wait_for
from tests.ui.test_main_window import open_item
from triage_core.times import rfc3339
from ui.composer import HEADINGS, INTERNAL, TO_PATIENT


def portal_policy_zone(window) -> str:  # type: ignore[no-untyped-def]
    return str(window.services.reference.policy["timezone"])


def shoot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a screenshot for the docs when asked (TRIAGE_SCREENSHOTS_DIR)."""
    if directory := os.environ.get("TRIAGE_SCREENSHOTS_DIR"):
        widget.grab().save(str(Path(directory) / name))


def audit_rows(portal, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with portal.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_composer_says_whom_it_writes_to(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, status="new", kind="refill")
    window = open_desk("doctor").window
    open_item(qtbot, window, item.id)
    editor = window.detail.editor
    assert editor.mode == TO_PATIENT
    assert editor.heading.text() == HEADINGS[TO_PATIENT]
    assert editor.text.property("audience") == "patient"
    assert window.detail.approve.text() == "Approve (no message)"
    editor.text.setPlainText("Approved, pick it up tomorrow.")
    assert window.detail.approve.text() == "Approve + message"
    assert "goes to the patient" in window.detail.approve.toolTip()
    shoot(window.detail, "composer-to-patient.png")
    assert "goes to the patient" in window.detail.deny.accessibleDescription()
    qtbot.mouseClick(editor.internal, Qt.MouseButton.LeftButton)
    assert editor.mode == INTERNAL
    assert editor.heading.text() == HEADINGS[INTERNAL]
    assert editor.text.property("audience") == "internal"
    assert window.detail.approve.text() == "Approve + note"
    assert editor.note_button.isVisibleTo(editor) and not editor.reply_button.isVisibleTo(editor)
    assert not editor.template.isVisibleTo(editor)  # canned replies are for patients
    shoot(window.detail, "composer-internal-note.png")


def test_a_decision_sends_its_text_to_the_audience_shown(qtbot, open_desk, portal) -> None:
    first, second = (  # (in nursing: not controlled, one click each)
        find_item(portal.db, status="new", kind="refill", queue="nursing"),
        find_item(portal.db, status="open", kind="refill", queue="nursing"),
    )
    window = open_desk("doctor").window
    editor = window.detail.editor

    open_item(qtbot, window, first.id)
    editor.text.setPlainText("Your refill is ready at the pharmacy.")
    qtbot.mouseClick(window.detail.approve, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: http_item(portal.url, first.id)["status"] == "done", timeout=15)
    entries = http_item(portal.url, first.id)["entries"]
    assert ("staff_reply", "Your refill is ready at the pharmacy.") in [
        (e["type"], e["body"]) for e in entries
    ]
    assert editor.written() == ""

    open_item(qtbot, window, find_item(portal.db, status="new", kind="message").id)
    open_item(qtbot, window, second.id)
    qtbot.mouseClick(editor.internal, Qt.MouseButton.LeftButton)
    editor.text.setPlainText("Early refill pattern: check the PDMP next time.")
    qtbot.mouseClick(window.detail.deny, Qt.MouseButton.LeftButton)
    dialog = window.detail.item_actions.denial_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.reason.setCurrentIndex(dialog.reason.findData("too_early"))
    told = dialog.message.toPlainText()
    assert "too early to refill" in told  # the reason's message, shown before it goes
    dialog.deny_button.click()
    wait_for(qtbot, lambda: http_item(portal.url, second.id)["status"] == "done", timeout=15)
    served = http_item(portal.url, second.id)
    assert served["details"]["decision"]["reason"] == "too_early"
    written = [(e["type"], e["body"]) for e in served["entries"]]
    assert ("internal_note", "Early refill pattern: check the PDMP next time.") in written
    assert ("staff_reply", told) in written

    # The thread marks both audiences.
    wait_for(qtbot, lambda: window.detail.item["version"] == served["version"], timeout=15)
    headings = [w.text() for w in window.detail.thread_box.findChildren(type(window.detail.title))]
    assert any(h.startswith("Internal note · staff only") for h in headings)


def test_a_canned_reply_names_the_time_in_the_picker(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, status="new", kind="appointment")
    window = open_desk("frontdesk").window
    open_item(qtbot, window, item.id)
    template = window.detail.template
    index = next(
        n for n in range(template.count()) if "{appointment_time}" in str(template.itemData(n))
    )
    # Untouched, the picker's first offer is the time named.
    offered = window.detail.confirm_time.dateTime().toSecsSinceEpoch()
    template.activated.emit(index)
    expected = local_time(rfc3339(datetime.fromtimestamp(offered, UTC)), portal_policy_zone(window))
    assert expected in window.detail.composer.toPlainText()
    window.detail.composer.clear()
    picked = QDateTime.fromString("2026-12-03T14:30:00Z", Qt.DateFormat.ISODate)
    window.detail.confirm_time.setDateTime(picked)
    template.activated.emit(index)
    written = window.detail.composer.toPlainText()
    assert "3 December at 9:30" in written  # in practice time (New York), not the old slot


def test_the_front_desk_gets_a_header_and_can_break_the_glass(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, kind="message", queue="nursing", status="new", assignee_id=None)
    window = open_desk("frontdesk").window
    open_item(qtbot, window, item.id)
    detail = window.detail
    assert detail.item["restricted"] is True
    assert detail.restricted_box.isVisibleTo(detail)
    assert not detail.thread_view.isVisibleTo(detail)
    assert not detail.editor.isVisibleTo(detail)
    # A patient sent without a chart is never shown as having no allergies.
    detail._show_patient({"given_name": "Ana", "family_name": "Ruiz", "mrn": "RFM1"})
    assert "Allergies: not sent to your role" in detail.patient_facts.text()
    assert "No known allergies" not in detail.patient_facts.text()
    assert detail.buttons["claim"].isEnabled()  # acting is not restricted

    dialog = detail.ask_glass_reason()
    assert dialog is not None
    dialog.setTextValue("Patient on the phone asking about this message")
    dialog.accept()
    wait_for(qtbot, lambda: not detail.item.get("restricted"), timeout=15)
    assert detail.thread_view.isVisibleTo(detail)
    assert detail.item["entries"]
    [event] = audit_rows(portal, "item.break_glass")
    assert event.item_id == item.id
    assert event.detail == {"reason": "Patient on the phone asking about this message"}
    shoot(window, "break-the-glass.png")


def test_opening_an_item_is_recorded_once_a_minute(qtbot, open_desk, portal) -> None:
    item = find_item(portal.db, status="new", kind="message")
    other = find_item(portal.db, status="new", kind="refill")
    desk = open_desk("nurse")
    window = desk.window
    open_item(qtbot, window, item.id)
    open_item(qtbot, window, other.id)
    open_item(qtbot, window, item.id)  # again within the minute: the same view
    settle(qtbot, window)
    desk.services.engine.sync_now()

    def desktop_views() -> list[AuditEvent]:
        return [e for e in audit_rows(portal, "item.view") if e.detail.get("source") == "desktop"]

    wait_for(qtbot, lambda: len(desktop_views()) >= 2, timeout=15)
    by_item = sorted(e.item_id for e in desktop_views())
    assert by_item == sorted([item.id, other.id])
    assert all(e.actor_id == desk.services.user.id for e in desktop_views())
    wait_for(qtbot, lambda: desk.services.cache.views.pending_count() == 0, timeout=10)


def test_thirty_days_is_thirty_days_of_the_prescription() -> None:
    from triage_core.vocabulary import RefillOutcome
    from ui.item_actions import thirty_days

    twice_daily = {"details": {"prescription": {"quantity": 180, "days_supply": 90}}}
    decision = thirty_days(twice_daily)
    assert decision.outcome == RefillOutcome.MODIFIED
    assert (decision.quantity, decision.days_supply) == (60, 30)
    unknown = thirty_days({"details": {}})
    assert (unknown.quantity, unknown.days_supply) == (None, 30)


def test_the_clinician_sees_the_protocol_and_confirms_a_controlled_refill(
    qtbot, open_desk, portal
) -> None:
    """The clinician queue shows the verdict with why in the tooltip, the detail pane the
    checklist, and approving a controlled substance takes a PDMP confirmation."""
    from portal_api.models import Item
    from ui.inbox_model import PROTOCOL_COLUMN

    with portal.db.read() as session:
        controlled = session.scalars(
            select(Item).where(
                Item.kind == "refill", Item.queue == "clinician", Item.status == "new"
            )
        ).all()
    item = next(i for i in controlled if i.details.get("controlled"))
    desk = open_desk("doctor")
    window = desk.window
    open_item(qtbot, window, item.id)
    assert not window.inbox.table.isColumnHidden(PROTOCOL_COLUMN)
    row = window.model.row_of(item.id)
    index = window.model.index(row, PROTOCOL_COLUMN)
    assert window.model.data(index) == "Review"
    assert "PDMP" in window.model.data(index, Qt.ItemDataRole.ToolTipRole)
    context = window.detail.context.text()
    assert "Protocol: REVIEW" in context and "✗ Controlled substance" in context
    shoot(window, "refill-checklist.png")
    qtbot.mouseClick(window.detail.approve, Qt.MouseButton.LeftButton)
    box = window.detail.item_actions.controlled_box
    assert box is not None and box.isVisible()
    assert http_item(portal.url, item.id)["status"] != "done"  # not one click
    box.button(box.StandardButton.Yes).click()
    wait_for(qtbot, lambda: http_item(portal.url, item.id)["status"] == "done", timeout=15)
