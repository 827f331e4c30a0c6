"""Reading the audit log (administrators only). Nothing here changes it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement
from starlette.concurrency import run_in_threadpool

from .. import audit
from ..db import Database
from ..deps import ServicesDep, StaffDep
from ..errors import documented, forbidden, invalid
from ..models import AuditEvent
from ..schemas import AuditChain, AuditList

router = APIRouter(tags=["audit"])

BREAK_GLASS = "item.break_glass"
MAX_ACTIONS = 20
# `item.view` exactly, or `item.` for every action that starts so.
ACTION_PATTERN = re.compile(r"[a-z][a-z_]*(\.[a-z_]+)*\.?")
ACTION_HELP = "exact (item.view) or a prefix ending in a dot (item.); repeat for any of several"


def _admin_only(role: str | None) -> None:
    if role != "admin":
        raise forbidden("Only an administrator can read the audit log.")


def _aware(name: str, moment: datetime | None) -> None:
    if moment is not None and moment.tzinfo is None:
        raise invalid(f"{name} needs a time zone (use Z for UTC).")


def _action_match(values: list[str], name: str) -> ColumnElement[bool] | None:
    """Any of the given actions: exact names, or prefixes ending in a dot."""
    if not values:
        return None
    if len(values) > MAX_ACTIONS:
        raise invalid(f"at most {MAX_ACTIONS} values of {name}")
    terms: list[ColumnElement[bool]] = []
    for value in values:
        if len(value) > 60 or not ACTION_PATTERN.fullmatch(value):
            raise invalid(f"{name} is {ACTION_HELP}", {"value": value[:60]})
        if value.endswith("."):
            terms.append(AuditEvent.action.startswith(value, autoescape=True))
        else:
            terms.append(AuditEvent.action == value)
    return or_(*terms)


@router.get("/audit", responses=documented(400, 401, 403, 422))
def list_audit(
    principal: StaffDep,
    svc: ServicesDep,
    item_id: Annotated[str | None, Query(max_length=36)] = None,
    actor_id: Annotated[str | None, Query(max_length=36)] = None,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
    action: Annotated[list[str] | None, Query(description=ACTION_HELP)] = None,
    exclude_action: Annotated[
        list[str] | None, Query(description="leave these out; same form as action")
    ] = None,
    break_glass: Annotated[
        bool, Query(description="only break-the-glass accesses (item.break_glass)")
    ] = False,
    since: Annotated[datetime | None, Query(description="RFC 3339, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="RFC 3339, exclusive")] = None,
    before_seq: Annotated[
        int | None, Query(ge=1, description="only events older than this seq (paging)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditList:
    """Logins, views and actions, newest first. When more events match than `limit`,
    `next_before_seq` says where the next (older) page starts."""
    _admin_only(principal.role)
    _aware("since", since)
    _aware("until", until)
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (AuditEvent.item_id, item_id),
        (AuditEvent.actor_id, actor_id),
        (AuditEvent.patient_id, patient_id),
    ):
        if value:
            conditions.append(column == value)
    wanted = _action_match(action or [], "action")
    if wanted is not None:
        conditions.append(wanted)
    unwanted = _action_match(exclude_action or [], "exclude_action")
    if unwanted is not None:
        conditions.append(not_(unwanted))
    if break_glass:
        conditions.append(AuditEvent.action == BREAK_GLASS)
    if since is not None:
        conditions.append(AuditEvent.at >= since)
    if until is not None:
        conditions.append(AuditEvent.at < until)
    if before_seq is not None:
        conditions.append(AuditEvent.seq < before_seq)
    query: Select[Any] = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit + 1)
    if conditions:
        query = query.where(and_(*conditions))
    with svc.db.read() as session:
        rows = session.scalars(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return AuditList.model_validate(
            {
                "events": [
                    {
                        "seq": r.seq,
                        "at": r.at,
                        "actor": {"kind": r.actor_kind, "id": r.actor_id},
                        "action": r.action,
                        "item_id": r.item_id,
                        "patient_id": r.patient_id,
                        "ip": r.ip,
                        "detail": r.detail or {},
                    }
                    for r in rows
                ],
                "next_before_seq": rows[-1].seq if more else None,
            }
        )


def _verify(db: Database) -> AuditChain:
    # One snapshot for the walk and the head: events appended meanwhile on a live server are
    # not a "missing tail".
    with db.read(snapshot=True) as session:
        report = audit.verify(session)
    return AuditChain(
        intact=report.intact,
        checked=report.checked,
        first_broken_seq=report.first_broken_seq,
        reason=report.reason,
    )


@router.get("/audit/chain", responses=documented(401, 403))
async def audit_chain(principal: StaffDep, svc: ServicesDep) -> AuditChain:
    """Walk the whole hash chain (as `portal-api audit verify`); on a worker thread, since a
    long log takes a while."""
    _admin_only(principal.role)
    return await run_in_threadpool(_verify, svc.db)
