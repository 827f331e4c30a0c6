"""The inbox in the centre: search, filter chips and the table (sorted by the query)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from portal_client.inbox import QUEUE_LABELS, InboxFilter

from .inbox_model import CLOCK_COLUMN, SORT_KEYS, InboxModel
from .widgets import PlainLabel

CHIPS = (
    ("kinds", "refill", "Refills"),
    ("kinds", "appointment", "Appointments"),
    ("kinds", "message", "Messages"),
    ("priorities", "urgent", "Urgent"),
    ("statuses", "new", "New"),
    ("statuses", "open", "Open"),
    ("statuses", "waiting_patient", "Waiting"),
)


class InboxPane(QWidget):
    filter_changed = Signal()
    item_selected = Signal(str)

    def __init__(self, model: InboxModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search subject, patient or message  (Ctrl+F)")
        self.search.setAccessibleName("Search the inbox")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        chips = QHBoxLayout()
        self.chips: list[tuple[str, str, QToolButton]] = []
        for group, value, label in CHIPS:
            chip = QToolButton(self)
            chip.setText(label)
            chip.setCheckable(True)
            chip.setAccessibleName(f"Filter: {label}")
            chip.toggled.connect(self._emit_filter)
            chips.addWidget(chip)
            self.chips.append((group, value, chip))
        chips.addStretch(1)
        self.result = PlainLabel("", self, selectable=False, wrap=False)
        self.result.setObjectName("resultLine")
        self.result.setAccessibleName("Items shown")
        chips.addWidget(self.result)
        layout.addLayout(chips)
        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setAccessibleName("Inbox")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows (Ctrl/Shift + click or arrows) for signing refills in a batch; the
        # current row is the one shown in the detail pane.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(False)  # sorted by the query, not per row in Qt
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._header_clicked)
        for column, width in enumerate((135, 85, 150, 250, 85, 130, 125, 90, 205)):
            self.table.setColumnWidth(column, width)
        # The response clock is what staff scan first: show it right after the priority.
        header.moveSection(CLOCK_COLUMN, 2)
        layout.addWidget(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self._sort = "urgency"
        self._descending = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self._emit_filter)
        self.search.textChanged.connect(lambda _t: self._debounce.start())

    def _emit_filter(self) -> None:
        self.filter_changed.emit()

    def search_pending(self) -> bool:
        """Typed into the search box, and not asked yet (waiting for a pause in typing)."""
        return self._debounce.isActive()

    def _header_clicked(self, column: int) -> None:
        key = SORT_KEYS[column]
        if self._sort == key:
            self._descending = not self._descending
        else:
            self._sort, self._descending = key, False
        self.table.horizontalHeader().setSortIndicator(
            column,
            Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder,
        )
        self.filter_changed.emit()

    def reset_sort(self) -> None:
        self._sort, self._descending = "urgency", False
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def current_filter(self, queue: str) -> InboxFilter:
        groups: dict[str, set[str]] = {"kinds": set(), "priorities": set(), "statuses": set()}
        for group, value, chip in self.chips:
            if chip.isChecked():
                groups[group].add(value)
        return InboxFilter(
            queue=queue,
            kinds=frozenset(groups["kinds"]),
            priorities=frozenset(groups["priorities"]),
            statuses=frozenset(groups["statuses"]),
            search=self.search.text(),
            sort=self._sort,
            descending=self._descending,
        )

    def _row_changed(self, current, _previous) -> None:  # type: ignore[no-untyped-def]
        item_id = self.model.item_id(current.row())
        if item_id:
            self.item_selected.emit(item_id)

    def show_result(self, total: int, filter_: InboxFilter) -> None:
        """How many items the view holds (the table may load them in parts)."""
        narrowed = filter_.search.strip() or filter_.kinds or filter_.priorities or filter_.statuses
        if total:
            self.result.setText(f"{total:,} item{'s' if total != 1 else ''}")
        elif narrowed:
            self.result.setText("No matches")
        else:
            self.result.setText(f"Nothing in {QUEUE_LABELS.get(filter_.queue, 'this queue')}")

    def selected_ids(self) -> list[str]:
        """Every selected row's item, top to bottom."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [item_id for row in rows if (item_id := self.model.item_id(row))]

    def selected_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.item_id(index.row()) if index.isValid() else None

    def select_id(self, item_id: str) -> None:
        row = self.model.row_of(item_id)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def step(self, delta: int, *, extend: bool = False) -> None:
        """Move to the next or previous row; with `extend`, add it to the selection (the
        rows chosen for signing together) instead of replacing it."""
        count = self.model.rowCount()
        if not count:
            return
        row = self.table.currentIndex().row()
        row = 0 if row < 0 else max(0, min(count - 1, row + delta))
        if extend:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
        else:
            self.select_id(self.model.item_id(row) or "")
        self.table.scrollTo(self.model.index(row, 0))
