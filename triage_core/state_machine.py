"""What an action does to an item: one function for the service and the desktop.

`transition(item, action, actor, now)` returns the changes to the item's fields, the entries the
action writes (a reply, a note, or for a decision both: the message to the patient and the
internal note) and the event line for its history. The service sets
them on its database row; the desktop folds pending actions over the last server state with
`apply_to_item`, which gives the item as the contract shows it. Call `permissions.allowed`
first: `transition` assumes the action is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from .vocabulary import AuthorKind, DenialReason, EntryType, Queue, RefillOutcome, Status

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
FREE_TEXT_KEYS = frozenset({"note", "resolution", "body", "message_to_patient"})


@dataclass(frozen=True)
class NewEntry:
    type: EntryType
    body: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    changes: Mapping[str, Any]  # times as aware datetimes
    entries: tuple[NewEntry, ...]  # the reply and/or note the action writes, in order
    event: NewEntry  # the history line; the written entries' ids join its data (`entry_id`,
    # and `entry_ids` when there are several)


def _first_response(item: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {} if item.get("first_response_at") else {"first_response_at": now}


def _close(now: datetime) -> dict[str, Any]:
    return {"status": Status.DONE, "resolved_at": now}


def _decided(
    item: Mapping[str, Any], actor: Actor, now: datetime, **decision: Any
) -> dict[str, Any]:
    """A refill or appointment decision: recorded in the details, a first response, done.
    The details hold the choices, never text: the words go in entries (`_decision_entries`)."""
    decision |= {"decided_by": actor.id, "decided_at": rfc3339(now)}
    return {
        "details": {**(item.get("details") or {}), "decision": decision},
        **_first_response(item, now),
        **_close(now),
    }


def _refill_terms(item: Mapping[str, Any], action: RefillDecision) -> dict[str, Any]:
    """What a refill decision grants: what the clinician set, else the active prescription's
    terms (`details.prescription`, found when the request arrived); a denial grants nothing
    and always has a reason (`other` from a client that sends none)."""
    if action.outcome == RefillOutcome.DENIED:
        reason = action.reason or DenialReason.OTHER
        return {
            "quantity": None,
            "refills": None,
            "days_supply": None,
            "sig": None,
            "reason": reason.value,
        }
    prescription = (item.get("details") or {}).get("prescription") or {}

    def chosen(value: Any, key: str) -> Any:
        return value if value is not None else prescription.get(key)

    return {
        "quantity": chosen(action.quantity, "quantity"),
        "refills": chosen(action.refills, "refills"),
        "days_supply": chosen(action.days_supply, "days_supply"),
        "sig": chosen(action.sig, "sig"),
        "reason": action.reason.value if action.reason else None,
    }


def _decision_entries(action: RefillDecision | AppointmentDecision) -> tuple[NewEntry, ...]:
    """What goes along with a decision: the message to the patient (a reply they see) and
    the internal note (staff only), each only when it has words."""
    written: list[NewEntry] = []
    if action.message_to_patient and action.message_to_patient.strip():
        written.append(NewEntry(EntryType.STAFF_REPLY, action.message_to_patient))
    if action.note and action.note.strip():
        written.append(NewEntry(EntryType.INTERNAL_NOTE, action.note))
    return tuple(written)


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
            return Transition(changes, (), event)
        case Release():
            event = _event(action, "Released", previous_assignee_id=item.get("assignee_id"))
            return Transition({"assignee_id": None}, (), event)
        case Assign():
            event = _event(action, "Assigned", assignee_id=action.assignee_id)
            return Transition({"assignee_id": action.assignee_id}, (), event)
        case Route():
            data: dict[str, Any] = {"from": item.get("queue"), "to": action.queue.value}
            if action.note:
                data["note"] = action.note
            body = f"Routed to {Queue.describe(action.queue).lower()}"
            return Transition(
                {"queue": action.queue, "assignee_id": None}, (), _event(action, body, **data)
            )
        case SetPriority():
            body = f"Priority set to {action.priority.value}"
            data = {"from": item.get("priority"), "to": action.priority}
            if action.reason:
                data["reason"] = action.reason
            event = _event(action, body, **data)
            return Transition({"priority": action.priority}, (), event)
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
            return Transition(changes, (reply,), _event(action, "Replied", then=then))
        case Note():
            note = NewEntry(EntryType.INTERNAL_NOTE, action.body)
            return Transition({}, (note,), _event(action, "Added a note"))
        case WaitPatient():
            return Transition(
                {"status": Status.WAITING_PATIENT}, (), _event(action, "Waiting on patient")
            )
        case Resolve():
            extra = {"resolution": action.resolution} if action.resolution else {}
            return Transition(_close(now), (), _event(action, "Marked done", **extra))
        case Reopen():
            changes = {"status": Status.OPEN, "resolved_at": None}
            return Transition(changes, (), _event(action, "Reopened", **{"from": status}))
        case RefillDecision():
            terms = _refill_terms(item, action)
            changes = _decided(item, actor, now, outcome=action.outcome.value, **terms)
            event = _event(
                action,
                f"Refill {action.outcome.value}",
                outcome=action.outcome.value,
                quantity=terms["quantity"],
                refills=terms["refills"],
                days_supply=terms["days_supply"],
                reason=terms["reason"],
            )
            return Transition(changes, _decision_entries(action), event)
        case AppointmentDecision():
            starts_at = rfc3339(action.starts_at) if action.starts_at else None
            changes = _decided(
                item,
                actor,
                now,
                outcome=action.outcome.value,
                starts_at=starts_at,
            )
            event = _event(
                action,
                f"Appointment {action.outcome.value}",
                outcome=action.outcome.value,
                starts_at=starts_at,
            )
            return Transition(changes, _decision_entries(action), event)
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
    entry_ids: Sequence[str],
    extra_data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract's Item after a transition: fields changed, the written entries and the
    event appended (`entry_ids` name them in that order, the event last; `extra_data` joins
    every new entry's data, e.g. a pending mark). Leaves `item` untouched."""
    if len(entry_ids) != len(change.entries) + 1:
        raise ValueError(f"{len(change.entries) + 1} entry ids needed, {len(entry_ids)} given")
    result = dict(item)
    for name, value in change.changes.items():
        result[name] = wire_value(value)
    entries = list(item.get("entries") or [])
    extra = dict(extra_data or {})
    written_ids = list(entry_ids[:-1])
    for entry_id, written in zip(written_ids, change.entries, strict=True):
        entries.append(_entry_dict(entry_id, written.type, written.body, author_id, at, extra))
    event_data = plain_data(change.event.data) | written_entry_ids(written_ids)
    entries.append(
        _entry_dict(
            entry_ids[-1], EntryType.EVENT, change.event.body, author_id, at, event_data | extra
        )
    )
    result["entries"] = entries
    return result


def written_entry_ids(ids: Sequence[str]) -> dict[str, Any]:
    """How an event names the entries its action wrote: `entry_id` (the first, as ever) and,
    when there are several, `entry_ids` (all, in order)."""
    if not ids:
        return {}
    if len(ids) == 1:
        return {"entry_id": ids[0]}
    return {"entry_id": ids[0], "entry_ids": list(ids)}


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
