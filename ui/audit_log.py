"""The audit log window (administrators): who saw or did what, filtered by patient, staff
member, action and dates; break-the-glass accesses with their reasons; the chain check; CSV.

Nothing here touches the network or the cache: `AuditBackend` (the desktop's services) runs
each request on a worker and answers on the GUI thread; only the newest answer is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from typing import Any, Protocol

from PySide6.QtCore import QDate, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from portal_client.audit_log import (
    ACTION_GROUPS,
    PAGE,
    AuditPage,
    AuditQuery,
    AuditRow,
    chain_words,
    find_patient,
    patient_choice_text,
)
from triage_core.vocabulary import Role

from .audit_model import BREAK_GLASS_COLUMNS, EVENT_COLUMNS, AuditModel, Column
from .widgets import PlainLabel

EVENTS, BREAK_GLASS = "events", "break_glass"
DAYS_SHOWN = 30  # the date range a window opens with
ROW_HEIGHT = 24
BROKEN_STYLE = "color: #a01010; font-weight: bold;"
INTACT_STYLE = "color: #1a6b1a; font-weight: bold;"


class AuditBackend(Protocol):
    def audit_page(
        self,
        query: AuditQuery,
        on_done: Callable[[Any], None],
        on_failure: Callable[[Exception], None],
    ) -> None: ...

    def audit_chain(
        self, on_done: Callable[[Any], None], on_failure: Callable[[Exception], None]
    ) -> None: ...

    def audit_patients(self, on_done: Callable[[Any], None]) -> None: ...

    def export_audit(
        self,
        path: str,
        rows: list[AuditRow],
        on_done: Callable[[Any], None],
        on_failure: Callable[[Exception], None],
    ) -> None: ...


@dataclass
class _Tab:
    """One table: its model, the query it shows and where its next (older) page starts."""

    key: str
    model: AuditModel
    view: QTableView
    query: AuditQuery | None = None
    next_before_seq: int | None = None
    waiting_for: AuditQuery | None = None


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _py_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class AuditLogDialog(QDialog):
    """`ask_path(on_chosen)` asks where to save the CSV (injectable: tests need no dialog)."""

    page_shown = Signal(str)  # the tab's key, after its rows changed
    chain_checked = Signal(bool)  # intact
    exported = Signal(str)  # the path written
    failed = Signal(str)  # what the status line says

    def __init__(
        self,
        backend: AuditBackend,
        staff: Iterable[Mapping[str, Any]],
        ask_path: Callable[[Callable[[str], None]], None],
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.backend = backend
        self.ask_path = ask_path
        self.patients: list[tuple[str, str, str]] = []
        self.patient_id: str | None = None
        self.page_size = PAGE

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.chain = PlainLabel("Checking the audit chain…", self, selectable=True)
        self.chain.setAccessibleName("Audit chain")
        self.check_button = QPushButton("Check again", self)
        top.addWidget(self.chain, 1)
        top.addWidget(self.check_button)
        layout.addLayout(top)

        filters = QHBoxLayout()
        self.patient = QLineEdit(self)
        self.patient.setPlaceholderText("Any patient (name or MRN)")
        self.patient.setAccessibleName("Patient")
        self.patient.setClearButtonEnabled(True)
        self.patient.setMinimumWidth(220)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.patient.setCompleter(completer)
        self.staff = QComboBox(self)
        self.staff.setAccessibleName("Staff member")
        self.staff.addItem("Anyone", None)
        for member in sorted(staff, key=lambda m: str(m.get("display_name", ""))):
            role = Role.describe(str(member.get("role") or ""))
            role = role[:1].upper() + role[1:]
            self.staff.addItem(f"{member['display_name']} · {role}", str(member["id"]))
        self.action = QComboBox(self)
        self.action.setAccessibleName("Action")
        for key, group in ACTION_GROUPS.items():
            self.action.addItem(group.label, key)
        self.start = QDateEdit(_qdate(today - timedelta(days=DAYS_SHOWN - 1)), self)
        self.end = QDateEdit(_qdate(today), self)
        for label, widget in (
            ("Patient", self.patient),
            ("Staff", self.staff),
            ("Action", self.action),
            ("From", self.start),
            ("To", self.end),
        ):
            filters.addWidget(QLabel(label, self))
            filters.addWidget(widget)
        for edit, name in ((self.start, "From"), (self.end, "To")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setAccessibleName(name)
        self.refresh_button = QPushButton("Refresh", self)
        filters.addWidget(self.refresh_button)
        filters.addStretch(1)
        layout.addLayout(filters)

        self.tabs = QTabWidget(self)
        self.events = self._tab(EVENTS, EVENT_COLUMNS, "Events")
        self.break_glass = self._tab(BREAK_GLASS, BREAK_GLASS_COLUMNS, "Break-the-glass accesses")
        layout.addWidget(self.tabs, 1)

        bottom = QHBoxLayout()
        self.status = PlainLabel("", self, selectable=False)
        self.status.setAccessibleName("Audit log status")
        self.older_button = QPushButton("Load older", self)
        self.older_button.setEnabled(False)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setEnabled(False)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.older_button)
        bottom.addWidget(self.export_button)
        layout.addLayout(bottom)

        self.check_button.clicked.connect(self.check_chain)
        self.refresh_button.clicked.connect(self.reload)
        self.staff.currentIndexChanged.connect(self._filter_changed)
        self.action.currentIndexChanged.connect(self._filter_changed)
        self.start.dateChanged.connect(self._filter_changed)
        self.end.dateChanged.connect(self._filter_changed)
        self.patient.returnPressed.connect(self._patient_entered)
        self.patient.textChanged.connect(self._patient_edited)
        completer.activated.connect(self._patient_picked)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.older_button.clicked.connect(self.load_older)
        self.export_button.clicked.connect(self.export)
        self.resize(1320, 720)

        self.backend.audit_patients(self._patients_arrived)
        self.check_chain()
        self.reload()

    def _tab(self, key: str, columns: tuple[Column, ...], title: str) -> _Tab:
        model = AuditModel(columns, self)
        view = QTableView(self)
        view.setModel(model)
        view.setAccessibleName(title)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setWordWrap(False)
        view.setAlternatingRowColors(True)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for n, column in enumerate(columns):
            view.setColumnWidth(n, column.width)
        self.tabs.addTab(view, title)
        return _Tab(key, model, view)

    # ---- state -------------------------------------------------------------------------------

    @property
    def current(self) -> _Tab:
        return self.break_glass if self.tabs.currentIndex() == 1 else self.events

    def query(self, *, break_glass: bool = False) -> AuditQuery:
        """The filter as the controls say it now."""
        return AuditQuery(
            patient_id=self.patient_id,
            actor_id=self.staff.currentData(),
            group=str(self.action.currentData()),
            start=_py_date(self.start.date()),
            end=_py_date(self.end.date()),
            break_glass=break_glass,
            limit=self.page_size,
        )

    # ---- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Both tabs from their newest event, with the current filter."""
        if self.end.date() < self.start.date():
            self._say("The range ends before it starts.")
            return
        for tab, query in (
            (self.events, self.query()),
            (self.break_glass, self.query(break_glass=True)),
        ):
            self._ask(tab, query)
        self._say("Loading…")

    def load_older(self) -> None:
        tab = self.current
        if tab.query is not None and tab.next_before_seq is not None:
            self._ask(tab, tab.query.older(tab.next_before_seq))
            self.older_button.setEnabled(False)
            self._say("Loading older events…")

    def _ask(self, tab: _Tab, query: AuditQuery) -> None:
        tab.waiting_for = query
        self.backend.audit_page(query, self._page_arrived, partial(self._page_failed, tab, query))

    def _page_arrived(self, page: AuditPage) -> None:
        tab = self.break_glass if page.query.break_glass else self.events
        if page.query != tab.waiting_for:
            return  # an older answer: the filter changed since it was asked
        tab.waiting_for = None
        if page.query.before_seq is None:
            tab.model.set_rows(page.rows)
        else:
            tab.model.append(page.rows)
        tab.query = replace(page.query, before_seq=None)
        tab.next_before_seq = page.next_before_seq
        self._update_footer()
        self.page_shown.emit(tab.key)

    def _page_failed(self, tab: _Tab, query: AuditQuery, exc: Exception) -> None:
        if query != tab.waiting_for:
            return
        tab.waiting_for = None
        self._say(f"Could not load the audit log: {_message(exc)}")
        self._update_buttons()
        self.failed.emit(self.status.text())

    def _update_footer(self) -> None:
        tab = self.current
        count = tab.model.rowCount()
        noun = "access" if tab.key == BREAK_GLASS else "event"
        plural = "es" if noun == "access" else "s"
        shown = f"{count:,} {noun}{plural if count != 1 else ''} shown, newest first"
        if tab.waiting_for is not None:
            shown = "Loading…"
        elif tab.next_before_seq is not None:
            shown += "; older ones match too (Load older)"
        elif count == 0:
            shown = f"No {noun}{plural} match this filter."
        self.status.setText(shown)
        self._update_buttons()

    def _update_buttons(self) -> None:
        tab = self.current
        self.older_button.setEnabled(tab.next_before_seq is not None and tab.waiting_for is None)
        self.export_button.setEnabled(tab.model.rowCount() > 0)
        self.action.setEnabled(tab.key == EVENTS)

    def _tab_changed(self, _index: int) -> None:
        self._update_footer()

    def _filter_changed(self, *_args: object) -> None:
        self.reload()

    # ---- the patient picker ------------------------------------------------------------------

    def _patients_arrived(self, patients: list[tuple[str, str, str]]) -> None:
        self.patients = list(patients)
        self._names.setStringList([patient_choice_text(p) for p in self.patients])

    def _patient_picked(self, text: str) -> None:
        self.patient.setText(text)
        self._patient_entered()

    def _patient_edited(self, text: str) -> None:
        if not text.strip() and self.patient_id is not None:
            self.patient_id = None
            self.reload()

    def _patient_entered(self) -> None:
        text = self.patient.text().strip()
        if not text:
            if self.patient_id is not None:
                self.patient_id = None
                self.reload()
            return
        found = find_patient(text, self.patients)
        if found is None:
            self._say(f"No patient on this computer has the MRN or name “{text}”.")
            return
        self.patient_id = found[0]
        self.patient.setText(patient_choice_text(found))
        self.reload()

    def choose_patient(self, patient_id: str | None) -> None:
        """Pick a patient by id (or none), as choosing them in the picker does."""
        match = next((p for p in self.patients if p[0] == patient_id), None)
        self.patient.setText(patient_choice_text(match) if match else "")
        self.patient_id = match[0] if match else None
        self.reload()

    # ---- the chain ---------------------------------------------------------------------------

    def check_chain(self) -> None:
        self.check_button.setEnabled(False)
        self.chain.setStyleSheet("")
        self.chain.setText("Checking the audit chain…")
        self.backend.audit_chain(self._chain_arrived, self._chain_failed)

    def _chain_arrived(self, chain: dict[str, Any]) -> None:
        words, intact = chain_words(chain)
        self.chain.setText(words)
        self.chain.setStyleSheet(INTACT_STYLE if intact else BROKEN_STYLE)
        self.check_button.setEnabled(True)
        self.chain_checked.emit(intact)

    def _chain_failed(self, exc: Exception) -> None:
        self.chain.setText(f"The audit chain could not be checked: {_message(exc)}")
        self.chain.setStyleSheet(BROKEN_STYLE)
        self.check_button.setEnabled(True)

    # ---- export ------------------------------------------------------------------------------

    def export(self) -> None:
        rows = list(self.current.model.rows)
        if rows:
            self.ask_path(partial(self._export_to, rows))

    def _export_to(self, rows: list[AuditRow], path: str) -> None:
        self._say("Exporting…")
        self.backend.export_audit(path, rows, partial(self._exported, path), self._export_failed)

    def _exported(self, path: str, count: int) -> None:
        self._say(f"Exported {count:,} rows to {path}.")
        self.exported.emit(path)

    def _export_failed(self, exc: Exception) -> None:
        self._say(f"The export could not be written: {_message(exc)}")
        self.failed.emit(self.status.text())

    def _say(self, text: str) -> None:
        self.status.setText(text)


def ask_save_path(parent: QWidget, on_chosen: Callable[[str], None]) -> None:
    """A non-modal save dialog (no nested event loop) for the export."""
    chooser = QFileDialog(parent, "Export the audit log", "audit-log.csv", "CSV (*.csv)")
    chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    chooser.setDefaultSuffix("csv")
    chooser.fileSelected.connect(on_chosen)
    chooser.open()
