"""Turning what an administrator typed into a policy document, with plain error messages.
The server validates again (and has the last word); this catches typing mistakes early."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

from triage_core.calendar import WEEKDAYS
from triage_core.safety import DEFAULT_GUIDANCE, DEFAULT_REPLIES, GROUP_ORDER
from triage_core.sessions import (
    IDLE_LOCK_MAX_MINUTES,
    IDLE_LOCK_MINUTES,
    SESSION_IDLE_HOURS,
    SESSION_IDLE_MAX_HOURS,
)
from triage_core.vocabulary import Kind, Priority

KINDS = (Kind.MESSAGE.value, Kind.REFILL.value, Kind.APPOINTMENT.value)  # the editor's order
PRIORITIES = Priority.values()
CLOCKS = ("first_response", "resolution")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$|^24:00$")


def parse_hours(text: str, day: str) -> tuple[list[list[str]], list[str]]:
    """`"08:00-12:00, 13:00-17:00"` → [["08:00", "12:00"], ["13:00", "17:00"]]; empty = closed."""
    intervals: list[list[str]] = []
    errors: list[str] = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        pieces = [p.strip() for p in re.split(r"\s*[-–]\s*", part)]
        if len(pieces) != 2 or not all(_TIME.match(p) for p in pieces):
            errors.append(f"{day}: '{part}' is not like 08:00-12:00")
            continue
        start, end = (p if len(p) == 5 else "0" + p for p in pieces)
        if end != "24:00" and end <= start:
            errors.append(f"{day}: {start}-{end} ends before it starts")
            continue
        intervals.append([start, end])
    intervals.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(intervals):
        if s2 < e1:
            errors.append(f"{day}: intervals overlap")
    return intervals, errors


def parse_dates(text: str) -> tuple[list[str], list[str]]:
    dates, errors = [], []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        try:
            dates.append(date.fromisoformat(part).isoformat())
        except ValueError:
            errors.append(f"closed dates: '{part}' is not a date like 2026-12-24")
    return sorted(set(dates)), errors


def parse_target(hours: str, business: bool, where: str) -> tuple[dict[str, Any] | None, list[str]]:
    text = hours.strip()
    if not text:
        return None, []  # no target for this clock
    try:
        value = float(text)
    except ValueError:
        return None, [f"{where}: '{text}' is not a number of hours"]
    if not 0 < value <= 24 * 365:
        return None, [f"{where}: use a number of hours above 0"]
    return {"hours": value, "business": business}, []


REPLY_LIMIT = 2000
REPLY_GROUP_WORDS = {
    "emergency": "Emergencies (911: heart, stroke, breathing, bleeding …)",
    "suicide": "Suicidal thoughts or self-harm (988)",
    "poison": "Overdose, poisoning and ingestions (Poison Control)",
}


def current_replies(policy: dict[str, Any]) -> dict[str, str]:
    """The reply text of each group as patients get it now (the built-in one if unset)."""
    replies = policy.get("safety_replies") or {}
    return {group: str(replies.get(group) or DEFAULT_REPLIES[group]) for group in GROUP_ORDER}


def parse_safety(form: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Safety replies, emergency guidance, escalation minutes and the on-call schedule."""
    errors: list[str] = []
    replies = dict(current.get("safety_replies") or {})  # category texts the editor keeps
    for group, text in form.get("replies", {}).items():
        text = text.strip()
        if not text:
            errors.append(f"safety reply ({group}): write the text patients should get")
        elif len(text) > REPLY_LIMIT:
            errors.append(f"safety reply ({group}): keep it under {REPLY_LIMIT} characters")
        replies[group] = text
    guidance = form.get("guidance", "").strip() or DEFAULT_GUIDANCE
    if len(guidance) > REPLY_LIMIT:
        errors.append(f"emergency guidance: keep it under {REPLY_LIMIT} characters")
    minutes = int(form.get("unclaimed_minutes", 15))
    if not 1 <= minutes <= 24 * 60:
        errors.append("escalation: use between 1 and 1440 minutes")
    rota = []
    for number, (starts, ends, staff_id) in enumerate(form.get("rota", []), 1):
        if not staff_id:
            errors.append(f"on-call shift {number}: choose a clinician")
        elif ends < starts:
            errors.append(f"on-call shift {number}: ends before it starts")
        rota.append({"starts": starts, "ends": ends, "staff_id": staff_id})
    return {
        "safety_replies": replies,
        "emergency_guidance": guidance,
        "escalation": {"unclaimed_minutes": minutes},
        "on_call": {"default": form.get("on_call_default") or None, "rota": rota},
    }, errors


def parse_sessions(form: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The unattended PC: the desktop's idle lock (minutes) and the server's idle limit of a
    login (hours). Whole numbers, within what the service accepts."""
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key, default, top, words in (
        (
            "idle_lock_minutes",
            IDLE_LOCK_MINUTES,
            IDLE_LOCK_MAX_MINUTES,
            "idle lock: use between 1 and {} minutes",
        ),
        (
            "session_idle_hours",
            SESSION_IDLE_HOURS,
            SESSION_IDLE_MAX_HOURS,
            "unused sessions end: use between 1 and {} hours",
        ),
    ):
        try:
            value = int(form.get(key, default))
        except (TypeError, ValueError):
            value = 0
        if not 1 <= value <= top:
            errors.append(words.format(top))
            value = default
        values[key] = value
    return values, errors


def build_policy(form: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`form` holds the editor's texts; what the editor does not show (templates) is kept."""
    errors: list[str] = []
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        hours[day], problems = parse_hours(form["hours"].get(day, ""), day)
        errors += problems
    if not any(hours.values()) and not errors:
        errors.append("business hours: the practice is never open")
    closed, problems = parse_dates(form.get("closed", ""))
    errors += problems
    sla: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in KINDS:
        for priority in PRIORITIES:
            for clock in CLOCKS:
                text, business = form["targets"][(kind, priority, clock)]
                target, problems = parse_target(
                    text, business, f"{kind} {priority} {clock.replace('_', ' ')}"
                )
                errors += problems
                sla.setdefault(kind, {}).setdefault(priority, {})[clock] = target
    cutoffs = {}
    for kind in KINDS:
        value = form.get("cutoffs", {}).get(kind, "").strip()
        if value:
            if not _TIME.match(value):
                errors.append(f"cut-off for {kind}: '{value}' is not a time like 15:00")
            else:
                cutoffs[kind] = {"after": value if len(value) == 5 else "0" + value}
    try:
        ratio = float(form.get("at_risk_ratio", 0.75))
        if not 0 < ratio < 1:
            raise ValueError
    except ValueError:
        errors.append("at-risk ratio: use a number between 0 and 1, like 0.75")
        ratio = 0.75
    policy = {
        **current,
        "name": form.get("name", current.get("name", "")).strip(),
        "timezone": form.get("timezone", current.get("timezone", "")).strip(),
        "business_hours": hours,
        "holidays": {
            "country": form.get("country", "").strip() or None,
            "subdivision": form.get("subdivision", "").strip() or None,
            "closed": closed,
        },
        "sla": sla,
        "at_risk_ratio": ratio,
        "cutoffs": cutoffs,
    }
    if "safety" in form:
        safety, problems = parse_safety(form["safety"], current)
        policy.update(safety)
        errors += problems
    if "sessions" in form:
        sessions, problems = parse_sessions(form["sessions"])
        policy.update(sessions)
        errors += problems
    if not policy["name"]:
        errors.append("the practice needs a name")
    return policy, errors
