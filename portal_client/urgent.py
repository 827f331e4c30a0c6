"""Which urgent items to announce now, to this person.

An unclaimed urgent item (new or open) in a queue this person's role can act on is announced
when it first appears, again when a new red flag arrives on it, and every five minutes until
someone claims it. An announcement names the red-flag categories only: never the patient or
the message (screens are shared).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import TYPE_CHECKING, Any

from triage_core.red_flags import categories_of, flagged_messages
from triage_core.triage import hears_urgent
from triage_core.vocabulary import RedFlagCategory

if TYPE_CHECKING:
    from .cache import Cache

REPEAT = timedelta(minutes=5)


@dataclass(frozen=True)
class Urgent:
    item_id: str
    categories: tuple[str, ...]  # red-flag categories (empty: urgent for another reason)
    key: str  # changes when the item gets a new red flag

    @property
    def words(self) -> str:
        """What the announcement may say: 'stroke signs, heart symptoms' or 'urgent'."""
        return ", ".join(RedFlagCategory.describe(c) for c in self.categories) or "urgent"


def urgent_of(item: dict[str, Any]) -> Urgent:
    """The announcement of an urgent item; its key is the newest flagged message (a new red
    flag is news)."""
    flagged = flagged_messages(item)
    key = str(flagged[-1].get("id")) if flagged else "urgent"
    return Urgent(str(item["id"]), tuple(c for c in categories_of(item) if c), key)


class UrgentWatch:
    """Remembers what it announced (in memory: after a restart, unclaimed work is announced
    again, as it should be). `due` is called on a read worker."""

    def __init__(self, cache: Cache, role: str) -> None:
        self.cache = cache
        self.role = role
        self.announced: dict[str, tuple[str, datetime]] = {}
        self._lock = Lock()

    def due(self, now: datetime) -> list[Urgent]:
        """What to announce now, noted as announced in the same step (two checks in flight, one
        after a sync and one on the timer, never announce the same thing twice)."""
        waiting = []
        for item_id, queue, raw in self.cache.queries.unclaimed_urgent():
            if not hears_urgent(self.role, queue):
                continue
            try:
                urgent = urgent_of(json.loads(raw))
            except (ValueError, KeyError, TypeError):
                urgent = Urgent(item_id, (), "urgent")  # announced even if its JSON is odd
            waiting.append(urgent)
        live = {u.item_id for u in waiting}
        due = []
        with self._lock:
            for gone in set(self.announced) - live:
                del self.announced[gone]  # claimed, done or no longer urgent
            for urgent in waiting:
                last = self.announced.get(urgent.item_id)
                if last is None or last[0] != urgent.key or now - last[1] >= REPEAT:
                    due.append(urgent)
                    self.announced[urgent.item_id] = (urgent.key, now)
        return due
