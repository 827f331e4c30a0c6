"""The SLA report: how the practice met its response promises over a date range.

Pure Python over plain item dicts (from the cache), so it works offline and is testable
without Qt. Times are in business hours (or clock hours for clock-hour targets).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from triage_core.calendar import BusinessCalendar
from triage_core.clocks import BREACHED, MET, MISSED, Clock, item_clocks
from triage_core.vocabulary import CLOSED_STATUSES, Kind, Priority, Queue

GROUPINGS = {"kind": "Kind", "queue": "Queue", "priority": "Priority", "staff": "Staff member"}


@dataclass(frozen=True)
class Breach:
    item_id: str
    subject: str
    clock: str
    state: str  # "missed" or "breached" (still open and late)
    hours_over: float
    group: str


@dataclass
class ReportRow:
    group: str
    handled: int = 0
    met: int = 0
    missed: int = 0
    first_response_hours: list[float] = field(default_factory=list)
    resolution_hours: list[float] = field(default_factory=list)

    @property
    def met_percent(self) -> float | None:
        total = self.met + self.missed
        return round(100.0 * self.met / total, 1) if total else None

    @staticmethod
    def _median(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    @staticmethod
    def _p90(values: list[float]) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        # nearest-rank 90th percentile: the smallest value with at least 90 % at or below it
        rank = max(1, -(-9 * len(ordered) // 10))
        return round(ordered[rank - 1], 2)

    def summary(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "handled": self.handled,
            "met_percent": self.met_percent,
            "first_response_median_h": self._median(self.first_response_hours),
            "first_response_p90_h": self._p90(self.first_response_hours),
            "resolution_median_h": self._median(self.resolution_hours),
            "resolution_p90_h": self._p90(self.resolution_hours),
        }


@dataclass
class Report:
    start: date
    end: date
    grouping: str
    rows: list[ReportRow]
    total: ReportRow
    breaches: list[Breach]
    daily: list[tuple[date, float | None]]  # compliance % of clocks that stopped that day

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                GROUPINGS[self.grouping],
                "handled",
                "met %",
                "first response median h",
                "first response p90 h",
                "resolution median h",
                "resolution p90 h",
            ]
        )
        for row in [*self.rows, self.total]:
            s = row.summary()
            writer.writerow(
                [
                    _safe_cell(s["group"]),
                    s["handled"],
                    _blank(s["met_percent"]),
                    _blank(s["first_response_median_h"]),
                    _blank(s["first_response_p90_h"]),
                    _blank(s["resolution_median_h"]),
                    _blank(s["resolution_p90_h"]),
                ]
            )
        writer.writerow([])
        writer.writerow(["breaches: item", "subject", "clock", "state", "hours over", "group"])
        for breach in self.breaches:
            writer.writerow(
                [
                    breach.item_id,
                    _safe_cell(breach.subject),
                    breach.clock,
                    breach.state,
                    breach.hours_over,
                    _safe_cell(breach.group),
                ]
            )
        return out.getvalue()


def _blank(value: object) -> object:
    return "" if value is None else value


def _safe_cell(text: str) -> str:
    """Spreadsheet apps run cells that start with = + - @ as formulas: never patient text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 4)


def build_report(
    items: Iterable[dict[str, Any]],
    policy: dict[str, Any],
    calendar: BusinessCalendar,
    *,
    start: date,
    end: date,
    grouping: str,
    now: datetime,
    staff_names: dict[str, str] | None = None,
) -> Report:
    """Items received from `start` to `end` (practice dates, inclusive), grouped."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    if end < start:
        raise ValueError("the range ends before it starts")
    names = staff_names or {}
    rows: dict[str, ReportRow] = {}
    total = ReportRow("All")
    breaches: list[Breach] = []
    daily_met: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
        local_day = created.astimezone(calendar.tz).date()
        if not start <= local_day <= end:
            continue
        group = _group_of(item, grouping, names)
        row = rows.setdefault(group, ReportRow(group))
        clocks = item_clocks(item, policy, calendar, now)
        handled = item.get("status") in CLOSED_STATUSES
        for target in (row, total):
            target.handled += int(handled)
        for clock in clocks:
            _count(clock, row, total, daily_met, calendar)
            if clock.state in (MISSED, BREACHED):
                breaches.append(
                    Breach(
                        item["id"],
                        item.get("subject", ""),
                        clock.name,
                        clock.state,
                        _hours(clock.used - clock.target),
                        group,
                    )
                )
    days = []
    day = start
    while day <= end:
        met, missed = daily_met.get(day, [0, 0])
        days.append((day, round(100.0 * met / (met + missed), 1) if met + missed else None))
        day += timedelta(days=1)
    breaches.sort(key=lambda b: -b.hours_over)
    return Report(
        start, end, grouping, sorted(rows.values(), key=lambda r: r.group), total, breaches, days
    )


def _count(
    clock: Clock,
    row: ReportRow,
    total: ReportRow,
    daily: dict[date, list[int]],
    calendar: BusinessCalendar,
) -> None:
    if clock.state not in (MET, MISSED):
        return
    for target in (row, total):
        if clock.state == MET:
            target.met += 1
        else:
            target.missed += 1
        hours = _hours(clock.used)
        if clock.name == "first_response":
            target.first_response_hours.append(hours)
        else:
            target.resolution_hours.append(hours)
    if clock.stopped_at is not None:
        day = clock.stopped_at.astimezone(calendar.tz).date()
        daily[day][0 if clock.state == MET else 1] += 1


def _group_of(item: dict[str, Any], grouping: str, names: dict[str, str]) -> str:
    if grouping == "staff":
        # Who handled it: the assignee, else whoever replied or decided first.
        staff_id = item.get("assignee_id")
        if not staff_id:
            for entry in item.get("entries", []):
                if entry.get("type") == "staff_reply" or (entry.get("data") or {}).get(
                    "action"
                ) in ("refill_decision", "appointment_decision"):
                    staff_id = (entry.get("author") or {}).get("id")
                    break
        return names.get(staff_id or "", "Unassigned") if staff_id else "Unassigned"
    vocabulary = {"kind": Kind, "queue": Queue, "priority": Priority}[grouping]
    return vocabulary.describe(str(item.get(grouping, "")))
