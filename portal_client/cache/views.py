"""Items this person opened, on their way to the audit log.

Staff read from this encrypted cache, so the server cannot see a read: the desktop records each
opening of an item here (a repeat open of the same item within a minute counts once) with an id
of its own, and the sync engine delivers them in batches to `POST /audit/views`, which records
each id once. Like the action outbox, the rows survive restarts and offline days; a delivered
row stays a minute longer only to answer the one-minute rule.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from triage_core.times import rfc3339

from . import schema as s

if TYPE_CHECKING:
    from .store import Cache

REPEAT_SECONDS = 60.0  # opens of one item within this count as one view
BATCH = 200  # views per delivery (the service takes up to 500)


class Views:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def record(self, item_id: str, now: float | None = None) -> str | None:
        """Record an opening; None when this item was opened less than a minute ago."""
        opened = time.time() if now is None else now

        def body(conn: Connection) -> str | None:
            recent = conn.execute(
                select(s.views.c.id).where(
                    s.views.c.item_id == item_id, s.views.c.opened > opened - REPEAT_SECONDS
                )
            ).first()
            if recent is not None:
                return None
            view_id = str(uuid.uuid4())
            conn.execute(
                insert(s.views).values(
                    id=view_id,
                    item_id=item_id,
                    viewed_at=rfc3339(datetime.fromtimestamp(opened, UTC)),
                    opened=opened,
                    sent=0,
                )
            )
            return view_id

        return self.cache.write(body)

    def batch(self, limit: int = BATCH) -> list[dict[str, Any]]:
        """The oldest views not yet delivered, in the wire form."""
        with self.cache.read() as conn:
            rows = conn.execute(
                select(s.views.c.id, s.views.c.item_id, s.views.c.viewed_at)
                .where(s.views.c.sent == 0)
                .order_by(s.views.c.opened)
                .limit(limit)
            ).all()
        return [{"id": r.id, "item_id": r.item_id, "viewed_at": r.viewed_at} for r in rows]

    def delivered(self, view_ids: list[str], now: float | None = None) -> None:
        """The server has these; forget delivered views older than the one-minute rule."""
        cutoff = (time.time() if now is None else now) - REPEAT_SECONDS

        def body(conn: Connection) -> None:
            if view_ids:
                conn.execute(update(s.views).where(s.views.c.id.in_(view_ids)).values(sent=1))
            conn.execute(delete(s.views).where(s.views.c.sent == 1, s.views.c.opened <= cutoff))

        self.cache.write(body)

    def pending_count(self) -> int:
        with self.cache.read() as conn:
            count = conn.execute(
                select(func.count()).select_from(s.views).where(s.views.c.sent == 0)
            ).scalar_one()
        return int(count)
