"""The inbox table model: an ordered list of ids, rows fetched in blocks when painted.

Filtering, sorting and search are done by the query behind `fetch_ids`; the model only adapts
plain rows. Updates keep the selection: rows move with `beginResetModel` only when the id list
itself changes, otherwise `dataChanged` over the touched rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from portal_client.inbox import InboxRow

Index = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Kind",
    "Priority",
    "Patient",
    "Subject",
    "Queue",
    "Assignee",
    "Status",
    "Received",
    "Time left",
)
SORT_KEYS = (
    "kind",
    "priority",
    "patient",
    "subject",
    "queue",
    "assignee",
    "status",
    "received",
    "due",
)
CLOCK_COLUMN = 8
CLOCK_COLOURS = {"breached": "#a01010", "at_risk": "#8a5a00"}
KIND_WORDS = {"refill": "Refill", "appointment": "Appointment", "message": "Message"}
QUEUE_WORDS = {"front_desk": "Front desk", "nursing": "Nursing", "clinician": "Clinician"}
STATUS_WORDS = {
    "new": "New",
    "open": "Open",
    "waiting_patient": "Waiting on patient",
    "done": "Done",
    "cancelled": "Cancelled",
}
BLOCK = 200
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


class InboxModel(QAbstractTableModel):
    def __init__(
        self,
        fetch_rows: Callable[[list[str]], dict[str, InboxRow]],
        staff_names: Callable[[], dict[str, str]],
        parent: Any = None,
        describe_clock: Callable[[InboxRow], tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch_rows = fetch_rows
        self._staff_names = staff_names
        self._describe_clock = describe_clock or (lambda _row: ("—", "none"))
        self._ids: list[str] = []
        self._rows: dict[str, InboxRow] = {}
        self._names: dict[str, str] = {}

    # ---- content -----------------------------------------------------------------------------

    def set_ids(self, ids: list[str]) -> None:
        """Show these ids in this order (a new filter, sort or search)."""
        self.beginResetModel()
        self._ids = list(ids)
        self._rows.clear()
        self._names = self._staff_names()
        self.endResetModel()

    def refresh(self, ids: list[str], changed: set[str] | None = None) -> None:
        """New order after a sync: keep the model (and so the view's selection) when the list is
        the same, repaint only changed rows; otherwise move rows without a full reset."""
        if ids == self._ids:
            touched = changed if changed is not None else set(self._rows)
            for item_id in touched & set(self._rows):
                self._rows.pop(item_id, None)
            self._names = self._staff_names()
            rows = [i for i, item_id in enumerate(self._ids) if item_id in touched]
            if rows:
                self.dataChanged.emit(
                    self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1)
                )
            return
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [
            self._ids[index.row()] if 0 <= index.row() < len(self._ids) else None
            for index in old_persistent
        ]
        self._ids = list(ids)
        position = {item_id: row for row, item_id in enumerate(self._ids)}
        for item_id in changed or ():
            self._rows.pop(item_id, None)
        self._rows = {k: v for k, v in self._rows.items() if k in position}
        self._names = self._staff_names()
        new_persistent = [
            self.index(position[item_id], index.column())
            if item_id is not None and item_id in position
            else QModelIndex()
            for index, item_id in zip(old_persistent, old_ids, strict=True)
        ]
        self.changePersistentIndexList(old_persistent, new_persistent)
        self.layoutChanged.emit()

    def current_ids(self) -> list[str]:
        return list(self._ids)

    def item_id(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, item_id: str) -> int:
        try:
            return self._ids.index(item_id)
        except ValueError:
            return -1

    def _row(self, row: int) -> InboxRow | None:
        item_id = self._ids[row]
        found = self._rows.get(item_id)
        if found is None:
            start = row - row % BLOCK
            block = [i for i in self._ids[start : start + BLOCK] if i not in self._rows]
            self._rows.update(self._fetch_rows(block))
            found = self._rows.get(item_id)
        return found

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
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
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
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.DecorationRole:
            if column == 0:
                return _icon(row.kind)
            if column == 1 and row.priority == "urgent":
                return _icon("urgent")
            if column == CLOCK_COLUMN and self._describe_clock(row)[1] == "breached":
                return _icon("urgent")
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            from PySide6.QtGui import QColor

            if column == 1 and row.priority == "urgent":
                return QColor("#a01010")
            if column == CLOCK_COLUMN:
                colour = CLOCK_COLOURS.get(self._describe_clock(row)[1])
                return QColor(colour) if colour else None
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, 3):
            return row.patient if column == 2 else row.subject
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.FontRole and row.status == "new":
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def _display(self, row: InboxRow, column: int) -> str:
        if column == 0:
            return KIND_WORDS.get(row.kind, row.kind)
        if column == 1:
            return "Urgent" if row.priority == "urgent" else "Routine"
        if column == 2:
            return row.patient
        if column == 3:
            return row.subject + ("  (sending…)" if row.pending else "")
        if column == 4:
            return QUEUE_WORDS.get(row.queue, row.queue)
        if column == 5:
            return self._names.get(row.assignee_id or "", "") if row.assignee_id else "—"
        if column == 6:
            return STATUS_WORDS.get(row.status, row.status)
        if column == 7:
            return received_words(row.created_at)
        return self._describe_clock(row)[0]

    def refresh_clocks(self) -> None:
        """Time passes: repaint the clock column (the stored due times do not change)."""
        if self._ids:
            self.dataChanged.emit(
                self.index(0, CLOCK_COLUMN), self.index(len(self._ids) - 1, CLOCK_COLUMN)
            )

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
