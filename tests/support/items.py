"""An item in the contract's staff shape, for the unit tests of rules that read items."""

from __future__ import annotations

from typing import Any

CREATED = "2026-11-27T09:00:00Z"


def contract_item(**changes: Any) -> dict[str, Any]:
    """A new, unassigned routine refill in nursing with no entries, changed as asked."""
    base: dict[str, Any] = {
        "id": "i1",
        "kind": "refill",
        "status": "new",
        "priority": "routine",
        "queue": "nursing",
        "subject": "Refill",
        "patient_id": "p1",
        "assignee_id": None,
        "created_at": CREATED,
        "updated_at": CREATED,
        "first_response_at": None,
        "resolved_at": None,
        "version": 1,
        "details": {"decision": None},
        "entries": [],
    }
    return {**base, **changes}
