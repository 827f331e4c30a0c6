"""The inbox table model: one view's size, the ids loaded so far, and rows for what was painted.

Filtering, sorting and search are done by the query; the model only adapts plain rows, and
never reads the cache itself. A view arrives with its size, its first window of ids and its
first rows; anything else the view paints is asked for on a worker (`fetch_rows`, and the
view's `fetch_window` for ids further down) and painted when it arrives. Updates keep the
selection: `dataChanged` over touched rows when the order is the same, persistent indexes
moved by id when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from portal_client.inbox import COLUMNS, WINDOW, InboxPage, InboxRow
from triage_core.vocabulary import Kind, Priority, Queue, Status

Index = QModelIndex | QPersistentModelIndex
RowsCallback = Callable[[dict[str, InboxRow]], None]
FetchRows = Callable[[list[str], RowsCallback], None]
FetchWindow = Callable[[int, Callable[[InboxPage], None]], None]

HEADERS = tuple(column.header for column in COLUMNS)
SORT_KEYS = tuple(column.key for column in COLUMNS)
CLOCK_COLUMN = SORT_KEYS.index("due")
PROTOCOL_COLUMN = SORT_KEYS.index("protocol")
PROTOCOL_WORDS = {"pass": "Pass ✓", "review": "Review"}
CLOCK_COLOURS = {"breached": "#a01010", "at_risk": "#8a5a00"}
BLOCK = 100  # rows asked for at once
ID_ROLE = Qt.ItemDataRole.UserRole + 1


def received_words(created_at: str, now: datetime | None = None) -> str:
    try:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return created_at
    minutes = int(((now or datetime.now(UTC)) - moment).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


_ICONS: dict[str, Any] = {}


def _icon(name: str) -> Any:
    """Icons are plain SVG files under resources/icons, loaded once."""
    if name not in _ICONS:
        from PySide6.QtGui import QIcon

        import resources

        _ICONS[name] = QIcon(resources.path(f"icons/{name}.svg"))
    return _ICONS[name]


def _no_window(_offset: int, _done: Callable[[InboxPage], None]) -> None:
    return None


class InboxModel(QAbstractTableModel):
    def __init__(
        self,
        fetch_rows: FetchRows,
        staff_names: Callable[[], dict[str, str]],
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._fetch_rows = fetch_rows
        self._fetch_window: FetchWindow = _no_window
        self._staff_names = staff_names
        self._ids: list[str | None] = []
        self._rows: dict[str, InboxRow] = {}
        self._asked_rows: set[str] = set()
        self._asked_windows: set[int] = set()
        self._names: dict[str, str] = {}
        self._view = 0  # answers asked for by an earlier view are dropped

    # ---- content -----------------------------------------------------------------------------

    def _sparse(self, page: InboxPage) -> list[str | None]:
        ids: list[str | None] = list(page.ids)
        return ids + [None] * max(0, page.total - len(ids))

    def set_view(
        self, page: InboxPage, rows: dict[str, InboxRow], fetch_window: FetchWindow
    ) -> None:
        """Show this view (a new queue, filter, sort or search)."""
        self.beginResetModel()
        self._start_view(page, rows, fetch_window)
        self._rows = dict(rows)
        self.endResetModel()

    def _start_view(
        self, page: InboxPage, rows: dict[str, InboxRow], fetch_window: FetchWindow
    ) -> None:
        self._view += 1
        self._fetch_window = fetch_window
        self._ids = self._sparse(page)
        self._asked_rows.clear()
        self._asked_windows.clear()
        self._names = self._staff_names()

    def refresh(
        self,
        page: InboxPage,
        rows: dict[str, InboxRow],
        fetch_window: FetchWindow,
        changed: set[str] | None = None,
    ) -> None:
        """The same view after a sync: keep the model (and so the view's selection) when the
        order is the same and repaint changed rows; otherwise move rows by id."""
        new_ids = self._sparse(page)
        if new_ids == self._ids:
            self._view += 1
            self._fetch_window = fetch_window
            self._asked_rows.clear()
            self._asked_windows.clear()
            self._names = self._staff_names()
            self._rows.update(rows)
            stale = (changed if changed is not None else set(self._rows)) - set(rows)
            self._refetch([i for i in stale if i in self._rows])
            self._repaint(set(rows) | stale)
            return
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [
            self._ids[index.row()] if 0 <= index.row() < len(self._ids) else None
            for index in old_persistent
        ]
        kept = {k: v for k, v in self._rows.items() if k not in (changed or set())}
        self._start_view(page, rows, fetch_window)
        position = {item_id: row for row, item_id in enumerate(self._ids) if item_id}
        self._rows = {k: v for k, v in kept.items() if k in position} | dict(rows)
        new_persistent = [
            self.index(position[item_id], index.column())
            if item_id is not None and item_id in position
            else QModelIndex()
            for index, item_id in zip(old_persistent, old_ids, strict=True)
        ]
        self.changePersistentIndexList(old_persistent, new_persistent)
        self.layoutChanged.emit()

    def refresh_clocks(self) -> None:
        """Time passes: fetch the loaded rows again (their clock words are made when fetched);
        the old words stay on screen until the new ones arrive."""
        self._refetch(list(self._rows))

    def _refetch(self, ids: list[str]) -> None:
        for start in range(0, len(ids), BLOCK):
            self._ask_rows(ids[start : start + BLOCK])

    def _ask_rows(self, block: list[str]) -> None:
        self._asked_rows.update(block)
        self._fetch_rows(block, partial(self._rows_arrived, self._view, tuple(block)))

    def current_ids(self) -> list[str]:
        """The ids loaded so far, in order."""
        return [item_id for item_id in self._ids if item_id is not None]

    def total(self) -> int:
        return len(self._ids)

    def item_id(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, item_id: str) -> int:
        try:
            return self._ids.index(item_id)
        except ValueError:
            return -1

    def loading(self) -> bool:
        return bool(self._asked_rows or self._asked_windows)

    def loaded_row(self, item_id: str) -> InboxRow | None:
        return self._rows.get(item_id)

    # ---- asking for what is missing ----------------------------------------------------------

    def _row(self, row: int) -> InboxRow | None:
        if self._ids[row] is None:
            self._ask_window(row)
        item_id = self._ids[row]  # a source that answers at once has filled it in
        if item_id is None:
            return None
        if item_id not in self._rows:
            self._ask_block(row)
        return self._rows.get(item_id)

    def _ask_block(self, row: int) -> None:
        start = row - row % BLOCK
        block = [
            i
            for i in self._ids[start : start + BLOCK]
            if i is not None and i not in self._rows and i not in self._asked_rows
        ]
        if block:
            self._ask_rows(block)

    def _rows_arrived(self, view: int, asked: tuple[str, ...], rows: dict[str, InboxRow]) -> None:
        if view != self._view:
            return
        self._asked_rows.difference_update(asked)
        self._rows.update(rows)
        self._repaint(set(rows))

    def _ask_window(self, row: int) -> None:
        offset = row - row % WINDOW
        if offset not in self._asked_windows:
            self._asked_windows.add(offset)
            self._fetch_window(offset, partial(self._window_arrived, self._view))

    def _window_arrived(self, view: int, page: InboxPage) -> None:
        if view != self._view:
            return
        self._asked_windows.discard(page.offset)
        end = min(len(self._ids), page.offset + len(page.ids))
        self._ids[page.offset : end] = page.ids[: end - page.offset]
        if end > page.offset:
            self.dataChanged.emit(self.index(page.offset, 0), self.index(end - 1, len(COLUMNS) - 1))

    def _repaint(self, ids: set[str]) -> None:
        rows = [n for n, item_id in enumerate(self._ids) if item_id in ids]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))

    # ---- Qt model API ------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        row = self._row(index.row())
        if row is None:
            return None
        column = index.column()
        if role == ID_ROLE:
            return row.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(row, column)
        if role == Qt.ItemDataRole.DecorationRole:
            if column == 0:
                return _icon(row.kind)
            if column == 1 and row.priority == Priority.URGENT:
                return _icon("urgent")
            if column == CLOCK_COLUMN and row.clock_state == "breached":
                return _icon("urgent")
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            from PySide6.QtGui import QColor

            if column == 1 and row.priority == Priority.URGENT:
                return QColor("#a01010")
            if column == CLOCK_COLUMN:
                colour = CLOCK_COLOURS.get(row.clock_state)
                return QColor(colour) if colour else None
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, 3):
            return row.patient if column == 2 else row.subject
        if role == Qt.ItemDataRole.ToolTipRole and column == PROTOCOL_COLUMN:
            return row.protocol_why
        if role == Qt.ItemDataRole.FontRole and row.status == Status.NEW:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def _display(self, row: InboxRow, column: int) -> str:
        key = SORT_KEYS[column]
        if key == "protocol":
            return PROTOCOL_WORDS.get(row.protocol or "", "")
        if key == "kind":
            return Kind.describe(row.kind)
        if key == "priority":
            return Priority.describe(row.priority)
        if key == "patient":
            return row.patient
        if key == "subject":
            return row.subject + ("  (sending…)" if row.pending else "")
        if key == "queue":
            return Queue.describe(row.queue)
        if key == "assignee":
            return self._names.get(row.assignee_id or "", "") if row.assignee_id else "—"
        if key == "status":
            return Status.describe(row.status)
        if key == "received":
            return received_words(row.created_at)
        return row.clock_words

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
