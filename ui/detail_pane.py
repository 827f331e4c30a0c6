"""The item on the right: patient, context for its kind, the thread, actions and the composer.

Every string that came from a patient or the server goes through PlainLabel or a plain-text
editor: `<b>hi</b>` shows those characters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from portal_client.templates import fill, local_time, placeholders, templates_for

from .inbox_model import KIND_WORDS, QUEUE_WORDS, STATUS_WORDS
from .widgets import PlainLabel

ROLE_WORDS = {
    "front_desk": "front desk",
    "nurse": "nurse",
    "clinician": "clinician",
    "admin": "administrator",
}


def next_weekday_morning(now: datetime) -> datetime:
    """A sensible first offer for a new time: 09:00 on the next weekday after tomorrow."""
    day = (now + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _when(value: str | None, timezone: str | None) -> str:
    return local_time(value, timezone) if value else ""


class DetailPane(QWidget):
    """Emits `action_requested(item_id, action, if_match)`; the window queues it."""

    action_requested = Signal(str, dict, object)
    notice_dismissed = Signal(int)

    def __init__(self, me: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.me = me  # {"id", "role", "display_name"}
        self.item: dict[str, Any] | None = None
        self.patient: dict[str, Any] | None = None
        self.staff: dict[str, str] = {}
        self.policy: dict[str, Any] = {}
        self.notice: dict[str, Any] | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.empty = PlainLabel("Select an item to see it here.", selectable=False)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.empty)

        self.body = QWidget(self)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.body, 1)

        self.banner = QFrame(self.body)
        self.banner.setObjectName("notice")
        banner = QHBoxLayout(self.banner)
        self.banner_text = PlainLabel("", self.banner)
        self.banner_text.setAccessibleName("Notice")
        self.reuse_button = QPushButton("Reuse my text", self.banner)
        self.dismiss_button = QPushButton("Dismiss", self.banner)
        banner.addWidget(self.banner_text, 1)
        banner.addWidget(self.reuse_button)
        banner.addWidget(self.dismiss_button)
        self.reuse_button.clicked.connect(self._reuse_text)
        self.dismiss_button.clicked.connect(self._dismiss)
        body.addWidget(self.banner)

        self.title = PlainLabel("", self.body)
        self.title.setObjectName("itemTitle")
        self.patient_line = PlainLabel("", self.body)
        self.patient_line.setObjectName("patientLine")
        self.patient_facts = PlainLabel("", self.body)
        self.context = PlainLabel("", self.body)
        self.context.setObjectName("context")
        for widget in (self.title, self.patient_line, self.patient_facts, self.context):
            body.addWidget(widget)

        self.thread_area = QScrollArea(self.body)
        self.thread_area.setWidgetResizable(True)
        self.thread_area.setAccessibleName("Conversation")
        self.thread_box = QWidget()
        self.thread_layout = QVBoxLayout(self.thread_box)
        self.thread_layout.addStretch(1)
        self.thread_area.setWidget(self.thread_box)
        body.addWidget(self.thread_area, 1)

        actions = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for n, (key, label) in enumerate(
            (
                ("claim", "Claim (C)"),
                ("release", "Release"),
                ("wait_patient", "Waiting on patient"),
                ("resolve", "Done (D)"),
                ("reopen", "Reopen"),
                ("priority", "Mark urgent"),
            )
        ):
            button = QPushButton(label, self.body)
            button.setAccessibleName(label.split(" (")[0])
            button.clicked.connect(lambda _c=False, k=key: self._simple(k))
            self.buttons[key] = button
            actions.addWidget(button, n // 3, n % 3)
        self.assign = QComboBox(self.body)
        self.assign.setAccessibleName("Assign to")
        self.route = QComboBox(self.body)
        self.route.setAccessibleName("Move to queue")
        self.route.addItem("Move to queue…", None)
        for key, word in QUEUE_WORDS.items():
            self.route.addItem(word, key)
        self.assign.activated.connect(self._assign)
        self.route.activated.connect(self._route)
        actions.addWidget(self.assign, 2, 0)
        actions.addWidget(self.route, 2, 1)
        body.addLayout(actions)

        self.decision_row = QWidget(self.body)
        decision = QHBoxLayout(self.decision_row)
        decision.setContentsMargins(0, 0, 0, 0)
        self.approve = QPushButton("Approve", self.decision_row)
        self.modify = QPushButton("Approve 30 days", self.decision_row)
        self.deny = QPushButton("Deny", self.decision_row)
        self.confirm_time = QDateTimeEdit(self.decision_row)
        self.confirm_time.setCalendarPopup(True)
        self.confirm_time.setDisplayFormat("ddd d MMM yyyy HH:mm")
        self.confirm_time.setAccessibleName("Appointment time")
        self.confirm = QPushButton("Confirm appointment", self.decision_row)
        self.decline = QPushButton("Decline", self.decision_row)
        self.decision_note = PlainLabel("", self.decision_row, selectable=False)
        for decision_widget in (
            self.approve,
            self.modify,
            self.deny,
            self.confirm_time,
            self.confirm,
            self.decline,
            self.decision_note,
        ):
            decision.addWidget(decision_widget)
        decision.addStretch(1)
        self.approve.clicked.connect(lambda: self._refill("approved"))
        self.modify.clicked.connect(lambda: self._refill("modified"))
        self.deny.clicked.connect(lambda: self._refill("denied"))
        self.confirm.clicked.connect(lambda: self._appointment("confirmed"))
        self.decline.clicked.connect(lambda: self._appointment("declined"))
        body.addWidget(self.decision_row)

        composer_bar = QHBoxLayout()
        self.template = QComboBox(self.body)
        self.template.setAccessibleName("Canned reply")
        self.template.activated.connect(self._apply_template)
        self.then = QComboBox(self.body)
        self.then.setAccessibleName("After replying")
        for label, value in (
            ("Keep open", None),
            ("Then wait on patient", "waiting_patient"),
            ("Then done", "done"),
        ):
            self.then.addItem(label, value)
        composer_bar.addWidget(self.template, 1)
        composer_bar.addWidget(self.then)
        body.addLayout(composer_bar)
        self.composer = QPlainTextEdit(self.body)
        self.composer.setPlaceholderText("Write a reply to the patient, or an internal note")
        self.composer.setAccessibleName("Message")
        self.composer.setMaximumHeight(120)
        body.addWidget(self.composer)
        send = QHBoxLayout()
        self.reply_button = QPushButton("Send reply (Ctrl+Enter)", self.body)
        self.note_button = QPushButton("Add internal note", self.body)
        self.reply_button.clicked.connect(self.send_reply)
        self.note_button.clicked.connect(self.add_note)
        send.addStretch(1)
        send.addWidget(self.note_button)
        send.addWidget(self.reply_button)
        body.addLayout(send)
        self.body.hide()

    # ---- showing an item ---------------------------------------------------------------------

    def show_item(
        self,
        item: dict[str, Any] | None,
        patient: dict[str, Any] | None,
        staff: dict[str, str],
        policy: dict[str, Any],
        notice: dict[str, Any] | None = None,
    ) -> None:
        keep_text = self.item is not None and item is not None and self.item["id"] == item["id"]
        self.item, self.patient, self.staff, self.policy, self.notice = (
            item,
            patient,
            staff,
            policy,
            notice,
        )
        if item is None:
            self.body.hide()
            self.empty.show()
            return
        self.empty.hide()
        self.body.show()
        if not keep_text:
            self.composer.clear()
        tz = policy.get("timezone")
        assignee = (
            "Assigned to " + staff.get(item["assignee_id"], "someone")
            if item.get("assignee_id")
            else "Unassigned"
        )
        kind_word = KIND_WORDS.get(item["kind"], item["kind"])
        subject = item["subject"]
        heading = (
            subject
            if subject.lower().startswith(kind_word.lower())
            else (f"{kind_word} · {subject}")
        )
        self.title.setText(
            f"{heading}\n"
            f"{STATUS_WORDS.get(item['status'], item['status'])} · "
            f"{'Urgent' if item['priority'] == 'urgent' else 'Routine'} · "
            f"{QUEUE_WORDS.get(item['queue'], item['queue'])} · "
            f"{assignee}"
        )
        if patient:
            self.patient_line.setText(f"{patient['given_name']} {patient['family_name']}")
            self.patient_facts.setText(
                f"Born {patient.get('birth_date', '')} · MRN {patient.get('mrn', '')} · "
                f"{patient.get('phone') or 'no phone'}"
                + (
                    "\nAllergies: "
                    + ", ".join(
                        f"{a.get('substance')} ({a.get('reaction')})" for a in patient["allergies"]
                    )
                    if patient.get("allergies")
                    else "\nNo known allergies"
                )
            )
        else:
            self.patient_line.setText("Patient details not synced yet")
            self.patient_facts.setText("")
        self.context.setText(self._context(item, patient, tz))
        self._show_thread(item, tz)
        self._show_banner()
        self._update_actions()

    def _context(self, item: dict[str, Any], patient: dict[str, Any] | None, tz: str | None) -> str:
        details = item.get("details") or {}
        lines: list[str] = []
        if item["kind"] == "refill":
            med = details.get("medication") or {}
            lines.append(
                f"Requested: {med.get('name', '')} {med.get('strength', '')} "
                f"{med.get('form', '')} — {med.get('sig', '')}"
            )
            lines.append(
                f"Quantity {details.get('quantity_requested') or '?'} · "
                f"{details.get('pharmacy') or 'no pharmacy given'} · "
                f"last filled {details.get('last_filled_on') or 'unknown'}"
                + (" · CONTROLLED SUBSTANCE" if details.get("controlled") else "")
            )
            meds = (patient or {}).get("medications") or []
            if meds:
                lines.append("Medication list:")
                lines.extend(
                    f"  • {m.get('name')} {m.get('strength')} — last fill "
                    f"{m.get('last_filled_on') or '?'}"
                    f"{' · controlled' if m.get('controlled') else ''}"
                    for m in meds
                )
        elif item["kind"] == "appointment":
            current = details.get("current_appointment")
            lines.append(f"Change: {details.get('change', '')}")
            if current:
                lines.append(
                    f"Current: {_when(current.get('starts_at'), tz)} with "
                    f"{current.get('provider', '')} ({current.get('type', '')})"
                )
            if details.get("preferred_times"):
                lines.append("Prefers: " + "; ".join(details["preferred_times"]))
            if details.get("reason"):
                lines.append(f"Reason: {details['reason']}")
        else:
            lines.append(f"Category: {details.get('category', 'other')}")
        decision = details.get("decision")
        if decision:
            who = self.staff.get(decision.get("decided_by", ""), "someone")
            lines.append(
                f"Decision: {decision.get('outcome')} by {who} "
                f"{_when(decision.get('decided_at'), tz)}"
            )
        return "\n".join(lines)

    def _show_thread(self, item: dict[str, Any], tz: str | None) -> None:
        while self.thread_layout.count() > 1:
            taken = self.thread_layout.takeAt(0)
            old = taken.widget() if taken is not None else None
            if old is not None:
                old.deleteLater()
        for entry in item.get("entries", []):
            author = entry.get("author", {})
            name = (
                "Patient"
                if author.get("kind") == "patient"
                else self.staff.get(author.get("id", ""), "Staff")
            )
            when = _when(entry.get("created_at"), tz)
            pending = (entry.get("data") or {}).get("pending")
            if entry["type"] == "event":
                label = PlainLabel(
                    f"{name} · {entry.get('body') or entry['data'].get('action', '')}"
                    f" · {when}{' (sending…)' if pending else ''}"
                )
                label.setObjectName("eventLine")
            else:
                heading = {
                    "patient_message": f"{name} wrote",
                    "staff_reply": f"Reply from {name}",
                    "internal_note": f"Internal note · {name}",
                }[entry["type"]]
                label = PlainLabel(
                    f"{heading} · {when}{' (sending…)' if pending else ''}\n{entry.get('body', '')}"
                )
                label.setObjectName(entry["type"])
                label.setFrameShape(QFrame.Shape.StyledPanel)
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            self.thread_layout.insertWidget(self.thread_layout.count() - 1, label)

    def _show_banner(self) -> None:
        if self.notice:
            self.banner_text.setText(self.notice["message"])
            self.reuse_button.setVisible(bool(self.notice.get("user_text")))
            self.banner.show()
        else:
            self.banner.hide()

    def _update_actions(self) -> None:
        item = self.item
        assert item is not None
        closed = item["status"] in ("done", "cancelled")
        mine = item.get("assignee_id") == self.me["id"]
        self.buttons["claim"].setEnabled(not closed and not mine)
        self.buttons["release"].setEnabled(not closed and bool(item.get("assignee_id")))
        self.buttons["wait_patient"].setEnabled(not closed and item["status"] != "waiting_patient")
        self.buttons["resolve"].setEnabled(not closed)
        self.buttons["reopen"].setEnabled(closed)
        urgent = item["priority"] == "urgent"
        self.buttons["priority"].setText("Mark routine" if urgent else "Mark urgent")
        self.buttons["priority"].setEnabled(not closed)
        for control in (self.assign, self.route, self.reply_button, self.then):
            control.setEnabled(not closed)
        self.assign.clear()
        self.assign.addItem("Assign to…", None)
        for staff_id, name in sorted(self.staff.items(), key=lambda p: p[1]):
            self.assign.addItem(name, staff_id)
        is_refill, is_appt = item["kind"] == "refill", item["kind"] == "appointment"
        clinician = self.me["role"] == "clinician"
        for button in (self.approve, self.modify, self.deny):
            button.setVisible(is_refill and clinician)
            button.setEnabled(not closed)
        for appointment_control in (self.confirm_time, self.confirm, self.decline):
            appointment_control.setVisible(is_appt)
            appointment_control.setEnabled(not closed)
        if is_appt:
            first_offer = next_weekday_morning(datetime.now().astimezone())
            self.confirm_time.setDateTime(
                QDateTime.fromSecsSinceEpoch(int(first_offer.timestamp()))
            )
        if is_refill and not clinician:
            self.decision_note.setText(
                "Only clinicians can approve or deny refills; "
                "route it to Clinician sign-off when it is ready."
            )
        else:
            self.decision_note.setText("")
        self.decision_row.setVisible(is_refill or is_appt)
        self.template.clear()
        self.template.addItem("Canned reply…", None)
        for template in templates_for(self.policy, item["kind"]):
            self.template.addItem(template["title"], template["body"])

    # ---- actions -----------------------------------------------------------------------------

    def _request(self, action: dict[str, Any], if_match: int | None = None) -> None:
        if self.item is not None:
            self.action_requested.emit(self.item["id"], action, if_match)

    def _simple(self, key: str) -> None:
        if key == "priority" and self.item is not None:
            urgent = self.item["priority"] == "urgent"
            self._request({"type": "set_priority", "priority": "routine" if urgent else "urgent"})
        else:
            self._request({"type": key})

    def claim(self) -> None:
        if self.buttons["claim"].isEnabled():
            self._simple("claim")

    def done(self) -> None:
        if self.buttons["resolve"].isEnabled():
            self._simple("resolve")

    def _assign(self, index: int) -> None:
        staff_id = self.assign.itemData(index)
        if staff_id:
            self._request({"type": "assign", "assignee_id": staff_id})

    def _route(self, index: int) -> None:
        queue = self.route.itemData(index)
        self.route.setCurrentIndex(0)
        if queue:
            self._request({"type": "route", "queue": queue})

    def _refill(self, outcome: str) -> None:
        action: dict[str, Any] = {"type": "refill_decision", "outcome": outcome}
        if outcome == "modified":
            action["quantity"] = 30
            action["note"] = "30-day supply; please book a visit for further refills."
        text = self.composer.toPlainText().strip()
        if text:
            action["note"] = text
        # Decisions are based on what the clinician saw: a change meanwhile must not be overruled.
        self._request(action, if_match=self.item["version"] if self.item else None)
        self.composer.clear()

    def _appointment(self, outcome: str) -> None:
        action: dict[str, Any] = {"type": "appointment_decision", "outcome": outcome}
        if outcome == "confirmed":
            moment = self.confirm_time.dateTime().toSecsSinceEpoch()
            action["starts_at"] = (
                datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
            )
        text = self.composer.toPlainText().strip()
        if text:
            action["note"] = text
        self._request(action, if_match=self.item["version"] if self.item else None)
        self.composer.clear()

    def send_reply(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text or self.item is None or not self.reply_button.isEnabled():
            return
        action: dict[str, Any] = {"type": "reply", "body": text}
        if self.then.currentData():
            action["then"] = self.then.currentData()
        self._request(action)
        self.composer.clear()
        self.then.setCurrentIndex(0)

    def add_note(self) -> None:
        text = self.composer.toPlainText().strip()
        if text and self.item is not None:
            self._request({"type": "note", "body": text})
            self.composer.clear()

    def _apply_template(self, index: int) -> None:
        body = self.template.itemData(index)
        if body and self.item is not None:
            values = placeholders(self.item, self.patient, self.me["display_name"], self.policy)
            self.composer.setPlainText(fill(body, values))
            self.composer.setFocus()

    def _reuse_text(self) -> None:
        if self.notice and self.notice.get("user_text"):
            self.composer.setPlainText(self.notice["user_text"])
            self.composer.setFocus()

    def _dismiss(self) -> None:
        if self.notice:
            self.notice_dismissed.emit(int(self.notice["id"]))
            self.notice = None
            self.banner.hide()
