"""The actions on one item: buttons enabled by the domain core's permissions, each disabled one
saying why, and the decisions of refills and appointments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from triage_core.actions import (
    Action,
    AppointmentDecision,
    Assign,
    Claim,
    Note,
    RefillDecision,
    Release,
    Reopen,
    Reply,
    Resolve,
    Route,
    SetPriority,
    WaitPatient,
    to_wire,
)
from triage_core.permissions import Actor, offer, role_allows
from triage_core.red_flags import red_flags_of
from triage_core.vocabulary import (
    AppointmentOutcome,
    DenialReason,
    Kind,
    Priority,
    Queue,
    RefillOutcome,
)

from .composer import enable
from .deny_dialog import DenyDialog
from .modify_dialog import ModifyDialog
from .widgets import PlainLabel, ask_reason

SIMPLE = (
    ("claim", "Claim (C)"),
    ("release", "Release"),
    ("wait_patient", "Waiting on patient"),
    ("resolve", "Done (D)"),
    ("reopen", "Reopen"),
    ("priority", "Mark urgent"),
)


# What a decision button says goes along with it (the composer's text and its audience): a
# short word on the button, the whole sentence for its tooltip and screen readers.
ATTACHMENT_WORDS = {
    "": ("(no message)", "Nothing is written: no message goes to the patient."),
    "patient": ("+ message", "Your text goes to the patient with the decision."),
    "internal": ("+ note", "Your text is kept as an internal note (staff only)."),
}
LOWERING = "(asked when the button is pressed)"  # a reason stands in while offering


def thirty_days(item: dict[str, Any]) -> RefillDecision:
    """ "Approve 30 days": 30 days of the prescription (a twice-daily tablet is 60 tablets),
    from its quantity and days supply; without them, 30 days and the quantity left to the
    clinician's prescription."""
    terms = (item.get("details") or {}).get("prescription") or {}
    quantity, days = terms.get("quantity"), terms.get("days_supply")
    if isinstance(quantity, int) and isinstance(days, int) and days > 0:
        return RefillDecision(
            RefillOutcome.MODIFIED, quantity=max(1, round(quantity * 30 / days)), days_supply=30
        )
    return RefillDecision(RefillOutcome.MODIFIED, days_supply=30)


def next_weekday_morning(now: datetime) -> datetime:
    """A sensible first offer for a new time: 09:00 on the next weekday after tomorrow."""
    day = (now + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class ItemActions(QWidget):
    """Emits `action_requested(action, decided)` with a wire-form action; `decided` marks a
    decision (sent with the version the person saw, so a change meanwhile is not overruled)."""

    action_requested = Signal(dict, bool)

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actor = actor
        self.item: dict[str, Any] = {}
        self.reason_dialog: QInputDialog | None = None
        self.denial_dialog: DenyDialog | None = None
        # What a denial's message is made from (the detail pane sets these).
        self.denial_message_for: Callable[[str], str] = lambda _reason: ""
        self.written_to_patient: Callable[[], str] = lambda: ""
        self.controlled_box: QMessageBox | None = None
        self.modify_dialog: ModifyDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for n, (key, label) in enumerate(SIMPLE):
            button = QPushButton(label, self)
            button.setAccessibleName(label.split(" (")[0])
            button.clicked.connect(lambda _c=False, k=key: self._simple(k))
            self.buttons[key] = button
            grid.addWidget(button, n // 3, n % 3)
        self.assign = QComboBox(self)
        self.assign.setAccessibleName("Assign to")
        self.route = QComboBox(self)
        self.route.setAccessibleName("Move to queue")
        self.route.addItem("Move to queue…", None)
        for queue in Queue:
            self.route.addItem(queue.word, queue.value)
        self.assign.activated.connect(self._assign)
        self.route.activated.connect(self._route)
        grid.addWidget(self.assign, 2, 0)
        grid.addWidget(self.route, 2, 1)
        layout.addLayout(grid)

        self.decision_row = QWidget(self)
        decision_rows = QVBoxLayout(self.decision_row)
        decision_rows.setContentsMargins(0, 0, 0, 0)
        first_row, second_row = QHBoxLayout(), QHBoxLayout()
        decision_rows.addLayout(first_row)
        decision_rows.addLayout(second_row)
        self.approve = QPushButton("Approve", self.decision_row)
        self.modify = QPushButton("Approve 30 days", self.decision_row)
        self.deny = QPushButton("Deny", self.decision_row)
        self.change = QPushButton("Approve with changes…", self.decision_row)
        self.confirm_time = QDateTimeEdit(self.decision_row)
        self.confirm_time.setCalendarPopup(True)
        self.confirm_time.setDisplayFormat("ddd d MMM yyyy HH:mm")
        self.confirm_time.setAccessibleName("Appointment time")
        self.confirm = QPushButton("Confirm appointment", self.decision_row)
        self.decline = QPushButton("Decline", self.decision_row)
        self.decision_note = PlainLabel("", self.decision_row, selectable=False)
        # Two rows: each button says what goes along with it, which needs the width.
        for row, widgets in (
            (first_row, (self.approve, self.modify, self.confirm_time)),
            (second_row, (self.change, self.deny, self.confirm, self.decline, self.decision_note)),
        ):
            for widget in widgets:
                row.addWidget(widget)
            row.addStretch(1)
        self._decision_labels = {
            self.approve: "Approve",
            self.modify: "Approve 30 days",
            self.change: "Approve with changes",
            self.deny: "Deny",
            self.confirm: "Confirm appointment",
            self.decline: "Decline",
        }
        self._attachment = ""
        self.set_attachment("")
        self.approve.clicked.connect(lambda: self._refill(RefillOutcome.APPROVED))
        self.modify.clicked.connect(lambda: self._refill(RefillOutcome.MODIFIED))
        self.deny.clicked.connect(lambda: self._refill(RefillOutcome.DENIED))
        self.change.clicked.connect(self.ask_terms)
        self.confirm.clicked.connect(lambda: self._appointment(AppointmentOutcome.CONFIRMED))
        self.decline.clicked.connect(lambda: self._appointment(AppointmentOutcome.DECLINED))
        layout.addWidget(self.decision_row)

    # ---- what may be done now ----------------------------------------------------------------

    def _offer(self, action: Action) -> Any:
        return offer(self.actor, self.item, action)

    def show_item(self, item: dict[str, Any], staff: list[dict[str, Any]]) -> None:
        self.item = item
        urgent = item.get("priority") == Priority.URGENT
        other = Priority.ROUTINE if urgent else Priority.URGENT
        self.buttons["priority"].setText(f"Mark {other.value}")
        self.buttons["priority"].setAccessibleName(f"Mark {other.value}")
        for key, action in (
            ("claim", Claim()),
            ("release", Release()),
            ("wait_patient", WaitPatient()),
            ("resolve", Resolve()),
            ("reopen", Reopen()),
            ("priority", SetPriority(other, reason=LOWERING if self._needs_reason() else None)),
        ):
            enable(self.buttons[key], self._offer(action))
        if self._needs_reason() and self.buttons["priority"].isEnabled():
            self.buttons["priority"].setToolTip(
                "This item has red flags: lowering it asks for a reason, which is audited."
            )
        enable(self.route, self._offer(Route(Queue.NURSING)))
        enable(self.assign, self._offer(Assign("someone")))
        self.assign.clear()
        self.assign.addItem("Assign to…", None)
        for member in staff:
            if member.get("active", True):
                self.assign.addItem(member["display_name"], member["id"])
        self._show_decisions(item)

    def _show_decisions(self, item: dict[str, Any]) -> None:
        kind = item.get("kind")
        is_refill, is_appt = kind == Kind.REFILL, kind == Kind.APPOINTMENT
        may_decide = role_allows(self.actor, RefillDecision(RefillOutcome.APPROVED))
        for button, outcome in (
            (self.approve, RefillDecision(RefillOutcome.APPROVED)),
            (self.modify, RefillDecision(RefillOutcome.MODIFIED, quantity=30)),
            (self.change, RefillDecision(RefillOutcome.MODIFIED)),
            (self.deny, RefillDecision(RefillOutcome.DENIED)),
        ):
            button.setVisible(is_refill and may_decide.allowed)
            enable(button, self._offer(outcome))
        first_offer = next_weekday_morning(datetime.now().astimezone())
        self.confirm_time.setDateTime(QDateTime.fromSecsSinceEpoch(int(first_offer.timestamp())))
        confirm = AppointmentDecision(AppointmentOutcome.CONFIRMED, starts_at=first_offer)
        for control, decision in (
            (self.confirm_time, self._offer(confirm)),
            (self.confirm, self._offer(confirm)),
            (self.decline, self._offer(AppointmentDecision(AppointmentOutcome.DECLINED))),
        ):
            control.setVisible(is_appt)
            enable(control, decision)
        if is_refill and not may_decide:
            self.decision_note.setText(
                f"{may_decide.reason} Move it to Clinician sign-off when it is ready."
            )
        else:
            self.decision_note.setText("")
        self.decision_row.setVisible(is_refill or is_appt)
        self.set_attachment(self._attachment)

    def set_attachment(self, audience: str) -> None:
        """Say on each decision button what goes along with it: the text in the composer, as
        a message to the patient or an internal note, or nothing."""
        self._attachment = audience
        word, sentence = ATTACHMENT_WORDS.get(audience, ATTACHMENT_WORDS[""])
        for button, label in self._decision_labels.items():
            button.setText(f"{label} {word}")
            button.setAccessibleName(f"{label} {word}")
            if button.isEnabled():  # (a disabled button's tooltip says why it is disabled)
                button.setToolTip(sentence)
            button.setAccessibleDescription(sentence if button.isEnabled() else button.toolTip())

    def reply_decision(self) -> Any:
        return self._offer(Reply("text"))

    def note_decision(self) -> Any:
        return self._offer(Note("text"))

    # ---- asking for actions ------------------------------------------------------------------

    def _request(self, action: Action, *, decided: bool = False) -> None:
        self.action_requested.emit(to_wire(action), decided)

    def _simple(self, key: str) -> None:
        actions: dict[str, Action] = {
            "claim": Claim(),
            "release": Release(),
            "wait_patient": WaitPatient(),
            "resolve": Resolve(),
            "reopen": Reopen(),
        }
        if key == "priority":
            urgent = self.item.get("priority") == Priority.URGENT
            if urgent and self._needs_reason():
                self.ask_reason()
            else:
                self._request(SetPriority(Priority.ROUTINE if urgent else Priority.URGENT))
        else:
            self._request(actions[key])

    def _needs_reason(self) -> bool:
        """Lowering an urgent item with red flags takes a reason (the core refuses it without)."""
        return self.item.get("priority") == Priority.URGENT and bool(red_flags_of(self.item))

    def ask_reason(self) -> QInputDialog:
        """Why is it not urgent? The action goes when it is answered."""
        self.reason_dialog = ask_reason(
            self,
            "Mark routine",
            "The screening found red flags in this request. Why is it not urgent?\n"
            "(Your reason is kept with the item and in the audit log.)",
            "Mark routine",
            lambda reason: self._request(SetPriority(Priority.ROUTINE, reason=reason)),
        )
        return self.reason_dialog

    def claim(self) -> None:
        if self.buttons["claim"].isEnabled():
            self._simple("claim")

    def done(self) -> None:
        if self.buttons["resolve"].isEnabled():
            self._simple("resolve")

    def _assign(self, index: int) -> None:
        staff_id = self.assign.itemData(index)
        if staff_id:
            self._request(Assign(staff_id))

    def _route(self, index: int) -> None:
        queue = self.route.itemData(index)
        self.route.setCurrentIndex(0)
        if queue:
            self._request(Route(Queue(queue)))

    def _refill(self, outcome: RefillOutcome) -> None:
        if outcome == RefillOutcome.DENIED:
            self.ask_denial_reason()
            return
        self._decide(
            thirty_days(self.item) if outcome == RefillOutcome.MODIFIED else RefillDecision(outcome)
        )

    def confirm_controlled(self, decision: RefillDecision) -> QMessageBox:
        """A controlled substance is never one click: the clinician confirms the PDMP check
        (asked without a nested event loop)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Controlled substance")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            "This is a controlled substance. Approve it only after checking the state "
            "prescription drug monitoring program (PDMP).\n\nHave you checked the PDMP and "
            "do you approve this refill?"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        approve = box.button(QMessageBox.StandardButton.Yes)
        approve.setText("Checked — approve")
        box.buttonClicked.connect(
            lambda clicked: self._request(decision, decided=True) if clicked is approve else None
        )
        box.open()
        self.controlled_box = box
        return box

    def ask_terms(self) -> ModifyDialog:
        """Approve with other terms (prefilled from the prescription); the decision goes when
        the dialog is answered (a controlled substance still asks about the PDMP)."""
        dialog = ModifyDialog(self.item, self)
        dialog.chosen.connect(self._decide)
        dialog.open()
        self.modify_dialog = dialog
        return dialog

    def _decide(self, decision: RefillDecision) -> None:
        if (self.item.get("details") or {}).get("controlled"):
            self.confirm_controlled(decision)
        else:
            self._request(decision, decided=True)

    def ask_denial_reason(self) -> DenyDialog:
        """Why is it denied, and what the patient is told (asked without a nested event
        loop); the denial goes when it is answered."""
        dialog = DenyDialog(self.denial_message_for, self.written_to_patient(), self)
        dialog.denied.connect(self._deny_with)
        dialog.open()
        self.denial_dialog = dialog
        return dialog

    def _deny_with(self, reason: str, message: str) -> None:
        self._request(
            RefillDecision(
                RefillOutcome.DENIED,
                reason=DenialReason(reason),
                message_to_patient=message,  # "" when cleared: nothing goes, and says so
            ),
            decided=True,
        )

    def _appointment(self, outcome: AppointmentOutcome) -> None:
        starts_at = None
        if outcome == AppointmentOutcome.CONFIRMED:
            seconds = self.confirm_time.dateTime().toSecsSinceEpoch()
            starts_at = datetime.fromtimestamp(seconds, UTC)
        self._request(AppointmentDecision(outcome, starts_at=starts_at), decided=True)
