"""Business time: when the practice is open, and how much open time lies between moments.

`BusinessCalendar` knows when the practice is open: weekly intervals in its IANA time zone,
public holidays of its country/subdivision (the `holidays` package) and extra closed dates.
Open intervals are wall-clock times turned into instants on each date (a wall time that does
not exist or occurs twice on a daylight-saving day resolves with `fold=0`), so every sum is of
real elapsed seconds and stays exact across DST changes. `ClockHours` counts all time, for
targets set in clock hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = timedelta(0)
# How far ahead `add` may look for open time before deciding the calendar is broken.
MAX_DAYS = 366 * 5


def parse_hhmm(text: str) -> time | None:
    """`"08:30"` → 08:30; `"24:00"` → None (meaning the end of the day)."""
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def require_aware(moment: datetime, name: str = "datetime") -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


class BusinessCalendar:
    def __init__(
        self,
        tz: ZoneInfo,
        weekly: dict[int, list[tuple[time, time | None]]],
        closed: set[date] | None = None,
        is_holiday: Callable[[date], bool] | None = None,
    ) -> None:
        self.tz = tz
        self.weekly = {
            day: sorted(intervals, key=lambda pair: pair[0]) for day, intervals in weekly.items()
        }
        self.closed = set(closed or ())
        self._is_holiday = is_holiday or (lambda _d: False)
        if not any(
            (end is None or end > start)
            for intervals in self.weekly.values()
            for start, end in intervals
        ):
            raise ValueError("the policy has no open time at all")
        self._day_cache = lru_cache(maxsize=4096)(self._compute_day)

    @classmethod
    def from_policy(cls, policy: dict[str, Any]) -> BusinessCalendar:
        """From the `/policy` document (timezone, business_hours, holidays)."""
        tz = ZoneInfo(policy["timezone"])
        weekly: dict[int, list[tuple[time, time | None]]] = {}
        for index, name in enumerate(WEEKDAYS):
            intervals = []
            for start, end in policy.get("business_hours", {}).get(name, []):
                start_time = parse_hhmm(start)
                if start_time is None:
                    continue
                intervals.append((start_time, parse_hhmm(end)))
            weekly[index] = intervals
        spec = policy.get("holidays") or {}
        closed = {date.fromisoformat(d) for d in spec.get("closed", [])}
        is_holiday: Callable[[date], bool] | None = None
        if spec.get("country"):
            calendar = holiday_calendars.country_holidays(
                spec["country"], subdiv=spec.get("subdivision") or None
            )

            def is_holiday(day: date) -> bool:
                return day in calendar

        return cls(tz, weekly, closed, is_holiday)

    # ---- the open intervals ------------------------------------------------------------------

    def is_closed_day(self, day: date) -> bool:
        return day in self.closed or self._is_holiday(day)

    def _compute_day(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if self.is_closed_day(day):
            return ()
        result = []
        for start, end in self.weekly.get(day.weekday(), []):
            begin = datetime.combine(day, start, self.tz).astimezone(UTC)
            if end is None:
                finish = datetime.combine(day + timedelta(days=1), time(0), self.tz).astimezone(UTC)
            else:
                finish = datetime.combine(day, end, self.tz).astimezone(UTC)
            if finish > begin:
                result.append((begin, finish))
        return tuple(result)

    def day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Open intervals of one local date, as UTC instants."""
        return self._day_cache(day)

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.tz).date() - timedelta(days=1)  # a wide interval may spill
        for offset in range(MAX_DAYS):
            for begin, finish in self.day_intervals(day + timedelta(days=offset)):
                if finish > moment:
                    yield max(begin, moment), finish

    # ---- the API -----------------------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        require_aware(moment)
        utc = moment.astimezone(UTC)
        local_day = utc.astimezone(self.tz).date()
        for day in (local_day - timedelta(days=1), local_day):
            for begin, finish in self.day_intervals(day):
                if begin <= utc < finish:
                    return True
        return False

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when `duration` of open time has passed since `start` (aware in, aware
        out, in the practice's time zone). A zero duration from a closed moment stays put."""
        require_aware(start, "start")
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        remaining = duration
        moment = start.astimezone(UTC)
        if remaining == ZERO:
            return moment.astimezone(self.tz)
        for begin, finish in self._intervals_from(moment):
            span = finish - begin
            if remaining <= span:
                return (begin + remaining).astimezone(self.tz)
            remaining -= span
        raise ValueError("no open time within five years: check the policy")

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Open time from `a` to `b` (negative when `b` is before `a`)."""
        require_aware(a, "a")
        require_aware(b, "b")
        if b < a:
            return -self.between(b, a)
        a_utc, b_utc = a.astimezone(UTC), b.astimezone(UTC)
        total = ZERO
        for begin, finish in self._intervals_from(a_utc):
            if begin >= b_utc:
                break
            total += min(finish, b_utc) - begin
        return total

    def next_open(self, moment: datetime) -> datetime:
        """The first open instant at or after `moment`."""
        require_aware(moment)
        for begin, _finish in self._intervals_from(moment.astimezone(UTC)):
            return begin.astimezone(self.tz)
        raise ValueError("no open time within five years: check the policy")


class ClockHours:
    """Clock-hour targets count all time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        require_aware(start, "start")
        return start + duration

    def between(self, a: datetime, b: datetime) -> timedelta:
        return b - a
