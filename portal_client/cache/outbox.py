"""Staff actions on their way to the server, and notices of the ones it refused.

An action is queued in one transaction with its idempotency key (made now, so a retry after a
crash reuses it) and the optimistic change to the cached item. Delivery, refusal and retry each
fold the item again from its server state and what still pends.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from triage_core.actions import user_text
from triage_core.times import rfc3339, utcnow

from . import schema as s
from .rows import index, refold, role_of

if TYPE_CHECKING:
    from .store import Cache


class Outbox:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def _refold(self, conn: Connection, item_id: str, server_item: Any = None) -> None:
        refold(conn, item_id, self.cache.clock_policy, role_of(conn), server_item)

    def enqueue(
        self, item_id: str, action: dict[str, Any], actor_id: str, if_match: int | None = None
    ) -> int:
        """One transaction: the outbox row (with a fresh idempotency key) and the optimistic
        change to the cached item."""

        def body(conn: Connection) -> int:
            outbox_id = conn.execute(
                insert(s.outbox).values(
                    item_id=item_id,
                    action_json=json.dumps(action),
                    idem_key=str(uuid.uuid4()),
                    if_match=if_match,
                    actor_id=actor_id,
                    created_at=rfc3339(utcnow()),
                    attempts=0,
                    next_attempt_at=0.0,
                )
            ).inserted_primary_key
            self._refold(conn, item_id)
            assert outbox_id is not None
            return int(outbox_id[0])

        return self.cache.write(body)

    def next(self) -> dict[str, Any] | None:
        """The oldest queued action (actions go out in order, one at a time)."""
        with self.cache.read() as conn:
            row = conn.execute(select(s.outbox).order_by(s.outbox.c.id).limit(1)).first()
            return dict(row._mapping) if row else None

    def delivered(self, outbox_id: int, item_id: str, server_item: dict[str, Any]) -> None:
        def body(conn: Connection) -> None:
            conn.execute(delete(s.outbox).where(s.outbox.c.id == outbox_id))
            stored = conn.execute(select(s.items.c.version).where(s.items.c.id == item_id)).scalar()
            if stored is None or server_item["version"] >= stored:
                self._refold(conn, item_id, server_item)
                index(conn, [server_item])
            else:
                self._refold(conn, item_id)

        self.cache.write(body)

    def refused(
        self,
        outbox_id: int,
        item_id: str,
        *,
        kind: str,
        message: str,
        actor_id: str | None,
        current: dict[str, Any] | None,
    ) -> int:
        """Drop a refused action, record a notice keeping the user's text, fold again."""

        def body(conn: Connection) -> int:
            row = conn.execute(select(s.outbox).where(s.outbox.c.id == outbox_id)).first()
            if row is None:
                return 0
            action = json.loads(row.action_json)
            conn.execute(delete(s.outbox).where(s.outbox.c.id == outbox_id))
            notice_id = conn.execute(
                insert(s.notices).values(
                    item_id=item_id,
                    kind=kind,
                    action_type=str(action.get("type")),
                    action_json=row.action_json,
                    message=message,
                    actor_id=actor_id,
                    user_text=user_text(action),
                    created_at=rfc3339(utcnow()),
                    dismissed=0,
                )
            ).inserted_primary_key
            stored = conn.execute(select(s.items.c.version).where(s.items.c.id == item_id)).scalar()
            if current is not None and (stored is None or current.get("version", 0) >= stored):
                self._refold(conn, item_id, current)
            else:
                self._refold(conn, item_id)
            assert notice_id is not None
            return int(notice_id[0])

        return self.cache.write(body)

    def retry_later(self, outbox_id: int, delay: float, error: str) -> None:
        def body(conn: Connection) -> None:
            conn.execute(
                update(s.outbox)
                .where(s.outbox.c.id == outbox_id)
                .values(
                    attempts=s.outbox.c.attempts + 1,
                    next_attempt_at=time.time() + delay,
                    last_error=error,
                )
            )

        self.cache.write(body)

    def pending_count(self) -> int:
        with self.cache.read() as conn:
            return int(conn.execute(select(func.count()).select_from(s.outbox)).scalar_one())

    # ---- notices -----------------------------------------------------------------------------

    def notices(self, *, include_dismissed: bool = False) -> list[dict[str, Any]]:
        query = select(s.notices).order_by(s.notices.c.id)
        if not include_dismissed:
            query = query.where(s.notices.c.dismissed == 0)
        with self.cache.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def latest_notice(self, item_id: str) -> dict[str, Any] | None:
        """The newest notice not dismissed for one item (what its detail pane shows)."""
        query = (
            select(s.notices)
            .where(s.notices.c.item_id == item_id, s.notices.c.dismissed == 0)
            .order_by(s.notices.c.id.desc())
            .limit(1)
        )
        with self.cache.read() as conn:
            row = conn.execute(query).first()
            return dict(row._mapping) if row else None

    def dismiss_notice(self, notice_id: int) -> None:
        def body(conn: Connection) -> None:
            conn.execute(update(s.notices).where(s.notices.c.id == notice_id).values(dismissed=1))

        self.cache.write(body)
