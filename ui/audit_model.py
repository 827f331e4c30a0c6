"""The audit log's table model: plain `AuditRow`s in the server's order (newest first).

The server filters and pages; the model only shows what arrived. A new filter resets it, and
"Load older" appends rows at the end (a row insert, not a reset), so the selection stays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from portal_client.audit_log import AuditRow

Index = QModelIndex | QPersistentModelIndex
WARNING_ACTIONS = frozenset(
    {"item.break_glass", "staff.login_failed", "staff.login_throttled", "staff.refresh_reuse"}
)
WARNING_COLOUR = QColor("#a01010")


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[AuditRow], str]
    width: int


def _patient(row: AuditRow) -> str:
    return f"{row.patient_name} ({row.mrn})" if row.mrn else row.patient_name


EVENT_COLUMNS = (
    Column("Time (practice)", lambda r: r.time_text, 170),
    Column("Staff member", lambda r: r.staff_text, 210),
    Column("Action", lambda r: r.action_text, 150),
    Column("Patient", _patient, 200),
    Column("Item", lambda r: r.subject, 220),
    Column("Detail", lambda r: r.detail_text, 300),
)
BREAK_GLASS_COLUMNS = (
    Column("Time (practice)", lambda r: r.time_text, 170),
    Column("Staff member", lambda r: r.staff_text, 210),
    Column("Patient", _patient, 200),
    Column("Item", lambda r: r.subject, 220),
    Column("Reason", lambda r: r.reason, 360),
)


class AuditModel(QAbstractTableModel):
    def __init__(self, columns: tuple[Column, ...], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[AuditRow] = []

    def set_rows(self, rows: Iterable[AuditRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def append(self, rows: Iterable[AuditRow]) -> None:
        new = list(rows)
        if not new:
            return
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
        self.rows.extend(new)
        self.endInsertRows()

    # ---- Qt ------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.columns[index.column()].text(row)
        if role == Qt.ItemDataRole.ForegroundRole and row.action in WARNING_ACTIONS:
            return WARNING_COLOUR
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].header
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
