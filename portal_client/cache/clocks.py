"""Response clocks in the cache: each item's due and at-risk moments, stored with the item.

`ClockPolicy` is an immutable value (the practice policy and its business calendar). The cache
swaps a new one in with one assignment on its writer thread, so a reader on another thread sees
either the old policy or the new one, never half of each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from triage_core.calendar import BusinessCalendar
from triage_core.clocks import inbox_clock
from triage_core.vocabulary import CLOSED_STATUSES

from . import schema as s

log = logging.getLogger(__name__)

EMPTY = {"due_at": None, "risk_at": None, "clock": None, "clock_business": 0}


def stored_time(moment: datetime | None) -> str | None:
    """Whole seconds, one fixed width, so stored times compare correctly as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


@dataclass(frozen=True)
class ClockPolicy:
    policy: Mapping[str, Any] | None
    calendar: BusinessCalendar | None

    @classmethod
    def of(cls, policy: dict[str, Any] | None) -> ClockPolicy:
        """The clock policy of a policy document (none when it is missing or unusable)."""
        if not policy:
            return NO_CLOCKS
        try:
            return cls(policy, BusinessCalendar.from_policy(policy))
        except (ValueError, KeyError) as exc:
            log.warning("the practice policy cannot be used for clocks: %s", exc)
            return NO_CLOCKS

    def columns(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item's stored clock columns (see schema.items)."""
        if self.calendar is None or self.policy is None:
            return dict(EMPTY)
        if item.get("status") in CLOSED_STATUSES:
            return {**EMPTY, "clock": "closed"}
        try:
            clock = inbox_clock(item, dict(self.policy), self.calendar)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("could not compute a response clock: %s", type(exc).__name__)
            return dict(EMPTY)
        return {
            "due_at": stored_time(clock.due_at),
            "risk_at": stored_time(clock.risk_at),
            "clock": clock.name or clock.settled,
            "clock_business": int(clock.business),
        }


NO_CLOCKS = ClockPolicy(None, None)


def recompute_all(conn: Connection, clock_policy: ClockPolicy) -> None:
    """Every item's clock columns under a new policy (inside the caller's transaction)."""
    rows = conn.execute(
        select(s.item_json.c.id, s.item_json.c.server_json, s.item_json.c.display_json)
    )
    updates = [
        {
            "item_id": row.id,
            **clock_policy.columns(json.loads(row.display_json or row.server_json)),
        }
        for row in rows
    ]
    if updates:
        conn.execute(
            update(s.items)
            .where(s.items.c.id == bindparam("item_id"))
            .values(
                due_at=bindparam("due_at"),
                risk_at=bindparam("risk_at"),
                clock=bindparam("clock"),
                clock_business=bindparam("clock_business"),
            ),
            updates,
        )
