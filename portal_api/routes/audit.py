"""Reading the audit log (administrators only). Nothing here changes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from ..deps import ServicesDep, StaffDep
from ..errors import documented, forbidden, invalid
from ..models import AuditEvent
from ..schemas import AuditList

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=documented(400, 401, 403, 422))
def list_audit(
    principal: StaffDep,
    svc: ServicesDep,
    item_id: Annotated[str | None, Query(max_length=36)] = None,
    actor_id: Annotated[str | None, Query(max_length=36)] = None,
    since: Annotated[datetime | None, Query(description="RFC 3339")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditList:
    """Logins, views and actions, newest first."""
    if principal.role != "admin":
        raise forbidden("Only an administrator can read the audit log.")
    if since is not None and since.tzinfo is None:
        raise invalid("since needs a time zone (use Z for UTC).")
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if item_id:
        query = query.where(AuditEvent.item_id == item_id)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    with svc.db.read() as session:
        rows = session.scalars(query).all()
        return AuditList.model_validate(
            {
                "events": [
                    {
                        "at": r.at,
                        "actor": {"kind": r.actor_kind, "id": r.actor_id},
                        "action": r.action,
                        "item_id": r.item_id,
                        "patient_id": r.patient_id,
                        "ip": r.ip,
                        "detail": r.detail or {},
                    }
                    for r in rows
                ]
            }
        )
