"""Urgent work on the desktop: announced at once (category only), repeated until claimed, to
the roles that can act on it; the red flags shown on the item with the patient's words
highlighted; lowering it asks a reason; the policy's urgent settings edited in the app."""

from __future__ import annotations

from datetime import timedelta

import requests
from PySide6.QtCore import Qt

from desktop.settings import URGENT_SOUND
from portal_client.urgent import REPEAT
from tests.helpers import http_item, http_login, http_policy, http_request
from tests.ui.conftest import settle, wait_for
from ui.red_flags import FlaggedMessage

PATIENT_TEXT = "my son swallowed a button battery about 20 min ago <b>please</b>"


def file_flagged(portal, patient: str = "patient7") -> str:  # type: ignore[no-untyped-def]
    tokens = http_login(portal.url, patient, patient=True)
    item = http_request(
        portal.url,
        tokens,
        {"kind": "message", "subject": "Battery", "body": PATIENT_TEXT, "details": {}},
    )
    return str(item["id"])


def urgent_notices(window) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [n for n in window.shown_notices if "urgent" in n[0].lower()]


def test_a_new_red_flag_is_announced_at_once_with_its_category_only(
    qtbot, open_desk, portal
) -> None:
    nurse = open_desk("nurse")
    front = open_desk("frontdesk")
    window = nurse.window
    settle(qtbot, window)
    before = len(urgent_notices(window))
    front_before = len(urgent_notices(front.window))
    item_id = file_flagged(portal)
    nurse.services.engine.sync_now()
    wait_for(
        qtbot,
        lambda: any(
            "ingestion" in title or "ingestion" in text
            for title, text in urgent_notices(window)[before:]
        ),
        timeout=15,
    )
    title, text = next(
        n for n in urgent_notices(window)[before:] if "ingestion" in n[0] or "ingestion" in n[1]
    )
    shown = title + text
    assert "battery" not in shown.lower() and "Battery" not in shown  # never the message
    patient = nurse.services.cache.queries.item(item_id)["patient_id"]
    name = nurse.services.cache.queries.patient(patient)["family_name"]
    assert name not in shown  # never the patient
    # The front desk cannot act on a red flag (it went to nursing): not told.
    front.services.engine.sync_now()
    settle(qtbot, front.window)
    with qtbot.waitSignal(front.window.urgent_checked) as checked:
        front.window.check_urgent()
    assert checked.args == [0]
    assert len(urgent_notices(front.window)) == front_before


def test_urgent_work_is_announced_again_every_five_minutes_until_claimed(
    qtbot, open_desk, portal
) -> None:
    nurse = open_desk("nurse")
    watch = nurse.services.urgent
    item_id = file_flagged(portal, "patient8")
    nurse.services.engine.sync_now()
    # The window announced it as the sync brought it in.
    wait_for(qtbot, lambda: item_id in watch.announced, timeout=15)
    now = watch.announced[item_id][1]
    assert item_id not in {u.item_id for u in watch.due(now + timedelta(minutes=4))}
    again = [u for u in watch.due(now + REPEAT) if u.item_id == item_id]
    assert [u.words for u in again] == ["ingestion, overdose or poisoning"]
    # A new red flag on it is announced at once (by the window, as the sync brings it).
    first_key = watch.announced[item_id][0]
    shown_before = len(urgent_notices(nurse.window))
    tokens = http_login(portal.url, "patient8", patient=True)
    requests.post(
        f"{portal.url}/api/v1/patient/requests/{item_id}/messages",
        json={"body": "now he is drooling and wont eat"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).raise_for_status()
    nurse.services.engine.sync_now()
    wait_for(qtbot, lambda: len(urgent_notices(nurse.window)) > shown_before, timeout=15)
    assert watch.announced[item_id][0] != first_key  # announced for the new red flag
    # Claimed: never again.
    window = nurse.window
    window.detail.show_item(
        nurse.services.cache.queries.item(item_id), None, list(nurse.services.reference.staff), {}
    )
    window.detail.claim()
    wait_for(
        qtbot,
        lambda: item_id not in {u.item_id for u in watch.due(now + timedelta(hours=1))},
        timeout=15,
    )


def test_the_item_shows_its_red_flags_and_highlights_the_words(qtbot, open_desk, portal) -> None:
    nurse = open_desk("nurse")
    item_id = file_flagged(portal, "patient9")
    nurse.services.engine.sync_now()
    wait_for(qtbot, lambda: nurse.services.cache.queries.item(item_id) is not None, timeout=15)
    window = nurse.window
    window.queues.select("nursing")
    settle(qtbot, window)
    window.inbox.select_id(item_id)
    wait_for(qtbot, lambda: window.detail.item is not None and window.detail.item["id"] == item_id)
    banner = window.detail.red_flags
    assert banner.isVisible()
    assert banner.text.text() == (
        "Urgent: \u201cswallowed a button battery\u201d \u2014 ingestion, overdose or poisoning"
    )
    flagged = window.detail.thread_view.findChildren(FlaggedMessage)
    assert len(flagged) == 1
    assert flagged[0].marked_text == ["swallowed a button battery"]
    assert "<b>please</b>" in flagged[0].toPlainText()  # plain text, never HTML
    # The automatic reply is in the thread, from the system.
    texts = [w.text() for w in window.detail.thread_view.box.findChildren(type(banner.text))]
    assert any(t.startswith("Automatic safety reply to the patient") for t in texts)


def test_lowering_a_red_flag_item_asks_a_reason(qtbot, open_desk, portal) -> None:
    nurse = open_desk("nurse")
    item_id = file_flagged(portal, "patient10")
    nurse.services.engine.sync_now()
    wait_for(qtbot, lambda: nurse.services.cache.queries.item(item_id) is not None, timeout=15)
    detail = nurse.window.detail
    detail.show_item(
        nurse.services.cache.queries.item(item_id), None, list(nurse.services.reference.staff), {}
    )
    button = detail.buttons["priority"]
    assert button.text() == "Mark routine" and button.isEnabled()
    assert "reason" in button.toolTip()
    sent: list[dict] = []
    detail.action_requested.connect(lambda _id, action, _v: sent.append(action))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = detail.item_actions.reason_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue("Called the family: the battery was found on the floor, not swallowed")
    dialog.accept()
    assert sent == [
        {
            "type": "set_priority",
            "priority": "routine",
            "reason": "Called the family: the battery was found on the floor, not swallowed",
        }
    ]
    nurse.window._act(item_id, sent[0], None)
    wait_for(qtbot, lambda: http_item(portal.url, item_id)["priority"] == "routine", timeout=15)
    lowered = nurse.services.cache.queries.item(item_id)
    detail.show_item(lowered, None, list(nurse.services.reference.staff), {})
    assert detail.red_flags.text.text().startswith("Red flag, marked routine: ")
    lines = [w.text() for w in detail.thread_view.box.findChildren(type(detail.title))]
    assert any("Priority set to routine: Called the family" in line for line in lines)


def test_an_admin_edits_the_safety_replies_and_the_on_call_rota(qtbot, open_desk, portal) -> None:
    desk = open_desk("admin")
    editor = desk.window.open_policy_editor()
    qtbot.addWidget(editor)
    editor.tabs.setCurrentIndex(1)
    editor.replies["poison"].setPlainText("Call Poison Control at 1-800-222-1222 right now.")
    editor.unclaimed.setValue(10)
    editor.add_shift("2026-12-05", "2026-12-06", None)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "on-call shift 1: choose a clinician" in editor.errors.text()
    who = editor.rota.cellWidget(0, 2)
    who.setCurrentIndex(who.findText("Grace Whitfield, NP"))
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: editor.result() == 1, timeout=15)
    policy = http_policy(portal.url)
    assert policy["escalation"] == {"unclaimed_minutes": 10}
    assert policy["safety_replies"]["poison"].startswith("Call Poison Control")
    [shift] = policy["on_call"]["rota"]
    assert (shift["starts"], shift["ends"]) == ("2026-12-05", "2026-12-06")
    # Patients get the new text at once.
    tokens = http_login(portal.url, "patient11", patient=True)
    reply = requests.post(
        f"{portal.url}/api/v1/patient/requests",
        json={"kind": "message", "subject": "help", "body": "my toddler drank some bleach"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert reply["safety_message"] == "Call Poison Control at 1-800-222-1222 right now."


def test_the_sound_preference_is_kept(qtbot, open_desk) -> None:
    desk = open_desk("nurse")
    action = desk.window.sound_action
    assert not action.isChecked()
    action.setChecked(True)
    assert desk.app.settings.get(URGENT_SOUND) is True
    action.setChecked(False)
    assert desk.app.settings.get(URGENT_SOUND) is False
