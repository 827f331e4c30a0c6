"""The main window: queues, inbox and detail side by side, a status bar, keyboard shortcuts.

The window composes the panes; `InboxController` keeps them in step with the cache and
`Notifier` tells staff what needs them. Nothing here reads the cache or touches the network:
reads come back from workers, and the status line is the engine's own count.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
)

from desktop.services import DeskServices
from desktop.settings import COLUMNS, GEOMETRY, QUEUE, SPLITTER, URGENT_SOUND, DeskSettings
from portal_client.engine import State
from portal_client.inbox import QUEUES
from triage_core.vocabulary import Role

from .audit_log import AuditLogDialog, ask_save_path
from .batch_sign import BatchSignDialog
from .detail_pane import DetailPane
from .help import SHORTCUTS, HelpDialog
from .inbox_controller import InboxController
from .inbox_model import InboxModel
from .inbox_pane import InboxPane
from .lock_controller import LockController
from .lock_screen import LockScreen
from .notifier import Notifier
from .policy_editor import PolicyEditor
from .queue_pane import QueuePane
from .sla_report import SlaReportDialog
from .widgets import PlainLabel

TICK_MS = 5000
CLOCK_TICKS = 6  # clocks, counts and notices every 30 s
URGENT_CHECK_MS = 250  # after a sync's last page


def sync_words(
    state: State,
    last_sync: float | None,
    offline_since: float | None,
    pending: int,
    now: float | None = None,
) -> str:
    now = now or time.time()
    waiting = f" – {pending} action{'s' if pending != 1 else ''} waiting" if pending else ""
    if state is State.OFFLINE and offline_since:
        return f"Offline since {time.strftime('%H:%M', time.localtime(offline_since))}{waiting}"
    if state is State.SIGN_IN_NEEDED:
        return f"Signed out by the server – sign in again{waiting}"
    if state in (State.STARTING,) or last_sync is None:
        return f"Syncing…{waiting}"
    seconds = int(now - last_sync)
    ago = f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
    return f"Synced {ago} ago{waiting}"


class MainWindow(QMainWindow):
    quit_requested = Signal()
    # How many things a check announced (0 too): every check's answer says it has arrived.
    alerts_checked = Signal(int)
    urgent_checked = Signal(int)

    def __init__(self, services: DeskServices, settings: DeskSettings) -> None:
        super().__init__()
        self.services = services
        user = services.user
        self.settings = settings
        self.setWindowTitle(f"Triage Desk – {user.display_name}")
        self.queues = QueuePane(self)
        self.detail = DetailPane(
            {"id": user.id, "role": user.role, "display_name": user.display_name}, self
        )
        self.model = InboxModel(self._fetch_rows, self._staff_names, self)
        self.inbox = InboxPane(self.model, self)
        self.controller = InboxController(
            services, self.queues, self.inbox, self.model, self.detail, self
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for pane in (self.queues, self.inbox, self.detail):
            self.splitter.addWidget(pane)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([210, 760, 520])
        # The lock screen is the other page: locked, the panes are hidden, not just covered.
        self.lock_screen = LockScreen(user.display_name, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.lock_screen)
        self.setCentralWidget(self.stack)

        status = self.statusBar()
        self.who = PlainLabel(
            f"{user.display_name} · {Role.describe(user.role)}", selectable=False, wrap=False
        )
        self.sync_state = PlainLabel("Syncing…", selectable=False, wrap=False)
        self.sync_state.setAccessibleName("Sync state")
        self.sign_out_button = QPushButton("Sign out", self)
        self.sign_out_button.clicked.connect(self._sign_out)
        status.addWidget(self.who)
        status.addWidget(self.sync_state, 1)
        status.addPermanentWidget(self.sign_out_button)
        self.notifier = Notifier(self, self.say)
        services.ops.reporter = self.say
        self.lock = LockController(self, services)

        self.detail.action_requested.connect(self._act)
        self.detail.notice_dismissed.connect(services.dismiss_notice)
        self.controller.counts_changed.connect(self.notifier.set_counts)
        services.bridge.state_changed.connect(self.update_status)
        services.bridge.items_changed.connect(self._items_changed)
        services.bridge.notices_changed.connect(self.update_status)

        self.report_dialog: SlaReportDialog | None = None
        self.policy_editor: PolicyEditor | None = None
        self.batch_dialog: BatchSignDialog | None = None
        self.audit_log: AuditLogDialog | None = None
        self.audit_action: QAction | None = None  # administrators only
        self._ticks = 0
        self._clock = QTimer(self)
        self._clock.setInterval(TICK_MS)
        self._clock.timeout.connect(self._tick)
        # A sync brings its changes page by page: one urgent check after the burst, not one
        # per page.
        self._urgent_soon = QTimer(self)
        self._urgent_soon.setSingleShot(True)
        self._urgent_soon.setInterval(URGENT_CHECK_MS)
        self._urgent_soon.timeout.connect(self.check_urgent)
        self._clock.start()
        self._install_shortcuts()
        self._layout_restored = self._restore_layout()
        self.queues.select(self._setting(QUEUE))
        self.controller.reload()
        self.controller.refresh_counts()
        self.check_urgent()  # unclaimed urgent work is announced on opening too
        self.update_status()
        self.resize(1500, 900) if not self._layout_restored else None
        self.lock.start()  # the idle clock

    # ---- plumbing ----------------------------------------------------------------------------

    @property
    def shown_notices(self) -> list[tuple[str, str]]:
        return self.notifier.shown

    @property
    def tray(self) -> Any:
        return self.notifier.tray

    def _fetch_rows(self, ids: list[str], done: Any) -> None:
        self.controller.fetch_rows(ids, done)

    def _staff_names(self) -> dict[str, str]:
        return self.services.reference.staff_names

    def _setting(self, setting: Any) -> Any:
        return self.settings.get(
            setting, server=self.services.server, user=self.services.user.username
        )

    def _put(self, setting: Any, value: Any) -> None:
        self.settings.put(
            setting, value, server=self.services.server, user=self.services.user.username
        )

    def say(self, text: str, msecs: int = 15000) -> None:
        """A line in the status bar (failures of background work come here too)."""
        if text:
            self.statusBar().showMessage(text, msecs)

    def _items_changed(self, _ids: list[str]) -> None:
        self.update_status()
        self._urgent_soon.start()  # a new or newly urgent item is announced at once

    def _act(self, item_id: str, action: dict[str, Any], if_match: object) -> None:
        self.controller.act(item_id, action, if_match, self._action_failed)

    def sign_batch(self) -> None:
        """The chosen refills (several rows selected), checked on a worker, then one dialog
        that lists exactly what will be approved and what is left out."""
        chosen = self.inbox.selected_ids()
        if not chosen:
            self.say("Select the refills to sign first (Ctrl or Shift + click, or arrows).")
            return
        self.services.plan_batch(chosen, self._batch_planned)

    def _batch_planned(self, plan: Any) -> None:
        dialog = BatchSignDialog(plan, self)
        dialog.confirmed.connect(self._approve_batch)
        dialog.open()
        self.batch_dialog = dialog

    def _approve_batch(self, plan: Any) -> None:
        """Each approval its own action, with the version the clinician saw (a change
        meanwhile is refused on that item only, with a notice)."""
        for chosen in plan.approve:
            self._act(chosen.item_id, plan.action(), chosen.version)
        count = len(plan.approve)
        self.say(f"{count} refill approval{'s' if count != 1 else ''} queued.")

    def _action_failed(self, exc: Exception) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Not saved",
            f"The action could not be saved on this computer: {exc}",
            parent=self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    # ---- status ------------------------------------------------------------------------------

    def _tick(self) -> None:
        """Every few seconds: the status line; every 30 s: clocks, counts and notices."""
        self.update_status()
        self._ticks += 1
        if self._ticks % CLOCK_TICKS == 0:
            self.controller.refresh_clocks()
            if not self.lock.locked:  # (clock notices wait for the unlock)
                self.check_alerts()
            self.check_urgent()  # (repeats every five minutes until claimed)

    def check_urgent(self) -> None:
        self.services.check_urgent(self._urgent_arrived)

    def _urgent_arrived(self, waiting: list[Any]) -> None:
        if waiting:
            self.notifier.urgent(waiting)
            if self.settings.get(URGENT_SOUND):
                QApplication.beep()
        self.urgent_checked.emit(len(waiting))

    def _toggle_sound(self, on: bool) -> None:
        self.settings.put(URGENT_SOUND, on)  # (no flush: Qt writes its file itself, later)

    def check_alerts(self) -> None:
        self.services.check_alerts(self._alerts_arrived)

    def _alerts_arrived(self, alerts: list[Any]) -> None:
        if alerts:
            self.notifier.clocks(alerts)
            self.services.remember_alerts(alerts)
        self.alerts_checked.emit(len(alerts))

    def update_status(self) -> None:
        status = self.services.engine.status
        words = sync_words(
            status.state, _epoch(status.last_sync_at), status.offline_since, status.pending_actions
        )
        if status.problem and status.state is not State.OFFLINE:
            words = f"{words} – sync problem: {status.problem}"
        self.sync_state.setText(words)
        if status.open_notices:
            count = status.open_notices
            self.say(f"{count} action{'s' if count != 1 else ''} not accepted – see the item", 8000)

    def stop_timers(self) -> None:
        self.lock.stop()
        self._clock.stop()
        self._urgent_soon.stop()
        self.notifier.hide()

    # ---- keyboard and menus ------------------------------------------------------------------

    def _install_shortcuts(self) -> None:
        def bind(keys: str, slot: Any) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

        bind("J", lambda: self.inbox.step(1))
        bind("Shift+J", lambda: self.inbox.step(1, extend=True))
        bind("Shift+K", lambda: self.inbox.step(-1, extend=True))
        bind("K", lambda: self.inbox.step(-1))
        bind("Ctrl+Down", lambda: self.inbox.step(1))
        bind("Ctrl+Up", lambda: self.inbox.step(-1))
        bind("C", self.detail.claim)
        bind("D", self.detail.done)
        bind("R", self._focus_reply)
        bind("N", self._focus_note)
        bind("Ctrl+Return", self.detail.send_reply)
        bind("Ctrl+F", self._focus_search)
        bind("Ctrl+PgDown", lambda: self.queues.step(1))
        bind("Ctrl+PgUp", lambda: self.queues.step(-1))
        for n, (key, _label) in enumerate(QUEUES, start=1):
            bind(f"Ctrl+{n}", lambda k=key: self.queues.select(k))
        bind("F1", self._help)
        lock_action = QAction("Lock now", self)
        lock_action.setShortcut(QKeySequence("Ctrl+L"))
        lock_action.triggered.connect(self.lock.lock)
        self.addAction(lock_action)  # (works with the menu bar hidden too)
        self.menuBar().addMenu("&Session").addAction(lock_action)
        if self.services.user.role == Role.CLINICIAN:
            batch_action = QAction("Sign refills that pass protocol…", self)
            batch_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
            batch_action.triggered.connect(self.sign_batch)
            self.addAction(batch_action)
            self.menuBar().addMenu("&Refills").addAction(batch_action)
        report_action = QAction("SLA report…", self)
        report_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        report_action.triggered.connect(self.open_sla_report)
        self.menuBar().addMenu("&Reports").addAction(report_action)
        if self.services.user.role == Role.ADMIN:
            policy_action = QAction("Practice policy…", self)
            policy_action.triggered.connect(self.open_policy_editor)
            practice_menu = self.menuBar().addMenu("&Practice")
            practice_menu.addAction(policy_action)
            self.audit_action = QAction("Audit log…", self)
            self.audit_action.triggered.connect(self.open_audit_log)
            practice_menu.addAction(self.audit_action)
        sound = QAction("Sound with urgent notifications", self)
        sound.setCheckable(True)
        sound.setChecked(bool(self.settings.get(URGENT_SOUND)))
        sound.toggled.connect(self._toggle_sound)
        self.sound_action = sound
        self.menuBar().addMenu("&Notifications").addAction(sound)
        help_action = QAction("Keyboard shortcuts", self)
        help_action.triggered.connect(self._help)
        self.menuBar().addMenu("&Help").addAction(help_action)
        self.setTabOrder(self.queues.list, self.inbox.search)
        self.setTabOrder(self.inbox.search, self.inbox.table)
        self.setTabOrder(self.inbox.table, self.detail.composer)

    def open_sla_report(self) -> SlaReportDialog:
        dialog = SlaReportDialog(self._compute_report, self._ask_csv_path, self)
        dialog.open()
        self.report_dialog = dialog
        return dialog

    def open_policy_editor(self) -> PolicyEditor | None:
        reference = self.services.reference
        if not reference.policy:
            # Never an empty form that would save over the practice's policy.
            self.say("The practice policy has not arrived from the server yet; try again soon.")
            return None
        editor = PolicyEditor(reference.policy, self._save_policy, self, list(reference.staff))
        editor.open()
        self.policy_editor = editor
        return editor

    def open_audit_log(self) -> AuditLogDialog:
        """Non-modal: an administrator may keep it open beside the inbox."""
        if self.audit_log is None:
            tz = self.services.reference.tz
            today = datetime.now(tz).date() if tz is not None else date.today()
            self.audit_log = AuditLogDialog(
                self.services, self.services.reference.staff, self._ask_audit_path, today, self
            )
        if self.audit_log.isVisible():
            self.audit_log.raise_()  # (open already: bring it forward)
        self.audit_log.show()
        return self.audit_log

    def _ask_audit_path(self, on_chosen: Any) -> None:
        ask_save_path(self, on_chosen)

    def _save_policy(self, policy: dict[str, Any], on_saved: Any, on_failed: Any) -> None:
        def saved(result: dict[str, Any]) -> None:
            on_saved(result)
            self.controller.on_reference_changed()  # clocks were recomputed with the new policy
            self.say("Practice policy saved.", 8000)

        self.services.save_policy(policy, saved, on_failed)

    def _compute_report(self, start: Any, end: Any, grouping: str, on_done: Any) -> None:
        def failed(exc: Exception) -> None:
            if self.report_dialog is not None:
                self.report_dialog.status.setText(f"The report could not be made: {exc}")
                self.report_dialog.run_button.setEnabled(True)

        self.services.sla_report(start, end, grouping, on_done, on_failure=failed)

    def _ask_csv_path(self, text: str) -> None:
        """A non-modal save dialog (no nested event loop); the file is written on a worker."""
        chooser = QFileDialog(self, "Export the SLA report", "sla-report.csv", "CSV (*.csv)")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.fileSelected.connect(
            lambda path: self.services.write_text(path, text, self._action_failed)
        )
        chooser.open()

    def _focus_reply(self) -> None:
        if self.detail.item is not None:
            self.detail.focus_composer()

    def _focus_note(self) -> None:
        if self.detail.item is not None:
            self.detail.focus_note()

    def _focus_search(self) -> None:
        self.inbox.search.setFocus()
        self.inbox.search.selectAll()

    def _help(self) -> None:
        HelpDialog(SHORTCUTS, self).open()

    # ---- layout and closing ------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._layout_restored:
            width = max(self.width(), 1000)
            self.splitter.setSizes([int(width * 0.16), int(width * 0.52), int(width * 0.32)])
            self._layout_restored = True

    def _restore_layout(self) -> bool:
        restored = False
        for setting, restore in (
            (GEOMETRY, self.restoreGeometry),
            (SPLITTER, self.splitter.restoreState),
            (COLUMNS, self.inbox.table.horizontalHeader().restoreState),
        ):
            value = self._setting(setting)
            if isinstance(value, QByteArray):
                restore(value)
                restored = True
        return restored

    def save_layout(self) -> None:
        self._put(GEOMETRY, self.saveGeometry())
        self._put(SPLITTER, self.splitter.saveState())
        self._put(COLUMNS, self.inbox.table.horizontalHeader().saveState())
        self._put(QUEUE, self.queues.current())
        self.settings.sync()

    def _sign_out(self) -> None:
        if self.services.sign_out is not None:
            self.services.sign_out()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window quits: the app closes the session off the GUI thread."""
        event.ignore()
        self.quit_requested.emit()


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
