"""Triage of a new patient request: which queue it goes to, and whether it is urgent.

Pure functions over plain data. Staff can always change queue and priority afterwards (lowering
a red-flag item takes a reason); the point is that a patient writing "my chest is crushing" is
never filed as routine by default. The red flags themselves come from `screening`.
"""

from __future__ import annotations

from typing import Any

from .vocabulary import Kind, MessageCategory, Priority, Queue


def initial_queue(kind: str, details: dict[str, Any]) -> Queue:
    """Appointments and admin questions go to the front desk, clinical work to nursing."""
    if kind == Kind.REFILL:
        return Queue.NURSING
    if kind == Kind.APPOINTMENT:
        return Queue.FRONT_DESK
    if details.get("category") == MessageCategory.CLINICAL:
        return Queue.NURSING
    return Queue.FRONT_DESK


def on_red_flag(priority: str, queue: str) -> dict[str, str]:
    """What a red flag in a patient's message changes on an item: it becomes urgent, and an
    item at the front desk moves to nursing (a nurse can act on it; the front desk cannot)."""
    changes: dict[str, str] = {}
    if priority != Priority.URGENT:
        changes["priority"] = Priority.URGENT.value
    if queue == Queue.FRONT_DESK:
        changes["queue"] = Queue.NURSING.value
    return changes
