"""Signing refills in a batch: exactly what will be approved, what is left out and why, one
confirmation. Each approval is then queued as its own action (its own idempotency key), so a
refusal of one (someone decided it meanwhile) is shown on that item and the others go on."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from portal_client.batch import BatchPlan

from .widgets import PlainLabel


class BatchSignDialog(QDialog):
    """Emits `confirmed(plan)` when the clinician approves the listed refills."""

    confirmed = Signal(object)

    def __init__(self, plan: BatchPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        count = len(plan.approve)
        self.setWindowTitle("Sign refills that pass protocol")
        layout = QVBoxLayout(self)
        self.heading = PlainLabel(
            f"Approve {count} refill{'s' if count != 1 else ''} that pass protocol, each as "
            "prescribed (quantity, days supply, refills and sig of the active prescription):"
            if count
            else "None of the refills you chose can be approved by protocol.",
            self,
        )
        layout.addWidget(self.heading)
        self.approve_list = QListWidget(self)
        self.approve_list.setAccessibleName("Refills to approve")
        self.approve_list.addItems([chosen.label for chosen in plan.approve])
        layout.addWidget(self.approve_list)
        self.left_out_heading = PlainLabel(
            f"Left out ({len(plan.left_out)}), to sign one by one:", self
        )
        layout.addWidget(self.left_out_heading)
        self.left_out_list = QListWidget(self)
        self.left_out_list.setAccessibleName("Refills left out, and why")
        self.left_out_list.addItems([f"{c.label} — {c.why}" for c in plan.left_out])
        layout.addWidget(self.left_out_list)
        self.left_out_heading.setVisible(bool(plan.left_out))
        self.left_out_list.setVisible(bool(plan.left_out))
        self.buttons = QDialogButtonBox(self)
        self.approve_button = self.buttons.addButton(
            f"Approve {count}", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.approve_button.setEnabled(count > 0)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._confirm)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(560, 420)

    def _confirm(self) -> None:
        if self.plan.approve:
            self.confirmed.emit(self.plan)
        self.accept()
