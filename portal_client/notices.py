"""Plain-words notices for actions the server refused: who did what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

ACTION_WORDS = {
    "claim": "claimed this item",
    "release": "released this item",
    "assign": "assigned this item",
    "route": "moved this item to another queue",
    "set_priority": "changed the priority",
    "reply": "replied",
    "note": "added a note",
    "wait_patient": "set this item to waiting on the patient",
    "resolve": "marked this item done",
    "reopen": "reopened this item",
    "patient_cancel": "cancelled the request",
}


def _time(value: str | None, tz: ZoneInfo | None) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if tz is not None:
        moment = moment.astimezone(tz)
    return f" at {moment:%H:%M}"


def _last_event(item: dict[str, Any], me: str) -> dict[str, Any] | None:
    for entry in reversed(item.get("entries") or []):
        if entry.get("type") == "event" and entry.get("author", {}).get("id") != me:
            return dict(entry)
    return None


def describe_conflict(
    current: dict[str, Any] | None,
    *,
    me: str,
    staff_names: dict[str, str],
    fallback: str,
    tz: ZoneInfo | None = None,
) -> tuple[str, str | None]:
    """A calm sentence naming who did what ("Dr Patel approved this refill at 10:42"),
    and that person's id."""
    if not current:
        return fallback, None
    details = current.get("details") or {}
    decision = details.get("decision")
    if (
        isinstance(decision, dict)
        and decision.get("decided_by")
        and decision.get("decided_by") != me
    ):
        who = staff_names.get(decision["decided_by"], "Someone")
        outcome = decision.get("outcome", "decided")
        what = "this refill" if current.get("kind") == "refill" else "this appointment"
        return f"{who} {outcome} {what}{_time(decision.get('decided_at'), tz)}.", decision[
            "decided_by"
        ]
    event = _last_event(current, me)
    if event is not None:
        author = event.get("author", {})
        if author.get("kind") == "patient":
            who = "The patient"
        else:
            who = staff_names.get(author.get("id", ""), "Someone")
        action = (event.get("data") or {}).get("action", "")
        words = ACTION_WORDS.get(action, (event.get("body") or "changed this item").lower())
        return f"{who} {words}{_time(event.get('created_at'), tz)}.", author.get("id")
    return fallback, None
