"""Reading an item and acting on it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from triage_core import disclosure
from triage_core.actions import json_schema

from .. import audit
from ..deps import IpDep, ServicesDep, StaffDep
from ..errors import ApiError, documented, not_found
from ..items import item_dict, load_entries
from ..models import Item
from ..schemas import ItemEnvelope

router = APIRouter(tags=["items"])

ACTION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Action"}}},
    }
}


@router.get("/items/{item_id}", responses=documented(401, 403, 404))
def get_item(
    item_id: str,
    principal: StaffDep,
    svc: ServicesDep,
    ip: IpDep,
    reason: Annotated[
        str | None,
        Query(
            max_length=500,
            description="why a restricted item is opened (break the glass); recorded",
        ),
    ] = None,
) -> ItemEnvelope:
    """One item in full, recorded in the audit log as a view. An item this person's role
    receives as a header (`restricted`) opens only with a `reason`: break the glass, recorded
    apart (`item.break_glass`); without one → `403` code `restricted`."""
    reason = (reason or "").strip() or None
    with svc.db.write() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise not_found()
        shown = item_dict(item, load_entries(session, item.id))
        breaking_glass = not disclosure.in_full(principal.role, principal.id, shown)
        if breaking_glass and reason is None:
            raise ApiError(
                403,
                "restricted",
                "This item is not part of your role's work. To open it, give a reason; "
                "the access is recorded.",
            )
        audit.append(
            session,
            actor_kind="staff",
            actor_id=principal.id,
            action="item.break_glass" if breaking_glass else "item.view",
            item_id=item.id,
            patient_id=item.patient_id,
            ip=ip,
            detail={"reason": reason} if breaking_glass else {},
        )
        return ItemEnvelope.model_validate({"item": shown})


@router.post(
    "/items/{item_id}/actions",
    responses={
        **documented(400, 401, 403, 404, 409, 412, 422),
        200: {"model": ItemEnvelope, "description": "The item after the action"},
    },
    openapi_extra=ACTION_BODY,
)
async def act(
    item_id: str,
    request: Request,
    principal: StaffDep,
    svc: ServicesDep,
    ip: IpDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="client-made unique string; replays return the first response"),
    ] = None,
    if_match: Annotated[
        str | None, Header(description='the version the client saw, e.g. "3"')
    ] = None,
) -> JSONResponse:
    """Claim, release, assign, route, set priority, reply, note, wait on the patient, resolve,
    reopen, or decide a refill or appointment (schema: Action, by `type`)."""
    raw = await request.body()
    result = await run_in_threadpool(
        svc.actions.perform, principal, item_id, idempotency_key, raw, if_match, ip
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body, status_code=result.status, headers=headers)


def register_action_schema(openapi: dict[str, Any]) -> None:
    """Put the Action union into the OpenAPI components (the route reads raw bytes; the
    schemas come from the domain core's declarations, as its validation does)."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    components.update(json_schema())
