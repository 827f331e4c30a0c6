"""What a patient is told at once: the safety reply to a red flag, when the practice expects to
reply, and the part of the policy the public may see.

The texts are the policy's (an administrator edits them in the app); the defaults below are
used where a practice has not written its own. Nothing here says anything about the patient's
own words: the reply is chosen by the red flags' categories only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .calendar import WEEKDAYS, BusinessCalendar, ClockHours
from .clocks import clock_start
from .vocabulary import Kind, Priority, RedFlagCategory

POISON_CONTROL = "1-800-222-1222"
# Which reply each category gets; the policy may also give a category its own text.
REPLY_GROUPS = {"suicide": "suicide", "overdose_poisoning": "poison"}
GROUP_ORDER = ("suicide", "poison", "emergency")
DEFAULT_REPLIES = {
    "emergency": (
        "We read your message and it may describe an emergency. If you have chest pain, "
        "trouble breathing, signs of a stroke (a drooping face, a weak arm or leg, trouble "
        "speaking), heavy bleeding or another emergency, call 911 now or go to the nearest "
        "emergency room. Please do not wait for a reply to this message. Our care team has "
        "been alerted and will contact you as soon as possible."
    ),
    "suicide": (
        "Thank you for telling us. If you are thinking about suicide or about hurting "
        "yourself, please call or text 988 (the Suicide & Crisis Lifeline) now, any time of "
        "day or night, or call 911 if you are in immediate danger. You do not have to wait "
        "for us. Our care team has been alerted and will reach out to you."
    ),
    "poison": (
        "If someone may have swallowed, breathed in or touched something harmful, or taken "
        f"too much of a medicine, call Poison Control now at {POISON_CONTROL} (open 24 hours). "
        "If the person is unconscious, having a seizure or having trouble breathing, call "
        "911. Please do not wait for a reply to this message. Our care team has been alerted."
    ),
}
# What a policy's `safety_replies` may name: a reply group, or one category for its own text.
REPLY_KEYS = frozenset(GROUP_ORDER) | frozenset(RedFlagCategory.values())
DEFAULT_GUIDANCE = (
    "Messages are not for emergencies. If you think you have a medical emergency, call 911 "
    "or go to the nearest emergency room. If you are thinking about suicide, call or text "
    f"988. For a poisoning, call Poison Control at {POISON_CONTROL}."
)
DEFAULT_UNCLAIMED_MINUTES = 15


def reply_group(category: str) -> str:
    return REPLY_GROUPS.get(category, "emergency")


def safety_reply(policy: Mapping[str, Any], categories: Iterable[str]) -> str | None:
    """The automatic reply to red flags of these categories (None when there are none). A
    category with its own text in the policy gets it; otherwise its group's. Several groups
    give several paragraphs, the most specific first."""
    replies = {**DEFAULT_REPLIES, **(policy.get("safety_replies") or {})}
    texts: list[str] = []
    chosen = list(dict.fromkeys(categories))
    for group in GROUP_ORDER:
        for category in chosen:
            if reply_group(category) != group:
                continue
            text = replies.get(category) or replies[group]
            if text not in texts:
                texts.append(text)
    return "\n\n".join(texts) if texts else None


def emergency_guidance(policy: Mapping[str, Any]) -> str:
    return str(policy.get("emergency_guidance") or DEFAULT_GUIDANCE)


def unclaimed_minutes(policy: Mapping[str, Any]) -> float:
    escalation = policy.get("escalation") or {}
    return float(escalation.get("unclaimed_minutes", DEFAULT_UNCLAIMED_MINUTES))


def on_call_candidates(policy: Mapping[str, Any], day: str) -> list[str]:
    """Who is on call on a practice date (YYYY-MM-DD), in order: the rota's shifts that
    cover it, then the default (the first of them who can still take it is paged)."""
    schedule = policy.get("on_call") or {}
    names = [
        str(entry["staff_id"])
        for entry in schedule.get("rota") or []
        if str(entry.get("starts", "")) <= day <= str(entry.get("ends", ""))
    ]
    if schedule.get("default"):
        names.append(str(schedule["default"]))
    return list(dict.fromkeys(names))


def on_call(policy: Mapping[str, Any], day: str) -> str | None:
    """The on-call clinician's staff id on a practice date: a rota shift that covers it, else
    the default (None when nobody is named)."""
    candidates = on_call_candidates(policy, day)
    return candidates[0] if candidates else None


# ---- the response promise ----------------------------------------------------------------


def expected_reply_by(
    policy: Mapping[str, Any],
    calendar: BusinessCalendar,
    kind: str,
    priority: str,
    at: datetime,
) -> datetime | None:
    """When the practice expects to answer a request of this kind and priority sent at `at`:
    its first-response target, or where it has none (a refill is answered by being done) its
    resolution target, counted in business or clock hours (None without either)."""
    targets = ((policy.get("sla") or {}).get(kind) or {}).get(priority) or {}
    target = targets.get("first_response") or targets.get("resolution")
    if not target:
        return None
    start = clock_start(
        {"kind": kind, "priority": priority, "created_at": at.isoformat()}, dict(policy), calendar
    )
    counter: BusinessCalendar | ClockHours = calendar if target.get("business") else ClockHours()
    return counter.add(start, timedelta(hours=float(target["hours"]))).astimezone(calendar.tz)


def promise_words(moment: datetime, timezone: str) -> str:
    """`by Tuesday 1 December, 5 pm` in the practice's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    hour = local.strftime("%I").lstrip("0")
    minutes = "" if local.minute == 0 else local.strftime(":%M")
    suffix = "am" if local.hour < 12 else "pm"
    return f"by {local:%A} {local.day} {local:%B}, {hour}{minutes} {suffix}"


def _target_words(target: Mapping[str, Any] | None) -> str | None:
    if not target:
        return None
    hours = float(target["hours"])
    business = bool(target.get("business"))
    if business and hours % 8 == 0 and hours >= 8:
        days = int(hours // 8)
        return f"within {days} business day{'s' if days != 1 else ''}"
    whole = int(hours) if hours == int(hours) else hours
    kind = "business hour" if business else "hour"
    return f"within {whole} {kind}{'s' if whole != 1 else ''}"


def public_practice(policy: Mapping[str, Any]) -> dict[str, Any]:
    """What any patient may know of the practice: name, hours, how soon it answers, and what
    to do in an emergency (never staff, templates or escalation settings)."""
    targets = []
    for kind in Kind:
        for priority in Priority:
            clock = ((policy.get("sla") or {}).get(kind.value) or {}).get(priority.value) or {}
            words = _target_words(clock.get("first_response") or clock.get("resolution"))
            if words:
                targets.append(
                    {"kind": kind.value, "priority": priority.value, "first_reply": words}
                )
    hours = policy.get("business_hours") or {}
    return {
        "name": policy.get("name", ""),
        "timezone": policy.get("timezone", ""),
        "business_hours": {day: hours.get(day, []) for day in WEEKDAYS},
        "closed_dates": list((policy.get("holidays") or {}).get("closed") or []),
        "response_targets": targets,
        "emergency_guidance": emergency_guidance(policy),
    }
