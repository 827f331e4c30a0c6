"""The SLA report window: a date range, a grouping, the table, breaches, a daily compliance
chart and CSV export. Computed from the cache on a worker, so it works offline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from portal_client.sla_report import GROUPINGS, Report

from .widgets import PlainLabel

HEADERS = (
    "",
    "Handled",
    "Met %",
    "First response median (h)",
    "First response p90 (h)",
    "Resolution median (h)",
    "Resolution p90 (h)",
)


def _cell(value: object) -> QTableWidgetItem:
    item = QTableWidgetItem("—" if value is None else str(value))
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


class SlaReportDialog(QDialog):
    """`compute(start, end, grouping, on_done)` runs the report off the GUI thread;
    `save_csv(text)` asks where to save (injectable, so tests need no file dialog)."""

    def __init__(
        self,
        compute: Callable[[date, date, str, Callable[[Report], None]], None],
        save_csv: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("SLA report")
        self.compute = compute
        self.save_csv = save_csv
        self.report: Report | None = None
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        today = QDate.currentDate()
        self.start = QDateEdit(today.addDays(-27), self)
        self.end = QDateEdit(today, self)
        for edit, name in ((self.start, "From"), (self.end, "To")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setAccessibleName(name)
            controls.addWidget(QLabel(name, self))
            controls.addWidget(edit)
        self.grouping = QComboBox(self)
        self.grouping.setAccessibleName("Group by")
        for key, label in GROUPINGS.items():
            self.grouping.addItem(label, key)
        controls.addWidget(QLabel("by", self))
        controls.addWidget(self.grouping)
        self.run_button = QPushButton("Show", self)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setEnabled(False)
        controls.addWidget(self.run_button)
        controls.addWidget(self.export_button)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.status = PlainLabel("", self, selectable=False)
        layout.addWidget(self.status)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setAccessibleName("Compliance by group")
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table, 2)
        self.chart = QChart()
        self.chart.setTitle("Daily compliance (% of clocks met)")
        self.chart.legend().hide()
        self.chart_view = QChartView(self.chart, self)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(220)
        layout.addWidget(self.chart_view, 2)
        layout.addWidget(PlainLabel("Breaches (worst first)", self, selectable=False))
        self.breaches = QTableWidget(0, 5, self)
        self.breaches.setHorizontalHeaderLabels(
            ["Subject", "Clock", "State", "Hours over", "Group"]
        )
        self.breaches.setAccessibleName("Breaches")
        self.breaches.verticalHeader().setVisible(False)
        layout.addWidget(self.breaches, 2)
        self.run_button.clicked.connect(self.run)
        self.export_button.clicked.connect(self._export)
        self.resize(1000, 760)

    def run(self) -> None:
        start = _py_date(self.start.date())
        end = _py_date(self.end.date())
        if end < start:
            self.status.setText("The range ends before it starts.")
            return
        self.status.setText("Working…")
        self.run_button.setEnabled(False)
        self.compute(start, end, str(self.grouping.currentData()), self.show_report)

    def show_report(self, report: Report) -> None:
        self.report = report
        self.run_button.setEnabled(True)
        self.export_button.setEnabled(True)
        self.table.setHorizontalHeaderLabels([GROUPINGS[report.grouping], *HEADERS[1:]])
        rows = [*report.rows, report.total]
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            summary = row.summary()
            for c, key in enumerate(
                (
                    "group",
                    "handled",
                    "met_percent",
                    "first_response_median_h",
                    "first_response_p90_h",
                    "resolution_median_h",
                    "resolution_p90_h",
                )
            ):
                self.table.setItem(r, c, _cell(summary[key]))
        self.breaches.setRowCount(len(report.breaches))
        for r, breach in enumerate(report.breaches):
            for c, value in enumerate(
                (
                    breach.subject,
                    breach.clock.replace("_", " "),
                    breach.state,
                    breach.hours_over,
                    breach.group,
                )
            ):
                self.breaches.setItem(r, c, _cell(value))
        self.table.resizeColumnsToContents()
        self.breaches.resizeColumnsToContents()
        self.breaches.setColumnWidth(0, max(self.breaches.columnWidth(0), 320))
        self._chart(report)
        met = report.total.met_percent
        self.status.setText(
            f"{report.total.handled} handled; "
            f"{'no clocks stopped' if met is None else f'{met} % of clocks met'}; "
            f"{len(report.breaches)} breaches"
        )

    def _chart(self, report: Report) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        series = QLineSeries()
        for day, percent in report.daily:
            if percent is not None:
                moment = QDateTime(QDate(day.year, day.month, day.day), QTime(12, 0))
                series.append(moment.toMSecsSinceEpoch(), percent)
        self.chart.addSeries(series)
        x = QDateTimeAxis()
        x.setFormat("d MMM")
        x.setRange(
            QDateTime(QDate(report.start.year, report.start.month, report.start.day), QTime(0, 0)),
            QDateTime(
                QDate(report.end.year, report.end.month, report.end.day).addDays(1), QTime(0, 0)
            ),
        )
        y = QValueAxis()
        y.setRange(0, 100)
        y.setLabelFormat("%d %%")
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)

    def _export(self) -> None:
        if self.report is not None:
            self.save_csv(self.report.to_csv())


def _py_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())
