"""The practice policy editor (administrators): hours, holidays, SLA targets, cut-offs.
Input is checked as it is saved; the server checks again and its word is shown as is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from portal_client.policy_form import CLOCKS, KINDS, PRIORITIES, build_policy
from triage_core.calendar import WEEKDAYS

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
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Practice policy")
        self.current = policy
        self.save = save
        layout = QVBoxLayout(self)
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
        layout.addWidget(self.errors)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        self.save_button = QPushButton("Save for every desktop", self)
        self.save_button.clicked.connect(self.submit)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

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
