"""Response clocks (SLA) of an item, computed from its history so every desktop and the
service agree.

`item_clocks` gives an item's first-response and resolution clocks at a moment; `inbox_clock`
the one that matters now, as due and at-risk moments that the inbox only compares with now;
`describe_left` the words staff read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from .calendar import ZERO, BusinessCalendar, ClockHours, parse_hhmm
from .times import parse_time

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


@dataclass(frozen=True)
class _Mark:
    at: datetime
    kind: str  # "response", "pause", "resume", "done", "reopen"


def _moment(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else parse_time(value)


def history(item: Mapping[str, Any]) -> list[_Mark]:
    """What happened to the clocks, from the item's entries (so every desktop agrees), or for
    a header (which has no entries) from the marks the service sent with it."""
    if item.get("restricted") and isinstance(item.get("clock_marks"), list):
        sent = [(_moment(m.get("at")), m.get("kind")) for m in item["clock_marks"]]
        return [_Mark(at, str(kind)) for at, kind in sent if at is not None]
    marks: list[_Mark] = []
    waiting = False
    for entry in item.get("entries", []):
        at = _moment(entry.get("created_at"))
        if at is None:
            continue
        kind = entry.get("type")
        data = entry.get("data") or {}
        if kind == "staff_reply" and (entry.get("author") or {}).get("kind") != "system":
            # A person's answer; the automatic safety reply is not one.
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
    same-day cut-off (a refill after 15:00 counts from the next business morning). Urgent
    work has no cut-off: it does not wait for the morning."""
    created = parse_time(item["created_at"])
    assert created is not None
    cutoff = (policy.get("cutoffs") or {}).get(item["kind"])
    if not cutoff or item.get("priority") == "urgent":
        return created
    local = created.astimezone(calendar.tz)
    limit = parse_hhmm(cutoff["after"])
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
