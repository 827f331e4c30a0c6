"""Triage of a new patient request: which queue it goes to, and whether it is urgent.

Pure functions over plain data. Staff can always change queue and priority afterwards (lowering
a red-flag item takes a reason); the point is that a patient writing "my chest is crushing" is
never filed as routine by default. The red flags themselves come from `screening`.
"""

from __future__ import annotations

from typing import Any

from .screening import Screening, screen
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


def screening_queue(kind: str, details: dict[str, Any], screening: Screening) -> Queue:
    """A red flag goes to nursing whatever the request was filed as (a nurse can act on it)."""
    return Queue.NURSING if screening.flagged else initial_queue(kind, details)


def initial_priority(kind: str, subject: str, body: str) -> Priority:
    return Priority.URGENT if screen(subject, body).flagged else Priority.ROUTINE
