"""The main window: queues, inbox and detail side by side, a status bar, keyboard shortcuts.

The window composes the panes and holds the wiring; each pane is its own module. It reads the
cache through `DeskServices` and queues actions through it; it never touches the network.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
)

from desktop.services import DeskServices
from portal_client.engine import State
from portal_client.inbox import QUEUES

from .detail_pane import ROLE_WORDS, DetailPane
from .help import SHORTCUTS, HelpDialog
from .inbox_model import InboxModel
from .inbox_pane import InboxPane
from .policy_editor import PolicyEditor
from .queue_pane import QueuePane
from .sla_report import SlaReportDialog
from .widgets import PlainLabel


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
    def __init__(self, services: DeskServices, settings: QSettings | None = None) -> None:
        super().__init__()
        self.services = services
        user = services.user
        self.settings = settings or QSettings()
        self.settings_prefix = f"ui/{services.server}/{user.username}"
        self.setWindowTitle(f"Triage Desk – {user.display_name}")
        self.queues = QueuePane(self)
        self.model = InboxModel(
            services.inbox.rows, services.staff_names, self, describe_clock=services.describe_clock
        )
        self.inbox = InboxPane(self.model, self)
        self.detail = DetailPane(
            {"id": user.id, "role": user.role, "display_name": user.display_name}, self
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for pane in (self.queues, self.inbox, self.detail):
            self.splitter.addWidget(pane)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([210, 760, 520])
        self.setCentralWidget(self.splitter)

        status = self.statusBar()
        self.who = PlainLabel(
            f"{user.display_name} · {ROLE_WORDS.get(user.role, user.role)}",
            selectable=False,
            wrap=False,
        )
        self.sync_state = PlainLabel("Syncing…", selectable=False, wrap=False)
        self.sync_state.setAccessibleName("Sync state")
        self.sign_out_button = QPushButton("Sign out", self)
        self.sign_out_button.clicked.connect(self._sign_out)
        status.addWidget(self.who)
        status.addWidget(self.sync_state, 1)
        status.addPermanentWidget(self.sign_out_button)

        self.queues.queue_selected.connect(self._queue_changed)
        self.inbox.filter_changed.connect(self.reload)
        self.inbox.item_selected.connect(self.show_item)
        self.detail.action_requested.connect(self._act)
        self.detail.notice_dismissed.connect(services.dismiss_notice)
        services.bridge.items_changed.connect(self.on_items_changed)
        services.bridge.state_changed.connect(self.update_status)
        services.bridge.notices_changed.connect(self.on_notices_changed)
        services.bridge.reference_changed.connect(self.on_reference_changed)

        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self.tray = QSystemTrayIcon(QIcon(icon), self)
            self.tray.show()
        self._ticks = 0
        self.report_dialog: SlaReportDialog | None = None
        self.policy_editor: PolicyEditor | None = None
        self.shown_notices: list[tuple[str, str]] = []
        self._clock = QTimer(self)
        self._clock.setInterval(5000)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        self._install_shortcuts()
        self._layout_restored = self._restore_layout()
        self.queues.select(str(self.settings.value(f"{self.settings_prefix}/queue", "mine")))
        self.reload()
        self.update_status()

    # ---- data --------------------------------------------------------------------------------

    def _queue_changed(self, _queue: str) -> None:
        self.inbox.reset_sort()
        self.reload()

    def current_filter(self) -> Any:
        return self.inbox.current_filter(self.queues.current())

    def reload(self) -> None:
        """A new queue, filter, sort or search: ask the query for the ids, keep the selection."""
        selected = self.inbox.selected_id()
        self.model.set_ids(self.services.inbox.ids(self.current_filter()))
        if selected:
            self.inbox.select_id(selected)
        self._refresh_counts()

    def on_items_changed(self, ids: list[str]) -> None:
        """After a sync or an action: same filter, new rows; selection and scroll stay."""
        self.model.refresh(self.services.inbox.ids(self.current_filter()), set(ids))
        self._refresh_counts()
        current = self.detail.item["id"] if self.detail.item else None
        if current and current in ids:
            self.show_item(current)
        self.update_status()

    def on_notices_changed(self) -> None:
        if self.detail.item:
            self.show_item(self.detail.item["id"])
        self.update_status()

    def on_reference_changed(self) -> None:
        """New staff names or a new policy (its clocks were recomputed): repaint everything."""
        self.model.refresh(
            self.services.inbox.ids(self.current_filter()), set(self.model.current_ids())
        )
        self._refresh_counts()
        if self.detail.item:
            self.show_item(self.detail.item["id"])

    def _refresh_counts(self) -> None:
        counts = self.services.inbox.counts()
        self.queues.set_counts(counts)
        if self.tray is not None:
            urgent = self.services.inbox.urgent_new()
            self.tray.setToolTip(f"Triage Desk: {urgent} new or urgent")

    def show_item(self, item_id: str) -> None:
        item = self.services.item(item_id)
        patient = self.services.patient(item["patient_id"]) if item else None
        notice = next(
            (n for n in reversed(self.services.notices()) if n["item_id"] == item_id), None
        )
        self.detail.show_item(
            item, patient, self.services.staff_names(), self.services.policy(), notice
        )

    def _act(self, item_id: str, action: dict[str, Any], if_match: object) -> None:
        self.services.act(
            item_id,
            action,
            if_match=if_match if isinstance(if_match, int) else None,
            on_failure=self._action_failed,
        )

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
        """Every few seconds: the status line; every 30 s: the clocks and the counts."""
        self.update_status()
        self._ticks += 1
        if self._ticks % 6 == 0:
            self.model.refresh_clocks()
            self._refresh_counts()
            self.check_alerts()

    def check_alerts(self) -> None:
        """A notice when an item I can act on becomes at risk or overdue (once each)."""
        alerts = self.services.alerts
        if alerts is None:
            return
        fresh = alerts.due()
        for alert in fresh[:5]:
            title = "Overdue" if alert.state == "breached" else "At risk"
            self.notify(
                f"{title}: {alert.subject}", f"{alert.patient} · {alert.clock.replace('_', ' ')}"
            )
        if len(fresh) > 5:
            self.notify("More items need attention", f"{len(fresh) - 5} more at risk or overdue")
        if fresh:
            alerts.note_shown(fresh)
            self.services.ops.write(alerts.persist)  # a cache write: not on the GUI thread

    def notify(self, title: str, text: str) -> None:
        """The tray shows it where there is one; the status bar otherwise. Plain text only."""
        self.shown_notices.append((title, text))
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10000)
        else:
            self.statusBar().showMessage(f"{title} – {text}", 15000)

    def update_status(self) -> None:
        engine = self.services.engine
        last = engine.status.last_sync_at
        pending = self.services.cache.counts()["pending_actions"]
        last_epoch = _epoch(last)
        self.sync_state.setText(
            sync_words(engine.status.state, last_epoch, engine.status.offline_since, pending)
        )
        notices = len(self.services.notices())
        if notices:
            self.statusBar().showMessage(
                f"{notices} action{'s' if notices != 1 else ''} not accepted – see the item", 8000
            )

    # ---- keyboard ----------------------------------------------------------------------------

    def _install_shortcuts(self) -> None:
        def bind(keys: str, slot: Any) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(slot)

        bind("J", lambda: self.inbox.step(1))
        bind("K", lambda: self.inbox.step(-1))
        bind("Ctrl+Down", lambda: self.inbox.step(1))
        bind("Ctrl+Up", lambda: self.inbox.step(-1))
        bind("C", self.detail.claim)
        bind("D", self.detail.done)
        bind("R", self._focus_reply)
        bind("N", self._focus_reply)
        bind("Ctrl+Return", self.detail.send_reply)
        bind("Ctrl+F", self._focus_search)
        bind("Ctrl+PgDown", lambda: self.queues.step(1))
        bind("Ctrl+PgUp", lambda: self.queues.step(-1))
        for n, (key, _label) in enumerate(QUEUES, start=1):
            bind(f"Ctrl+{n}", lambda k=key: self.queues.select(k))
        bind("F1", self._help)
        report_action = QAction("SLA report…", self)
        report_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        report_action.triggered.connect(self.open_sla_report)
        self.menuBar().addMenu("&Reports").addAction(report_action)
        if self.services.user.role == "admin":
            policy_action = QAction("Practice policy…", self)
            policy_action.triggered.connect(self.open_policy_editor)
            self.menuBar().addMenu("&Practice").addAction(policy_action)
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

    def open_policy_editor(self) -> PolicyEditor:
        editor = PolicyEditor(self.services.policy(), self._save_policy, self)
        editor.open()
        self.policy_editor = editor
        return editor

    def _save_policy(self, policy: dict[str, Any], on_saved: Any, on_failed: Any) -> None:
        def saved(result: dict[str, Any]) -> None:
            on_saved(result)
            self.on_items_changed([])  # clocks were recomputed with the new policy
            self.statusBar().showMessage("Practice policy saved.", 8000)

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
            self.detail.composer.setFocus()

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
        prefix = self.settings_prefix
        restored = False
        for key, restore in (
            ("geometry", self.restoreGeometry),
            ("splitter", self.splitter.restoreState),
            ("columns", self.inbox.table.horizontalHeader().restoreState),
        ):
            value = self.settings.value(f"{prefix}/{key}")
            if isinstance(value, QByteArray):
                restore(value)
                restored = True
        return restored

    def save_layout(self) -> None:
        prefix = self.settings_prefix
        self.settings.setValue(f"{prefix}/geometry", self.saveGeometry())
        self.settings.setValue(f"{prefix}/splitter", self.splitter.saveState())
        self.settings.setValue(f"{prefix}/columns", self.inbox.table.horizontalHeader().saveState())
        self.settings.setValue(f"{prefix}/queue", self.queues.current())
        self.settings.sync()

    def _sign_out(self) -> None:
        self.save_layout()
        if self.services.sign_out is not None:
            self.services.sign_out()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self._clock.stop()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)
        if not QApplication.topLevelWidgets():
            QApplication.quit()


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
