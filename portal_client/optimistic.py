"""What a staff action does to an item, applied locally before the server confirms it.

Pure functions over the contract's item dicts. The cache shows
`display = fold(apply_action, pending actions, last confirmed server item)`, so a conflict or a
rejection only has to drop the action and fold again, and a newer server item rebases the
pending actions on top of it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CLOSED = ("done", "cancelled")


@dataclass(frozen=True)
class PendingAction:
    outbox_id: int
    item_id: str
    action: dict[str, Any]
    created_at: str  # RFC 3339
    actor_id: str


def _entry(pending: PendingAction, type_: str, body: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"pending-{pending.outbox_id}-{type_}",
        "type": type_,
        "author": {"kind": "staff", "id": pending.actor_id},
        "body": body,
        "created_at": pending.created_at,
        "data": {**data, "pending": True},
    }


def apply_action(item: dict[str, Any], pending: PendingAction) -> dict[str, Any]:
    """The item as it will most likely be once the server applies this action."""
    result = copy.copy(item)
    result["entries"] = list(item.get("entries", []))
    result["details"] = dict(item.get("details") or {})
    action = pending.action
    kind = action.get("type")
    now = pending.created_at
    if result.get("status") in CLOSED and kind not in ("reopen", "note"):
        return result  # the server will refuse it; show nothing new
    if kind == "claim":
        result["assignee_id"] = pending.actor_id
        if result.get("status") == "new":
            result["status"] = "open"
    elif kind == "release":
        result["assignee_id"] = None
    elif kind == "assign":
        result["assignee_id"] = action.get("assignee_id")
    elif kind == "route":
        result["queue"] = action.get("queue", result.get("queue"))
        result["assignee_id"] = None
    elif kind == "set_priority":
        result["priority"] = action.get("priority", result.get("priority"))
    elif kind == "reply":
        result["entries"].append(_entry(pending, "staff_reply", str(action.get("body", "")), {}))
        result["first_response_at"] = result.get("first_response_at") or now
        then = action.get("then")
        if then == "done":
            result["status"], result["resolved_at"] = "done", now
        elif then == "waiting_patient":
            result["status"] = "waiting_patient"
        elif result.get("status") == "new":
            result["status"] = "open"
    elif kind == "note":
        result["entries"].append(_entry(pending, "internal_note", str(action.get("body", "")), {}))
    elif kind == "wait_patient":
        result["status"] = "waiting_patient"
    elif kind == "resolve":
        result["status"], result["resolved_at"] = "done", now
    elif kind == "reopen":
        result["status"], result["resolved_at"] = "open", None
    elif kind in ("refill_decision", "appointment_decision"):
        decision = {k: v for k, v in action.items() if k != "type"}
        result["details"]["decision"] = {
            **decision,
            "decided_by": pending.actor_id,
            "decided_at": now,
        }
        result["first_response_at"] = result.get("first_response_at") or now
        result["status"], result["resolved_at"] = "done", now
    result["entries"].append(_entry(pending, "event", "", {"action": kind}))
    return result


def fold(server_item: dict[str, Any], pending: Iterable[PendingAction]) -> dict[str, Any]:
    item = server_item
    for action in pending:
        item = apply_action(item, action)
    return item


def user_text(action: dict[str, Any]) -> str | None:
    """Text the user wrote for this action, kept when the action fails so it can be reused."""
    for key in ("body", "note", "resolution"):
        value = action.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None
