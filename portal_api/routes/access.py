"""Views reported by desktops, and a patient's record of who looked at it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ..access import ACCESS_LOG_LIMIT
from ..deps import IpDep, PatientDep, ServicesDep, StaffDep
from ..errors import documented
from ..schemas import AccessLog, RecordedViews, RecordedViewsReceipt

router = APIRouter()


@router.post(
    "/audit/views", status_code=202, tags=["audit"], responses=documented(400, 401, 403, 422)
)
async def record_views(
    body: RecordedViews, principal: StaffDep, svc: ServicesDep, ip: IpDep
) -> RecordedViewsReceipt:
    """Items this person opened on their desktop (read from its cache), each with the id the
    desktop gave the view. Recorded in the audit log once per id: a replay changes nothing."""
    counts = await run_in_threadpool(svc.access.record_views, principal, body.views, ip)
    return RecordedViewsReceipt.model_validate(counts)


@router.get("/patient/access-log", tags=["patient"], responses=documented(401, 403, 422))
def access_log(
    principal: PatientDep,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=ACCESS_LOG_LIMIT)] = ACCESS_LOG_LIMIT,
) -> AccessLog:
    """Who looked at or acted on the caller's own record, newest first: when, the staff
    member's name and role, and what (`viewed`, `acted`, `break_the_glass`)."""
    return AccessLog.model_validate({"events": svc.access.access_log(principal.id, limit)})
