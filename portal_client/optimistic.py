"""What staff see before the server confirms their actions: pending actions folded over the
last server state, with the domain core's own rules.

The cache shows `display = fold(last confirmed server item, pending actions)`, so a conflict or
a rejection only has to drop the action and fold again, and a newer server item rebases the
pending actions on top of it. An action the core would refuse (the item closed meanwhile, a
role that may not do it) changes nothing on screen: the server will refuse it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from triage_core.actions import ActionInvalid, from_wire
from triage_core.permissions import Actor, allowed
from triage_core.state_machine import apply_to_item, transition
from triage_core.times import parse_time


@dataclass(frozen=True)
class PendingAction:
    outbox_id: int
    item_id: str
    action: dict[str, Any]  # the wire form, as queued
    created_at: str  # RFC 3339
    actor_id: str


def apply_action(item: dict[str, Any], pending: PendingAction, role: str) -> dict[str, Any]:
    """The item as it will most likely be once the server applies this action."""
    try:
        action = from_wire(pending.action)
        moment = parse_time(pending.created_at)
    except (ActionInvalid, ValueError):
        return item  # the server will refuse it; show nothing new
    actor = Actor(pending.actor_id, role)
    if moment is None or not allowed(actor, item, action):
        return item
    change = transition(item, action, actor, moment)
    prefix = f"pending-{pending.outbox_id}"
    written_ids = [f"{prefix}-{entry.type.value}" for entry in change.entries]
    return apply_to_item(
        item,
        change,
        author_id=pending.actor_id,
        at=pending.created_at,
        entry_ids=(*written_ids, f"{prefix}-event"),
        extra_data={"pending": True},
    )


def fold(
    server_item: dict[str, Any], pending: Iterable[PendingAction], role: str
) -> dict[str, Any]:
    item = server_item
    for action in pending:
        item = apply_action(item, action, role)
    return item
