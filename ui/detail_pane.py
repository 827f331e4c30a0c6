"""The item on the right: patient, context for its kind, the thread, actions and the composer.

Every string that came from a patient or the server goes through PlainLabel or a plain-text
editor: `<b>hi</b>` shows those characters. The pane only shows what it is given and asks for
actions through its signal; which actions are offered is the domain core's decision.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal_client.templates import denial_message, local_time
from triage_core.actions import text_audience
from triage_core.permissions import Actor
from triage_core.times import rfc3339
from triage_core.vocabulary import Kind, Priority, Queue, Status

from .composer import INTERNAL, TO_PATIENT, Composer
from .item_actions import ItemActions
from .red_flags import RedFlagBanner
from .thread_view import ThreadView
from .widgets import PlainLabel, ask_reason


def _when(value: str | None, timezone: str | None) -> str:
    return local_time(value, timezone) if value else ""


def protocol_lines(checked: Any) -> list[str]:
    """The refill protocol's checklist: the verdict, then each rule with ✓ or ✗."""
    if not isinstance(checked, dict) or checked.get("verdict") not in ("pass", "review"):
        return ["Protocol: not checked yet"]
    verdict = (
        "Protocol: PASS — every rule holds"
        if checked["verdict"] == "pass"
        else "Protocol: REVIEW — sign it yourself"
    )
    marks = [
        f"  {'✓' if reason.get('ok') else '✗'} {reason.get('text', '')}"
        for reason in checked.get("reasons") or []
    ]
    return [verdict, *marks]


class DetailPane(QWidget):
    """Emits `action_requested(item_id, action, if_match)`; the window queues it."""

    action_requested = Signal(str, dict, object)
    notice_dismissed = Signal(int)
    break_glass_requested = Signal(str, str)  # item id, reason

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

        self.red_flags = RedFlagBanner(self.body)
        body.addWidget(self.red_flags)
        self.title = PlainLabel("", self.body)
        self.title.setObjectName("itemTitle")
        self.patient_line = PlainLabel("", self.body)
        self.patient_line.setObjectName("patientLine")
        self.patient_facts = PlainLabel("", self.body)
        self.context = PlainLabel("", self.body)
        self.context.setObjectName("context")
        for widget in (self.title, self.patient_line, self.patient_facts, self.context):
            body.addWidget(widget)

        self.restricted_box = QFrame(self.body)
        self.restricted_box.setObjectName("restricted")
        restricted = QHBoxLayout(self.restricted_box)
        self.restricted_text = PlainLabel("", self.restricted_box)
        self.restricted_text.setAccessibleName("Restricted item")
        self.glass_button = QPushButton("Open anyway (break the glass)…", self.restricted_box)
        self.glass_button.setToolTip(
            "Opens the whole item after you give a reason. The access is recorded and "
            "listed apart in the audit log."
        )
        self.glass_button.clicked.connect(self.ask_glass_reason)
        restricted.addWidget(self.restricted_text, 1)
        restricted.addWidget(self.glass_button)
        body.addWidget(self.restricted_box)
        self.glass_dialog: QInputDialog | None = None

        self.thread_view = ThreadView(self.body)
        self.thread_box = self.thread_view.box
        body.addWidget(self.thread_view, 1)

        self.item_actions = ItemActions(Actor(me["id"], me["role"]), self.body)
        self.item_actions.action_requested.connect(self._request)
        body.addWidget(self.item_actions)
        self.editor = Composer(self.body)
        self.editor.reply_requested.connect(self._reply)
        self.editor.note_requested.connect(self._reply)
        self.editor.attachment_changed.connect(self.item_actions.set_attachment)
        self.item_actions.denial_message_for = self._denial_message
        self.item_actions.written_to_patient = lambda: (
            self.editor.written() if self.editor.mode == TO_PATIENT else ""
        )
        self.item_actions.confirm_time.dateTimeChanged.connect(self._time_chosen)
        body.addWidget(self.editor)
        # The controls tests and shortcuts reach, by their old names.
        self.buttons = self.item_actions.buttons
        self.assign, self.route = self.item_actions.assign, self.item_actions.route
        self.approve, self.modify, self.deny = (
            self.item_actions.approve,
            self.item_actions.modify,
            self.item_actions.deny,
        )
        self.confirm_time, self.confirm = self.item_actions.confirm_time, self.item_actions.confirm
        self.decline, self.decision_note = (
            self.item_actions.decline,
            self.item_actions.decision_note,
        )
        self.template, self.then = self.editor.template, self.editor.then
        self.composer = self.editor.text
        self.reply_button, self.note_button = self.editor.reply_button, self.editor.note_button
        self.body.hide()

    # ---- showing an item ---------------------------------------------------------------------

    def show_item(
        self,
        item: dict[str, Any] | None,
        patient: dict[str, Any] | None,
        staff: list[dict[str, Any]],
        policy: dict[str, Any],
        notice: dict[str, Any] | None = None,
    ) -> None:
        keep_text = self.item is not None and item is not None and self.item["id"] == item["id"]
        self.item, self.patient, self.policy, self.notice = item, patient, policy, notice
        self.staff = {member["id"]: member["display_name"] for member in staff}
        if item is None:
            self.body.hide()
            self.empty.show()
            return
        self.empty.hide()
        self.body.show()
        if not keep_text:
            self.editor.clear()
        tz = policy.get("timezone")
        self.red_flags.show_item(item)
        self.title.setText(self._title(item))
        self._show_patient(patient)
        self.context.setText(self._context(item, patient, tz))
        self.thread_view.show_entries(item.get("entries", []), self.staff, tz)
        self._show_restricted(item)
        self._show_banner()
        self.item_actions.show_item(item, staff)
        self.editor.prepare(
            item,
            patient,
            self.me["display_name"],
            policy,
            self.item_actions.reply_decision(),
            self.item_actions.note_decision(),
        )
        if item["kind"] == Kind.APPOINTMENT:
            # The canned reply names the time offered in the picker, from the start.
            self._time_chosen(self.item_actions.confirm_time.dateTime())

    def _show_restricted(self, item: dict[str, Any]) -> None:
        """A header (not this role's work): who and what kind, not what it says."""
        restricted = bool(item.get("restricted"))
        self.restricted_box.setVisible(restricted)
        self.thread_view.setVisible(not restricted)
        self.editor.setVisible(not restricted)
        if restricted:
            self.restricted_text.setText(
                f"This {Kind.describe(item['kind']).lower()} is not part of your role's work, "
                "so its messages and the patient's medications and allergies were not sent to "
                "this computer. You can still claim it or move it to the right queue."
            )

    def ask_glass_reason(self) -> QInputDialog | None:
        """Why open it? The item opens when it is answered."""
        if self.item is None:
            return None
        item_id = self.item["id"]
        self.glass_dialog = ask_reason(
            self,
            "Break the glass",
            "This item is not part of your role's work. Why do you need to open it?\n"
            "(Your reason and this access are recorded in the audit log.)",
            "Open item",
            lambda reason: self.break_glass_requested.emit(item_id, reason[:500]),
        )
        return self.glass_dialog

    def say(self, text: str) -> None:
        """A short message over the item (not a stored notice)."""
        self.banner_text.setText(text)
        self.reuse_button.hide()
        self.banner.show()

    def _title(self, item: dict[str, Any]) -> str:
        assignee = (
            "Assigned to " + self.staff.get(item["assignee_id"], "someone")
            if item.get("assignee_id")
            else "Unassigned"
        )
        kind_word = Kind.describe(item["kind"])
        subject = item["subject"]
        heading = (
            subject if subject.lower().startswith(kind_word.lower()) else f"{kind_word} · {subject}"
        )
        return (
            f"{heading}\n{Status.describe(item['status'])} · "
            f"{Priority.describe(item['priority'])} · {Queue.describe(item['queue'])} · {assignee}"
        )

    def _show_patient(self, patient: dict[str, Any] | None) -> None:
        if not patient:
            self.patient_line.setText("Patient details not synced yet")
            self.patient_facts.setText("")
            return
        self.patient_line.setText(f"{patient['given_name']} {patient['family_name']}")
        allergies = patient.get("allergies") or []
        if "allergies" not in patient:  # a header's patient: never read as "none known"
            allergy_line = "Allergies: not sent to your role"
        elif allergies:
            allergy_line = "Allergies: " + ", ".join(
                f"{a.get('substance')} ({a.get('reaction')})" for a in allergies
            )
        else:
            allergy_line = "No known allergies"
        self.patient_facts.setText(
            f"Born {patient.get('birth_date', '')} · MRN {patient.get('mrn', '')} · "
            f"{patient.get('phone') or 'no phone'}\n{allergy_line}"
        )

    def _context(self, item: dict[str, Any], patient: dict[str, Any] | None, tz: str | None) -> str:
        details = item.get("details") or {}
        lines: list[str] = []
        if item["kind"] == Kind.REFILL:
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
            if details.get("duplicate_of"):
                lines.append(
                    "Duplicate: the patient asked for this medication in another request that "
                    "is open or was decided in the last 7 days"
                )
            lines.extend(protocol_lines(details.get("protocol")))
            meds = (patient or {}).get("medications") or []
            if meds:
                lines.append("Medication list:")
                lines.extend(
                    f"  • {m.get('name')} {m.get('strength')} — last fill "
                    f"{m.get('last_filled_on') or '?'}"
                    f"{' · controlled' if m.get('controlled') else ''}"
                    for m in meds
                )
        elif item["kind"] == Kind.APPOINTMENT:
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
            if decision.get("note"):  # decisions from before notes became entries
                lines.append(f"Internal note (staff only): {decision['note']}")
        return "\n".join(lines)

    def _show_banner(self) -> None:
        if self.notice:
            self.banner_text.setText(self.notice["message"])
            self.reuse_button.setVisible(bool(self.notice.get("user_text")))
            self.banner.show()
        else:
            self.banner.hide()

    # ---- actions -----------------------------------------------------------------------------

    def _request(self, action: dict[str, Any], decided: bool) -> None:
        if self.item is None:
            return
        if decided:
            # Text written before a decision goes with it, to the audience it was written
            # for (the button said which); the decision is based on what the person saw, so
            # it carries that version (a change meanwhile is not overruled).
            text = self.editor.written()
            key = "message_to_patient" if self.editor.mode == TO_PATIENT else "note"
            if text and key not in action:  # (a denial's dialog already took the message)
                action = {**action, key: text}
            self.editor.clear()
            self.action_requested.emit(self.item["id"], action, self.item["version"])
        else:
            self.action_requested.emit(self.item["id"], action, None)

    def _reply(self, action: dict[str, Any]) -> None:
        if self.item is not None:
            self.action_requested.emit(self.item["id"], action, None)

    def claim(self) -> None:
        self.item_actions.claim()

    def done(self) -> None:
        self.item_actions.done()

    def send_reply(self) -> None:
        """Ctrl+Enter: send what is written, to the audience chosen."""
        self.editor.send()

    def add_note(self) -> None:
        self.editor.add_note()

    def focus_composer(self, mode: str = TO_PATIENT) -> None:
        self.editor.focus(mode)

    def focus_note(self) -> None:
        self.editor.focus(INTERNAL)

    def _denial_message(self, reason: str) -> str:
        """The patient's message for a denial: the practice's template, else the default."""
        return denial_message(self.policy, reason, self.editor.values())

    def _time_chosen(self, chosen: QDateTime) -> None:
        """A canned reply names the time in the picker, not the one being replaced."""
        moment = datetime.fromtimestamp(chosen.toSecsSinceEpoch(), UTC)
        self.editor.set_value(
            "appointment_time", local_time(rfc3339(moment), self.policy.get("timezone"))
        )

    def _reuse_text(self) -> None:
        if self.notice and self.notice.get("user_text"):
            try:
                action = json.loads(self.notice.get("action_json") or "{}")
            except ValueError:
                action = {}
            self.editor.reuse(self.notice["user_text"], text_audience(action))

    def _dismiss(self) -> None:
        if self.notice:
            self.notice_dismissed.emit(int(self.notice["id"]))
            self.notice = None
            self.banner.hide()
