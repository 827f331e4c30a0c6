"""Triage of a new patient request: which queue it goes to, and whether it is urgent.

Pure functions over plain data. Staff can always change queue and priority afterwards (lowering
a red-flag item takes a reason); the point is that a patient writing "my chest is crushing" is
never filed as routine by default. The red flags themselves come from `screening`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .safety import safety_reply
from .vocabulary import EntryType, Kind, MessageCategory, Priority, Queue, Role


def initial_queue(kind: str, details: dict[str, Any]) -> Queue:
    """Appointments and admin questions go to the front desk, clinical work to nursing; a
    refill of a controlled substance goes straight to the clinician (it is never signed by
    protocol, and only a clinician can sign it)."""
    if kind == Kind.REFILL:
        return Queue.CLINICIAN if details.get("controlled") else Queue.NURSING
    if kind == Kind.APPOINTMENT:
        return Queue.FRONT_DESK
    if details.get("category") == MessageCategory.CLINICAL:
        return Queue.NURSING
    return Queue.FRONT_DESK


def on_red_flag(priority: str, queue: str, assignee_id: str | None = None) -> dict[str, str | None]:
    """What a red flag in a patient's message changes on an item: it becomes urgent; an item
    at the front desk moves to nursing (a nurse can act on it; the front desk cannot); and it
    is unclaimed, so the whole team is told and nobody assumes it is in hand (whoever had it
    may have gone home; taking it back is one key)."""
    changes: dict[str, str | None] = {}
    if priority != Priority.URGENT:
        changes["priority"] = Priority.URGENT.value
    if queue == Queue.FRONT_DESK:
        changes["queue"] = Queue.NURSING.value
    if assignee_id is not None:
        changes["assignee_id"] = None
    return changes


@dataclass(frozen=True)
class SystemEntry:
    type: EntryType
    body: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RedFlagResponse:
    """Everything a flagged patient message does to its item, in order: the field changes, the
    system event of a follow-up that changed the item, and the automatic reply."""

    changes: dict[str, str | None]
    entries: tuple[SystemEntry, ...]

    @property
    def reply(self) -> str | None:
        return next((e.body for e in self.entries if e.type == EntryType.STAFF_REPLY), None)


def respond_to_red_flags(
    item: Mapping[str, Any],
    categories: list[str],
    policy: Mapping[str, Any],
    *,
    follow_up: bool,
) -> RedFlagResponse:
    """The service and the demo seed apply this to a flagged message's item (its `priority`,
    `queue` and `assignee_id`); `urgent_since` becomes the message's time (a new episode)."""
    changes = on_red_flag(item["priority"], item["queue"], item.get("assignee_id"))
    entries: list[SystemEntry] = []
    if follow_up and changes:
        data: dict[str, Any] = {
            "action": "red_flag",
            "categories": categories,
            "from": item["priority"],
        }
        unclaimed = "assignee_id" in changes
        if unclaimed:
            data["previous_assignee_id"] = item.get("assignee_id")
        body = "Red flag in a new message: urgent" + (
            ", unclaimed for the team" if unclaimed else ""
        )
        entries.append(SystemEntry(EntryType.EVENT, body, data))
    reply = safety_reply(policy, categories)
    if reply:
        data = {"automatic": "safety_reply", "categories": categories}
        entries.append(SystemEntry(EntryType.STAFF_REPLY, reply, data))
    return RedFlagResponse(changes, tuple(entries))


# Who hears about an unclaimed urgent item in a queue: the roles that can act on it (a red flag
# needs clinical staff; an urgent front-desk item, the front desk).
URGENT_AUDIENCE: dict[Queue, frozenset[Role]] = {
    Queue.FRONT_DESK: frozenset({Role.FRONT_DESK}),
    Queue.NURSING: frozenset({Role.NURSE, Role.CLINICIAN}),
    Queue.CLINICIAN: frozenset({Role.CLINICIAN, Role.NURSE}),
}


def hears_urgent(role: str, queue: str) -> bool:
    """Should a person of this role be told about an unclaimed urgent item in this queue?"""
    audience = URGENT_AUDIENCE.get(Queue(queue)) if queue in Queue.values() else None
    return audience is not None and role in audience
