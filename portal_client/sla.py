"""Business time and response clocks (SLA), pure Python.

`BusinessCalendar` knows when the practice is open: weekly intervals in its IANA time zone,
public holidays of its country/subdivision (the `holidays` package) and extra closed dates.
Open intervals are wall-clock times turned into instants on each date (a wall time that does
not exist or occurs twice on a daylight-saving day resolves with `fold=0`), so every sum is of
real elapsed seconds and stays exact across DST changes.

`item_clocks` computes an item's first-response and resolution clocks from its history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = timedelta(0)
# How far ahead `add` may look for open time before deciding the calendar is broken.
MAX_DAYS = 366 * 5


def _parse_hhmm(text: str) -> time | None:
    """`"08:30"` → 08:30; `"24:00"` → None (meaning the end of the day)."""
    if text == "24:00":
        return None
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _require_aware(moment: datetime, name: str = "datetime") -> None:
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
                start_time = _parse_hhmm(start)
                if start_time is None:
                    continue
                intervals.append((start_time, _parse_hhmm(end)))
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
        _require_aware(moment)
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
        _require_aware(start, "start")
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
        _require_aware(a, "a")
        _require_aware(b, "b")
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
        _require_aware(moment)
        for begin, _finish in self._intervals_from(moment.astimezone(UTC)):
            return begin.astimezone(self.tz)
        raise ValueError("no open time within five years: check the policy")


class ClockHours:
    """Clock-hour targets count all time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        _require_aware(start, "start")
        return start + duration

    def between(self, a: datetime, b: datetime) -> timedelta:
        return b - a


# ---- per-item clocks -------------------------------------------------------------------------

ON_TRACK, AT_RISK, BREACHED, MET, MISSED = "on_track", "at_risk", "breached", "met", "missed"


@dataclass(frozen=True)
class Clock:
    name: str  # "first_response" or "resolution"
    state: str  # on_track, at_risk, breached, met, missed; "paused" while waiting on patient
    target: timedelta
    business: bool
    used: timedelta  # counted time so far (or until it stopped)
    due_at: datetime | None  # when it breaches if nothing happens (None while paused/stopped)
    stopped_at: datetime | None
    paused: bool = False

    @property
    def left(self) -> timedelta:
        return self.target - self.used


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class _Mark:
    at: datetime
    kind: str  # "response", "pause", "resume", "done", "reopen"


def history(item: dict[str, Any]) -> list[_Mark]:
    """What happened to the clocks, from the item's entries (so every desktop agrees)."""
    marks: list[_Mark] = []
    waiting = False
    for entry in item.get("entries", []):
        at = _parse(entry.get("created_at"))
        if at is None:
            continue
        kind = entry.get("type")
        data = entry.get("data") or {}
        if kind == "staff_reply":
            marks.append(_Mark(at, "response"))
        elif kind == "patient_message" and waiting:
            marks.append(_Mark(at, "resume"))
            waiting = False
        elif kind == "event":
            action = data.get("action")
            if action in ("refill_decision", "appointment_decision"):
                marks.append(_Mark(at, "response"))
                marks.append(_Mark(at, "done"))
                waiting = False
            elif (
                action == "reply" and data.get("then") == "waiting_patient"
            ) or action == "wait_patient":
                marks.append(_Mark(at, "pause"))
                waiting = True
            elif (action == "reply" and data.get("then") == "done") or action in (
                "resolve",
                "patient_cancel",
            ):
                marks.append(_Mark(at, "done"))
                waiting = False
            elif action == "reopen":
                marks.append(_Mark(at, "reopen"))
                waiting = False
    return marks


def clock_start(
    item: dict[str, Any], policy: dict[str, Any], calendar: BusinessCalendar
) -> datetime:
    """When the clocks start: arrival, or the next open time for a request after the kind's
    same-day cut-off (a refill after 15:00 counts from the next business morning)."""
    created = _parse(item["created_at"])
    assert created is not None
    cutoff = (policy.get("cutoffs") or {}).get(item["kind"])
    if not cutoff:
        return created
    local = created.astimezone(calendar.tz)
    limit = _parse_hhmm(cutoff["after"])
    if limit is not None and local.time() >= limit:
        next_day = datetime.combine(local.date() + timedelta(days=1), time(0), calendar.tz)
        return calendar.next_open(next_day)
    return created


def item_clocks(
    item: dict[str, Any], policy: dict[str, Any], calendar: BusinessCalendar, now: datetime
) -> list[Clock]:
    """The item's clocks at `now`, from its policy targets and its history."""
    return _clocks(item, policy, calendar, now, clock_start(item, policy, calendar), history(item))


def _clocks(
    item: dict[str, Any],
    policy: dict[str, Any],
    calendar: BusinessCalendar,
    now: datetime,
    start: datetime,
    marks: list[_Mark],
) -> list[Clock]:
    targets = ((policy.get("sla") or {}).get(item["kind"]) or {}).get(item["priority"]) or {}
    ratio = float(policy.get("at_risk_ratio", 0.75))
    clocks = []
    for name in ("first_response", "resolution"):
        target = targets.get(name)
        if not target:
            continue
        counter: BusinessCalendar | ClockHours = (
            calendar if target.get("business") else ClockHours()
        )
        clocks.append(
            _one_clock(
                name,
                timedelta(hours=float(target["hours"])),
                bool(target.get("business")),
                counter,
                start,
                marks,
                now,
                ratio,
            )
        )
    return clocks


def _one_clock(
    name: str,
    target: timedelta,
    business: bool,
    counter: BusinessCalendar | ClockHours,
    start: datetime,
    marks: list[_Mark],
    now: datetime,
    ratio: float,
) -> Clock:
    stop_kind = "response" if name == "first_response" else "done"
    used = ZERO
    running_since: datetime | None = start
    stopped_at: datetime | None = None
    for mark in marks:
        if mark.at > now:
            break  # the clock as it stood at `now`
        if mark.at < start:
            mark = _Mark(start, mark.kind)
        if mark.kind == stop_kind and stopped_at is None:
            if running_since is not None:
                used += max(ZERO, counter.between(running_since, mark.at))
            running_since, stopped_at = None, mark.at
        elif mark.kind == "pause" and running_since is not None and stopped_at is None:
            used += max(ZERO, counter.between(running_since, mark.at))
            running_since = None
        elif mark.kind == "resume" and running_since is None and stopped_at is None:
            running_since = mark.at
        elif (
            mark.kind == "reopen"
            and name == "resolution"
            and (stopped_at is not None or running_since is None)
        ):
            stopped_at, running_since = None, mark.at
    if stopped_at is not None:
        return Clock(
            name, MET if used <= target else MISSED, target, business, used, None, stopped_at
        )
    if running_since is None:  # paused, waiting on the patient
        state = BREACHED if used > target else (AT_RISK if used >= target * ratio else ON_TRACK)
        return Clock(name, state, target, business, used, None, None, paused=True)
    current = used + max(ZERO, counter.between(running_since, now)) if now > running_since else used
    due = counter.add(running_since, max(ZERO, target - used)) if target > used else None
    if current > target or (due is not None and due <= now):
        state = BREACHED
    elif current >= target * ratio:
        state = AT_RISK
    else:
        state = ON_TRACK
    return Clock(name, state, target, business, current, due, None)


@dataclass(frozen=True)
class InboxClock:
    """What the inbox stores per item: the running clock's due and at-risk moments (so the
    view only compares with now), or the state of a paused or stopped clock."""

    due_at: datetime | None
    risk_at: datetime | None
    name: str | None
    business: bool
    settled: str | None  # "paused", "met", "missed" or None while a clock runs


def inbox_clock(
    item: dict[str, Any], policy: dict[str, Any], calendar: BusinessCalendar
) -> InboxClock:
    """The clock that matters most: a running first-response clock, else a running resolution
    clock; otherwise how the clocks ended. Computed as of the item's last event: from then on
    nothing changes until the next event, which recomputes it. (Hot: runs for every synced
    item, so it stops at the first running clock.)"""
    targets = ((policy.get("sla") or {}).get(item["kind"]) or {}).get(item["priority"]) or {}
    if not any(targets.get(name) for name in ("first_response", "resolution")):
        return InboxClock(None, None, None, False, None)
    start = clock_start(item, policy, calendar)
    marks = history(item)
    since = max([start, *(m.at for m in marks)])
    ratio = float(policy.get("at_risk_ratio", 0.75))
    settled: list[Clock] = []
    for name in ("first_response", "resolution"):
        target = targets.get(name)
        if not target:
            continue
        business = bool(target.get("business"))
        counter: BusinessCalendar | ClockHours = calendar if business else ClockHours()
        clock = _one_clock(
            name,
            timedelta(hours=float(target["hours"])),
            business,
            counter,
            start,
            marks,
            since,
            ratio,
        )
        if clock.paused or clock.stopped_at is not None:
            settled.append(clock)
            continue
        due = clock.due_at if clock.due_at is not None else since
        risk_used = clock.target * ratio
        risk = counter.add(since, risk_used - clock.used) if clock.used < risk_used else since
        return InboxClock(due, risk, name, business, None)
    if any(c.state == MISSED for c in settled):
        return InboxClock(None, None, None, False, "missed")
    if any(c.paused for c in settled):
        return InboxClock(None, None, None, False, "paused")
    return InboxClock(None, None, None, False, "met")


def describe_left(
    due_at: str | None,
    risk_at: str | None,
    clock: str | None,
    business: bool,
    now: datetime,
    calendar: BusinessCalendar | None,
) -> tuple[str, str]:
    """Words for the inbox clock column, and its state (on_track, at_risk, breached, paused,
    met, missed, none). The words carry the meaning; colour only repeats it."""
    if due_at is None:
        words = {
            "paused": "Paused (waiting on patient)",
            "met": "Met",
            "missed": "Missed",
            "closed": "—",
        }
        return words.get(clock or "", "—"), (
            clock if clock in ("paused", "met", "missed") else "none"
        )
    due = datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    if due <= now:
        local = due.astimezone(calendar.tz) if calendar is not None else due
        when = f"{local:%a %H:%M}" if now - due < timedelta(days=6) else f"{local:%d %b %H:%M}"
        return f"Overdue since {when}", BREACHED
    left = calendar.between(now, due) if business and calendar is not None else due - now
    risk = datetime.fromisoformat(risk_at.replace("Z", "+00:00")) if risk_at else None
    # Business time in hours (a "day" of business time would be ambiguous); clock time in days.
    span = f"{_span(left, days=False)} business" if business else _span(left)
    if risk is not None and risk <= now:
        return f"{span} left – at risk", AT_RISK
    return f"{span} left", ON_TRACK


def _span(delta: timedelta, *, days: bool = True) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24 or not days:
        return f"{hours} h {rest:02d} min" if rest else f"{hours} h"
    whole_days, hours = divmod(hours, 24)
    return f"{whole_days} d {hours} h" if hours else f"{whole_days} d"
