"""What an action does to an item: one function for the service and the desktop.

`transition(item, action, actor, now)` returns the changes to the item's fields, the entry the
action writes (a reply or a note, if any) and the event line for its history. The service sets
them on its database row; the desktop folds pending actions over the last server state with
`apply_to_item`, which gives the item as the contract shows it. Call `permissions.allowed`
first: `transition` assumes the action is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from .actions import (
    Action,
    AppointmentDecision,
    Assign,
    Claim,
    Note,
    RefillDecision,
    Release,
    Reopen,
    Reply,
    ReplyThen,
    Resolve,
    Route,
    SetPriority,
    WaitPatient,
)
from .permissions import Actor
from .times import rfc3339
from .vocabulary import AuthorKind, EntryType, Queue, Status

# Fields of the contract's Item that an action may change.
MUTABLE_FIELDS = (
    "status",
    "priority",
    "queue",
    "assignee_id",
    "first_response_at",
    "resolved_at",
    "details",
)
# Keys of an event's data that may hold staff-written text (kept out of the audit log).
FREE_TEXT_KEYS = frozenset({"note", "resolution", "body"})


@dataclass(frozen=True)
class NewEntry:
    type: EntryType
    body: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    changes: Mapping[str, Any]  # times as aware datetimes
    entry: NewEntry | None  # the reply or note the action writes
    event: NewEntry  # the history line; the written entry's id joins its data as `entry_id`


def _first_response(item: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {} if item.get("first_response_at") else {"first_response_at": now}


def _close(now: datetime) -> dict[str, Any]:
    return {"status": Status.DONE, "resolved_at": now}


def _decided(
    item: Mapping[str, Any], actor: Actor, now: datetime, **decision: Any
) -> dict[str, Any]:
    """A refill or appointment decision: recorded in the details, a first response, done."""
    decision |= {"decided_by": actor.id, "decided_at": rfc3339(now)}
    return {
        "details": {**(item.get("details") or {}), "decision": decision},
        **_first_response(item, now),
        **_close(now),
    }


def _event(action: Action, body: str, **data: Any) -> NewEntry:
    return NewEntry(EntryType.EVENT, body, {"action": action.TYPE, **data})


def transition(item: Mapping[str, Any], action: Action, actor: Actor, now: datetime) -> Transition:
    """The effect of an allowed action (see the module docstring)."""
    status = item.get("status")
    opened: dict[str, Any] = {"status": Status.OPEN} if status == Status.NEW else {}
    changes: dict[str, Any]
    match action:
        case Claim():
            changes = {"assignee_id": actor.id, **opened}
            event = _event(
                action,
                "Claimed",
                assignee_id=actor.id,
                previous_assignee_id=item.get("assignee_id"),
            )
            return Transition(changes, None, event)
        case Release():
            event = _event(action, "Released", previous_assignee_id=item.get("assignee_id"))
            return Transition({"assignee_id": None}, None, event)
        case Assign():
            event = _event(action, "Assigned", assignee_id=action.assignee_id)
            return Transition({"assignee_id": action.assignee_id}, None, event)
        case Route():
            data: dict[str, Any] = {"from": item.get("queue"), "to": action.queue.value}
            if action.note:
                data["note"] = action.note
            body = f"Routed to {Queue.describe(action.queue).lower()}"
            return Transition(
                {"queue": action.queue, "assignee_id": None}, None, _event(action, body, **data)
            )
        case SetPriority():
            body = f"Priority set to {action.priority.value}"
            data = {"from": item.get("priority"), "to": action.priority}
            if action.reason:
                data["reason"] = action.reason
            event = _event(action, body, **data)
            return Transition({"priority": action.priority}, None, event)
        case Reply():
            changes = _first_response(item, now)
            if action.then == ReplyThen.DONE:
                changes.update(_close(now))
            elif action.then == ReplyThen.WAITING_PATIENT:
                changes["status"] = Status.WAITING_PATIENT
            else:
                changes.update(opened)
            then = action.then.value if action.then else None
            reply = NewEntry(EntryType.STAFF_REPLY, action.body)
            return Transition(changes, reply, _event(action, "Replied", then=then))
        case Note():
            note = NewEntry(EntryType.INTERNAL_NOTE, action.body)
            return Transition({}, note, _event(action, "Added a note"))
        case WaitPatient():
            return Transition(
                {"status": Status.WAITING_PATIENT}, None, _event(action, "Waiting on patient")
            )
        case Resolve():
            extra = {"resolution": action.resolution} if action.resolution else {}
            return Transition(_close(now), None, _event(action, "Marked done", **extra))
        case Reopen():
            changes = {"status": Status.OPEN, "resolved_at": None}
            return Transition(changes, None, _event(action, "Reopened", **{"from": status}))
        case RefillDecision():
            changes = _decided(
                item,
                actor,
                now,
                outcome=action.outcome.value,
                quantity=action.quantity,
                refills=action.refills,
                note=action.note,
            )
            event = _event(
                action,
                f"Refill {action.outcome.value}",
                outcome=action.outcome.value,
                quantity=action.quantity,
                refills=action.refills,
            )
            return Transition(changes, None, event)
        case AppointmentDecision():
            starts_at = rfc3339(action.starts_at) if action.starts_at else None
            changes = _decided(
                item,
                actor,
                now,
                outcome=action.outcome.value,
                starts_at=starts_at,
                note=action.note,
            )
            event = _event(
                action,
                f"Appointment {action.outcome.value}",
                outcome=action.outcome.value,
                starts_at=starts_at,
            )
            return Transition(changes, None, event)
    raise TypeError(f"not an action: {action!r}")  # pragma: no cover - the union is closed


def wire_value(value: Any) -> Any:
    """A field value as the contract writes it (times as RFC 3339, enums as strings)."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: wire_value(v) for k, v in value.items()}
    return value


def plain_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's data as JSON-ready values."""
    return {key: wire_value(value) for key, value in data.items()}


def apply_to_item(
    item: Mapping[str, Any],
    change: Transition,
    *,
    author_id: str,
    at: str,
    entry_ids: tuple[str, str],
    extra_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract's Item after a transition: fields changed, the written entry and the event
    appended (`entry_ids` name them; `extra_data` joins both entries' data, e.g. a pending
    mark). Leaves `item` untouched."""
    result = dict(item)
    for name, value in change.changes.items():
        result[name] = wire_value(value)
    entries = list(item.get("entries") or [])
    extra = dict(extra_data or {})
    event_data = plain_data(change.event.data)
    if change.entry is not None:
        entries.append(
            _entry_dict(entry_ids[0], change.entry.type, change.entry.body, author_id, at, extra)
        )
        event_data["entry_id"] = entry_ids[0]
    entries.append(
        _entry_dict(
            entry_ids[1], EntryType.EVENT, change.event.body, author_id, at, event_data | extra
        )
    )
    result["entries"] = entries
    return result


def _entry_dict(
    entry_id: str, type_: EntryType, body: str, author_id: str, at: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "type": type_.value,
        "author": {"kind": AuthorKind.STAFF.value, "id": author_id},
        "body": body,
        "created_at": at,
        "data": data,
    }
