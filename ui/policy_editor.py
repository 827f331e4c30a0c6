"""The practice policy editor (administrators): hours, holidays, SLA targets, cut-offs, and
(second tab) the safety replies, emergency guidance, escalation minutes and on-call schedule,
(third) the idle lock and how long an unused sign-in lasts.
Input is checked as it is saved; the server checks again and its word is shown as is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from portal_client.policy_form import (
    CLOCKS,
    KINDS,
    PRIORITIES,
    REPLY_GROUP_WORDS,
    build_policy,
    current_replies,
)
from triage_core.calendar import WEEKDAYS
from triage_core.safety import emergency_guidance, unclaimed_minutes
from triage_core.sessions import (
    IDLE_LOCK_MAX_MINUTES,
    SESSION_IDLE_MAX_HOURS,
    idle_lock_minutes,
    session_idle_hours,
)
from triage_core.vocabulary import Role

from .widgets import PlainLabel

DAY_WORDS = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


class PolicyEditor(QDialog):
    """`save(policy, on_saved, on_failed)` sends it (off the GUI thread)."""

    def __init__(
        self,
        policy: dict[str, Any],
        save: Callable[
            [dict[str, Any], Callable[[dict[str, Any]], None], Callable[[Exception], None]], None
        ],
        parent: QWidget | None = None,
        staff: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Practice policy")
        self.current = policy
        self.save = save
        self.clinicians = [
            (m["id"], m["display_name"])
            for m in staff or []
            if m.get("role") == Role.CLINICIAN and m.get("active", True)
        ]
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget(self)
        outer.addWidget(self.tabs, 1)
        hours_tab = QWidget(self)
        layout = QVBoxLayout(hours_tab)
        self.tabs.addTab(hours_tab, "Hours and targets")
        self.tabs.addTab(self._urgent_tab(policy), "Urgent and on call")
        self.tabs.addTab(self._sessions_tab(policy), "Unattended PCs")
        top = QFormLayout()
        self.name = QLineEdit(policy.get("name", ""), self)
        self.timezone = QLineEdit(policy.get("timezone", ""), self)
        self.ratio = QDoubleSpinBox(self)
        self.ratio.setRange(0.05, 0.95)
        self.ratio.setSingleStep(0.05)
        self.ratio.setValue(float(policy.get("at_risk_ratio", 0.75)))
        top.addRow("Practice name", self.name)
        top.addRow("Time zone (IANA)", self.timezone)
        top.addRow("At risk at (share of the target used)", self.ratio)
        layout.addLayout(top)

        hours_box = QGroupBox(
            "Business hours (like 08:00-12:00, 13:00-17:00; empty = closed)", self
        )
        hours_form = QFormLayout(hours_box)
        self.hours: dict[str, QLineEdit] = {}
        for day in WEEKDAYS:
            text = ", ".join(f"{s}-{e}" for s, e in policy.get("business_hours", {}).get(day, []))
            self.hours[day] = QLineEdit(text, hours_box)
            self.hours[day].setAccessibleName(f"{DAY_WORDS[day]} hours")
            hours_form.addRow(DAY_WORDS[day], self.hours[day])
        layout.addWidget(hours_box)

        holidays = policy.get("holidays") or {}
        holiday_box = QGroupBox("Holidays and closures", self)
        holiday_form = QFormLayout(holiday_box)
        self.country = QLineEdit(holidays.get("country") or "", holiday_box)
        self.subdivision = QLineEdit(holidays.get("subdivision") or "", holiday_box)
        self.closed = QLineEdit(", ".join(holidays.get("closed", [])), holiday_box)
        holiday_form.addRow("Country (public holidays)", self.country)
        holiday_form.addRow("State or region", self.subdivision)
        holiday_form.addRow("Also closed on", self.closed)
        layout.addWidget(holiday_box)

        targets_box = QGroupBox("Response targets in hours (empty = no target)", self)
        grid = QGridLayout(targets_box)
        grid.addWidget(QLabel("First response"), 0, 1, 1, 2)
        grid.addWidget(QLabel("Resolution"), 0, 3, 1, 2)
        self.targets: dict[tuple[str, str, str], tuple[QLineEdit, QCheckBox]] = {}
        row = 1
        sla = policy.get("sla", {})
        for kind in KINDS:
            for priority in PRIORITIES:
                grid.addWidget(QLabel(f"{kind.capitalize()}, {priority}"), row, 0)
                for n, clock in enumerate(CLOCKS):
                    target = ((sla.get(kind) or {}).get(priority) or {}).get(clock) or {}
                    hours = QLineEdit(f"{target['hours']:g}" if target else "", targets_box)
                    hours.setAccessibleName(f"{kind} {priority} {clock} hours")
                    business = QCheckBox("business", targets_box)
                    business.setChecked(bool(target.get("business", True)))
                    grid.addWidget(hours, row, 1 + 2 * n)
                    grid.addWidget(business, row, 2 + 2 * n)
                    self.targets[(kind, priority, clock)] = (hours, business)
                row += 1
        layout.addWidget(targets_box)

        cutoff_box = QGroupBox(
            "Same-day cut-off (requests after it count from the next business morning)", self
        )
        cutoff_form = QHBoxLayout(cutoff_box)
        self.cutoffs: dict[str, QLineEdit] = {}
        for kind in KINDS:
            value = ((policy.get("cutoffs") or {}).get(kind) or {}).get("after", "")
            self.cutoffs[kind] = QLineEdit(value, cutoff_box)
            self.cutoffs[kind].setPlaceholderText("none")
            cutoff_form.addWidget(QLabel(kind.capitalize()))
            cutoff_form.addWidget(self.cutoffs[kind])
        layout.addWidget(cutoff_box)

        self.errors = PlainLabel("", self)
        self.errors.setObjectName("error")
        self.errors.hide()
        outer.addWidget(self.errors)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        self.save_button = QPushButton("Save for every desktop", self)
        self.save_button.clicked.connect(self.submit)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)

    # ---- urgent work: safety replies, guidance, escalation, on call --------------------------

    def _urgent_tab(self, policy: dict[str, Any]) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        replies_box = QGroupBox(
            "Safety replies: sent at once, from the system, when a patient's message has red flags",
            tab,
        )
        replies_form = QFormLayout(replies_box)
        self.replies: dict[str, QPlainTextEdit] = {}
        for group, text in current_replies(policy).items():
            edit = QPlainTextEdit(text, replies_box)
            edit.setTabChangesFocus(True)
            edit.setAccessibleName(f"Safety reply: {REPLY_GROUP_WORDS[group]}")
            edit.setFixedHeight(80)
            replies_form.addRow(PlainLabel(REPLY_GROUP_WORDS[group], replies_box), edit)
            self.replies[group] = edit
        self.guidance = QPlainTextEdit(emergency_guidance(policy), replies_box)
        self.guidance.setTabChangesFocus(True)
        self.guidance.setFixedHeight(64)
        self.guidance.setAccessibleName("Emergency guidance for every patient")
        replies_form.addRow(
            PlainLabel("Shown to every patient (not for emergencies)", replies_box), self.guidance
        )
        layout.addWidget(replies_box)

        escalation_box = QGroupBox("Escalation to the on-call clinician", tab)
        escalation_form = QFormLayout(escalation_box)
        self.unclaimed = QSpinBox(escalation_box)
        self.unclaimed.setRange(1, 24 * 60)
        self.unclaimed.setSuffix(" minutes")
        self.unclaimed.setValue(int(unclaimed_minutes(policy)))
        self.unclaimed.setAccessibleName("Escalate unclaimed urgent items after")
        escalation_form.addRow(
            "Unclaimed urgent items escalate after (and at once outside business hours)",
            self.unclaimed,
        )
        self.on_call_default = self._clinician_box(
            (policy.get("on_call") or {}).get("default"), "nobody", escalation_box
        )
        self.on_call_default.setAccessibleName("On call when no shift covers the day")
        escalation_form.addRow("On call when no shift covers the day", self.on_call_default)
        layout.addWidget(escalation_box)

        rota_box = QGroupBox("On-call shifts (practice dates, both days included)", tab)
        rota_layout = QVBoxLayout(rota_box)
        self.rota = QTableWidget(0, 3, rota_box)
        self.rota.setHorizontalHeaderLabels(["From", "To", "Clinician"])
        self.rota.horizontalHeader().setStretchLastSection(True)
        self.rota.setAccessibleName("On-call shifts")
        rota_layout.addWidget(self.rota)
        rota_buttons = QHBoxLayout()
        add = QPushButton("Add shift", rota_box)
        remove = QPushButton("Remove shift", rota_box)
        add.clicked.connect(lambda: self.add_shift())
        remove.clicked.connect(self._remove_shift)
        rota_buttons.addWidget(add)
        rota_buttons.addWidget(remove)
        rota_buttons.addStretch(1)
        rota_layout.addLayout(rota_buttons)
        for shift in (policy.get("on_call") or {}).get("rota") or []:
            self.add_shift(shift.get("starts"), shift.get("ends"), shift.get("staff_id"))
        layout.addWidget(rota_box, 1)
        return tab

    # ---- the unattended PC: idle lock and session limits -------------------------------------

    def _sessions_tab(self, policy: dict[str, Any]) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        box = QGroupBox("Automatic lock and sign-out (HIPAA automatic logoff)", tab)
        form = QFormLayout(box)
        self.idle_lock = QSpinBox(box)
        self.idle_lock.setRange(1, IDLE_LOCK_MAX_MINUTES)
        self.idle_lock.setSuffix(" minutes")
        self.idle_lock.setValue(idle_lock_minutes(policy))
        self.idle_lock.setAccessibleName("Lock the screen after this many idle minutes")
        form.addRow("Lock the screen after no input for", self.idle_lock)
        self.session_idle = QSpinBox(box)
        self.session_idle.setRange(1, SESSION_IDLE_MAX_HOURS)
        self.session_idle.setSuffix(" hours")
        self.session_idle.setValue(int(session_idle_hours(policy)))
        self.session_idle.setAccessibleName("End a sign-in unused for this many hours")
        form.addRow("End a sign-in unused for", self.session_idle)
        layout.addWidget(box)
        layout.addWidget(
            PlainLabel(
                "Every desktop locks after the idle minutes and asks for the person's password "
                "again; nothing of a patient stays on screen meanwhile. A sign-in whose desktop "
                "has not been running (or whose saved session has not been used) for the hours "
                "above ends, and its person signs in again with their password.",
                tab,
                selectable=False,
            )
        )
        layout.addStretch(1)
        return tab

    def _clinician_box(self, chosen: str | None, empty: str, parent: QWidget) -> QComboBox:
        box = QComboBox(parent)
        box.addItem(empty, None)
        for staff_id, name in self.clinicians:
            box.addItem(name, staff_id)
        if chosen and box.findData(chosen) < 0:
            box.addItem(f"{chosen} (not an active clinician)", chosen)
        box.setCurrentIndex(max(box.findData(chosen), 0))
        return box

    def add_shift(
        self, starts: str | None = None, ends: str | None = None, staff_id: str | None = None
    ) -> None:
        row = self.rota.rowCount()
        self.rota.insertRow(row)
        today = QDate.currentDate()
        for column, value in ((0, starts), (1, ends)):
            edit = QDateEdit(QDate.fromString(value, "yyyy-MM-dd") if value else today, self.rota)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            self.rota.setCellWidget(row, column, edit)
        self.rota.setCellWidget(row, 2, self._clinician_box(staff_id, "choose…", self.rota))

    def _remove_shift(self) -> None:
        row = self.rota.currentRow()
        if row >= 0:
            self.rota.removeRow(row)

    def _shifts(self) -> list[tuple[str, str, str | None]]:
        shifts = []
        for row in range(self.rota.rowCount()):
            starts, ends = (self.rota.cellWidget(row, c) for c in (0, 1))
            who = self.rota.cellWidget(row, 2)
            assert isinstance(starts, QDateEdit) and isinstance(ends, QDateEdit)
            assert isinstance(who, QComboBox)
            shifts.append(
                (
                    starts.date().toString("yyyy-MM-dd"),
                    ends.date().toString("yyyy-MM-dd"),
                    who.currentData(),
                )
            )
        return shifts

    def form(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "timezone": self.timezone.text(),
            "at_risk_ratio": self.ratio.value(),
            "hours": {day: edit.text() for day, edit in self.hours.items()},
            "country": self.country.text(),
            "subdivision": self.subdivision.text(),
            "closed": self.closed.text(),
            "targets": {
                key: (hours.text(), business.isChecked())
                for key, (hours, business) in self.targets.items()
            },
            "cutoffs": {kind: edit.text() for kind, edit in self.cutoffs.items()},
            "safety": {
                "replies": {group: edit.toPlainText() for group, edit in self.replies.items()},
                "guidance": self.guidance.toPlainText(),
                "unclaimed_minutes": self.unclaimed.value(),
                "on_call_default": self.on_call_default.currentData(),
                "rota": self._shifts(),
            },
            "sessions": {
                "idle_lock_minutes": self.idle_lock.value(),
                "session_idle_hours": self.session_idle.value(),
            },
        }

    def submit(self) -> None:
        policy, errors = build_policy(self.form(), self.current)
        if errors:
            self.show_errors(errors)
            return
        self.save_button.setEnabled(False)
        self.save_button.setText("Saving…")
        self.save(policy, self._saved, self._failed)

    def _saved(self, _policy: dict[str, Any]) -> None:
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.save_button.setEnabled(True)
        self.save_button.setText("Save for every desktop")
        self.show_errors([getattr(exc, "message", str(exc))])

    def show_errors(self, errors: list[str]) -> None:
        self.errors.setText("Please fix:\n" + "\n".join(f"• {e}" for e in errors))
        self.errors.show()
