"""Approving a refill with other terms: quantity, days supply, refills and sig, prefilled from
the active prescription."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from triage_core.actions import RefillDecision
from triage_core.vocabulary import RefillOutcome


class ModifyDialog(QDialog):
    """Emits `chosen(decision)`: a `modified` refill decision with the terms as set."""

    chosen = Signal(object)

    def __init__(self, item: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Approve with changes")
        terms = (item.get("details") or {}).get("prescription") or {}
        medication = (item.get("details") or {}).get("medication") or {}
        layout = QFormLayout(self)
        self.quantity = self._spin(0, 1000, terms.get("quantity"), "Quantity")
        self.days = self._spin(1, 400, terms.get("days_supply"), "Days supply")
        self.refills = self._spin(0, 12, terms.get("refills"), "Refills")
        self.sig = QLineEdit(str(terms.get("sig") or medication.get("sig") or ""), self)
        self.sig.setMaxLength(500)
        self.sig.setAccessibleName("Sig (directions)")
        layout.addRow("Quantity", self.quantity)
        layout.addRow("Days supply", self.days)
        layout.addRow("Refills", self.refills)
        layout.addRow("Sig", self.sig)
        self.buttons = QDialogButtonBox(self)
        self.approve_button = self.buttons.addButton(
            "Approve with these terms", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._approve)
        self.buttons.rejected.connect(self.reject)
        layout.addRow(self.buttons)

    def _spin(self, low: int, high: int, value: Any, name: str) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(low, high)
        box.setValue(value if isinstance(value, int) and low <= value <= high else low)
        box.setAccessibleName(name)
        return box

    def decision(self) -> RefillDecision:
        return RefillDecision(
            RefillOutcome.MODIFIED,
            quantity=self.quantity.value(),
            days_supply=self.days.value(),
            refills=self.refills.value(),
            sig=self.sig.text().strip() or None,
        )

    def _approve(self) -> None:
        self.chosen.emit(self.decision())
        self.accept()
