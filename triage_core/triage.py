"""Triage of a new patient request: which queue it goes to, and whether it is urgent.

Pure functions over plain data. Staff can always change queue and priority afterwards (lowering
a red-flag item takes a reason); the point is that a patient writing "my chest is crushing" is
never filed as routine by default. The red flags themselves come from `screening`.
"""

from __future__ import annotations

from typing import Any

from .vocabulary import Kind, MessageCategory, Priority, Queue, Role


def initial_queue(kind: str, details: dict[str, Any]) -> Queue:
    """Appointments and admin questions go to the front desk, clinical work to nursing."""
    if kind == Kind.REFILL:
        return Queue.NURSING
    if kind == Kind.APPOINTMENT:
        return Queue.FRONT_DESK
    if details.get("category") == MessageCategory.CLINICAL:
        return Queue.NURSING
    return Queue.FRONT_DESK


def on_red_flag(priority: str, queue: str) -> dict[str, str | None]:
    """What a red flag in a patient's message changes on an item: it becomes urgent, and an
    item at the front desk moves to nursing, unclaimed like any moved item (a nurse can act on
    it; the front desk cannot, and nobody should think it is in hand)."""
    changes: dict[str, str | None] = {}
    if priority != Priority.URGENT:
        changes["priority"] = Priority.URGENT.value
    if queue == Queue.FRONT_DESK:
        changes["queue"] = Queue.NURSING.value
        changes["assignee_id"] = None
    return changes


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
