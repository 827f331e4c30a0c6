"""Who looked at what: views the desktops report, and a patient's own access log.

Staff read items from their desktop's encrypted cache, so the server sees a view only when the
desktop reports it: each opening of an item (repeat opens within a minute count once) is
queued in the desktop's outbox with its own id and delivered in batches, like an action. A
replayed view id changes nothing. Each new view becomes an `item.view` event in the audit
chain, with `{"source": "desktop", "view_id", "viewed_at"}`.

A patient's access log is the accounting of disclosures the portal owes them: every view of
their record, every action on it and every break-the-glass access, by whom (name and role).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from triage_core.times import parse_time

from . import audit
from .auth import Principal
from .db import Database
from .models import AuditEvent, Item, RecordedView, Staff, rfc3339, utcnow
from .schemas import RecordedViewIn

VIEW = "item.view"
BREAK_GLASS = "item.break_glass"
# How each audit action reads in a patient's access log; other item actions are "acted".
ACCESS_WORDS = {VIEW: "viewed", BREAK_GLASS: "break_the_glass"}
ACCESS_LOG_LIMIT = 500


class AccessService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record_views(
        self, principal: Principal, views: Sequence[RecordedViewIn], ip: str | None
    ) -> dict[str, int]:
        """Record the views not recorded before; answer how many were new."""
        try:
            return self._record(principal, views, ip)
        except IntegrityError:
            # Another delivery of the same batch won the race: the second pass skips its ids.
            return self._record(principal, views, ip)

    def _record(
        self, principal: Principal, views: Sequence[RecordedViewIn], ip: str | None
    ) -> dict[str, int]:
        unique = {str(view.id): view for view in views}
        now = utcnow()
        with self.db.write() as session:
            known = set(
                session.scalars(select(RecordedView.id).where(RecordedView.id.in_(list(unique))))
            )
            fresh = [view for key, view in unique.items() if key not in known]
            patients: dict[str, str] = {
                row.id: row.patient_id
                for row in session.execute(
                    select(Item.id, Item.patient_id).where(
                        Item.id.in_(sorted({view.item_id for view in fresh}))
                    )
                )
            }
            for view in sorted(fresh, key=lambda v: v.viewed_at):
                # A desktop clock ahead of the server's cannot date a view in the future.
                viewed_at = min(view.viewed_at, now)
                session.add(
                    RecordedView(
                        id=str(view.id),
                        staff_id=principal.id,
                        item_id=view.item_id,
                        viewed_at=viewed_at,
                        received_at=now,
                    )
                )
                audit.append(
                    session,
                    actor_kind="staff",
                    actor_id=principal.id,
                    action=VIEW,
                    item_id=view.item_id,
                    patient_id=patients.get(view.item_id),
                    ip=ip,
                    detail={
                        "source": "desktop",
                        "view_id": str(view.id),
                        "viewed_at": rfc3339(viewed_at),
                    },
                    at=now,
                )
            session.flush()
        return {"recorded": len(fresh), "already_recorded": len(views) - len(fresh)}

    def access_log(self, patient_id: str, limit: int = ACCESS_LOG_LIMIT) -> list[dict[str, Any]]:
        """Staff access to this patient's record, newest first. A view reported by a desktop
        is dated when it happened (`viewed_at`), not when it was delivered."""
        query = (
            select(
                AuditEvent.at,
                AuditEvent.action,
                AuditEvent.detail,
                Staff.display_name,
                Staff.role,
            )
            .join(Staff, Staff.id == AuditEvent.actor_id)
            .where(
                AuditEvent.patient_id == patient_id,
                AuditEvent.actor_kind == "staff",
                AuditEvent.action.like("item.%"),
            )
            .order_by(AuditEvent.seq.desc())
            .limit(limit)
        )
        with self.db.read() as session:
            events: list[dict[str, Any]] = [
                {
                    "at": _when(row.at, row.detail or {}),
                    "staff": {"display_name": row.display_name, "role": row.role},
                    "action": ACCESS_WORDS.get(row.action, "acted"),
                }
                for row in session.execute(query)
            ]
        events.sort(key=lambda event: event["at"], reverse=True)
        return events


def _when(recorded: datetime, detail: dict[str, Any]) -> datetime:
    """When the access happened: a desktop view's own time, else when it was recorded."""
    if detail.get("source") == "desktop":
        happened = parse_time(detail.get("viewed_at"))
        if happened is not None:
            return happened
    return recorded
