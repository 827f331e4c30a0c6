"""Reference data every desktop needs: the staff list and the practice policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response
from sqlalchemy import select

from ..deps import IpDep, ServicesDep, StaffDep
from ..errors import documented
from ..models import Staff
from ..schemas import PolicyDoc, StaffList, StaffWithActive

router = APIRouter(tags=["reference"])


@router.get("/staff", responses=documented(401, 403))
def list_staff(_principal: StaffDep, svc: ServicesDep) -> StaffList:
    with svc.db.read() as session:
        rows = session.scalars(select(Staff).order_by(Staff.display_name)).all()
        return StaffList(
            staff=[StaffWithActive.model_validate(s, from_attributes=True) for s in rows]
        )


@router.get(
    "/policy",
    responses={**documented(401, 403, 404), 304: {"description": "unchanged since If-None-Match"}},
    response_model=PolicyDoc,
)
def get_policy(
    _principal: StaffDep,
    svc: ServicesDep,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Any:
    """The practice's hours, holidays, SLA targets and templates. ETag is the policy version;
    send it back as If-None-Match to get 304 when nothing changed (cheap to poll)."""
    document, version = svc.policy.get()
    etag = f'"{version}"'
    if if_none_match is not None and if_none_match.strip() == etag:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return PolicyDoc.model_validate(document)


@router.put("/policy", responses=documented(400, 401, 403, 422))
def put_policy(
    principal: StaffDep,
    svc: ServicesDep,
    ip: IpDep,
    response: Response,
    document: dict[str, Any] = Body(
        ..., description="the whole policy, same shape as GET (schema: PolicyDoc)"
    ),
) -> PolicyDoc:
    """Replace the policy (admin only); every desktop picks it up at its next sync."""
    saved, version = svc.policy.put(principal, document, ip)
    response.headers["ETag"] = f'"{version}"'
    return PolicyDoc.model_validate(saved)
