"""Who may do what to an item, and why not: one answer for the service and the desktop.

Every check returns a `Decision` carrying a reason in plain words. The service turns a refusal
into its HTTP status (`fits` → 422, `role_allows` → 403, `state_allows` → 409, checked in that
order with If-Match between the last two); the desktop enables a button when `offer` allows it
and shows the reason as its tooltip otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .actions import (
    Action,
    AppointmentDecision,
    Claim,
    RefillDecision,
    Release,
    Reopen,
    SetPriority,
    WaitPatient,
)
from .red_flags import red_flags_of
from .vocabulary import (
    CLOSED_STATUSES,
    AppointmentChange,
    Kind,
    Priority,
    RefillOutcome,
    Role,
    Status,
)


@dataclass(frozen=True)
class Actor:
    """A staff member acting: plain data (no token, no ORM object)."""

    id: str
    role: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    code: str = ""  # the error code a refusal carries: invalid, forbidden, closed, ...
    status: int = 200  # the HTTP status a refusal answers with

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def _refuse(status: int, code: str, reason: str) -> Decision:
    return Decision(False, reason, code, status)


def fits(item: Mapping[str, Any], action: Action) -> Decision:
    """Does the action make sense for this kind of item (422 otherwise)?"""
    kind = item.get("kind")
    if isinstance(action, RefillDecision):
        if kind != Kind.REFILL:
            return _refuse(422, "invalid", "A refill decision applies to refill requests only.")
        if (
            action.outcome == RefillOutcome.MODIFIED
            and action.quantity is None
            and action.refills is None
        ):
            return _refuse(
                422, "invalid", "A modified refill needs a quantity or a number of refills."
            )
    if (
        isinstance(action, SetPriority)
        and action.priority == Priority.ROUTINE
        and not (action.reason or "").strip()
        and red_flags_of(item)
    ):
        return _refuse(
            422, "invalid", "Lowering a red-flag item to routine needs a reason (it is audited)."
        )
    if isinstance(action, AppointmentDecision):
        if kind != Kind.APPOINTMENT:
            return _refuse(
                422, "invalid", "An appointment decision applies to appointment requests only."
            )
        if action.outcome == "confirmed":
            change = (item.get("details") or {}).get("change")
            if change != AppointmentChange.CANCEL and action.starts_at is None:
                return _refuse(
                    422, "invalid", "Confirming an appointment needs its new time (starts_at)."
                )
        if action.starts_at is not None and action.starts_at.tzinfo is None:
            return _refuse(422, "invalid", "starts_at needs a time zone (use Z for UTC).")
    return ALLOWED


def role_allows(actor: Actor, action: Action) -> Decision:
    """Is this kind of action open to the actor's role (403 otherwise)?"""
    if isinstance(action, RefillDecision) and actor.role != Role.CLINICIAN:
        return _refuse(403, "forbidden", "Only a clinician can approve, deny or modify a refill.")
    return ALLOWED


def state_allows(actor: Actor, item: Mapping[str, Any], action: Action) -> Decision:
    """Does the item's state allow it now (409 otherwise)?"""
    status = item.get("status")
    closed = status in CLOSED_STATUSES
    if isinstance(action, Reopen):
        return ALLOWED if closed else _refuse(409, "not_closed", "This item is not closed.")
    if closed and action.TYPE != "note":
        return _refuse(409, "closed", f"This item is {status}; reopen it first.")
    if (
        isinstance(action, Claim)
        and item.get("assignee_id") not in (None, actor.id)
        and not action.force
    ):
        return _refuse(409, "claimed", "Someone else has claimed this item.")
    return ALLOWED


def allowed(actor: Actor, item: Mapping[str, Any], action: Action) -> Decision:
    """The first refusal of `fits`, `role_allows` and `state_allows`, else allowed."""
    for decision in (fits(item, action), role_allows(actor, action)):
        if not decision:
            return decision
    return state_allows(actor, item, action)


def offer(actor: Actor, item: Mapping[str, Any], action: Action) -> Decision:
    """Should the desktop offer this action now? `allowed`, and not a no-op."""
    decision = allowed(actor, item, action)
    if not decision:
        return decision
    if isinstance(action, Claim) and item.get("assignee_id") == actor.id:
        return Decision(False, "You have this item already.")
    if isinstance(action, Release) and not item.get("assignee_id"):
        return Decision(False, "Nobody has claimed this item.")
    if isinstance(action, WaitPatient) and item.get("status") == Status.WAITING_PATIENT:
        return Decision(False, "This item is already waiting on the patient.")
    if isinstance(action, SetPriority) and item.get("priority") == action.priority:
        return Decision(False, f"This item is already {action.priority.word.lower()}.")
    return ALLOWED
