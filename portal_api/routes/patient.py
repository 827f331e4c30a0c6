"""The patient portal's endpoints: a patient sees and touches only their own requests."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import IpDep, PatientDep, ServicesDep
from ..errors import documented
from ..schemas import (
    NewPatientRequest,
    PatientItemEnvelope,
    PatientItemList,
    PatientMessage,
)

router = APIRouter(prefix="/patient", tags=["patient"])


@router.post("/requests", status_code=201, responses=documented(400, 401, 403, 422))
def create_request(
    body: NewPatientRequest, principal: PatientDep, svc: ServicesDep, ip: IpDep
) -> PatientItemEnvelope:
    """File a refill request, an appointment change or a message (details by kind)."""
    return PatientItemEnvelope.model_validate({"item": svc.patients.create(principal, body, ip)})


@router.get("/requests", responses=documented(401, 403))
def list_requests(principal: PatientDep, svc: ServicesDep) -> PatientItemList:
    return PatientItemList.model_validate({"items": svc.patients.list(principal)})


@router.get("/requests/{item_id}", responses=documented(401, 403, 404))
def get_request(item_id: str, principal: PatientDep, svc: ServicesDep) -> PatientItemEnvelope:
    return PatientItemEnvelope.model_validate({"item": svc.patients.get(principal, item_id)})


@router.post(
    "/requests/{item_id}/messages",
    status_code=201,
    responses=documented(400, 401, 403, 404, 409, 422),
)
def add_message(
    item_id: str, body: PatientMessage, principal: PatientDep, svc: ServicesDep, ip: IpDep
) -> PatientItemEnvelope:
    """Add a message to your request; one waiting on you goes back to the practice."""
    return PatientItemEnvelope.model_validate(
        {"item": svc.patients.message(principal, item_id, body, ip)}
    )


@router.post("/requests/{item_id}/cancel", responses=documented(401, 403, 404, 409))
def cancel_request(
    item_id: str, principal: PatientDep, svc: ServicesDep, ip: IpDep
) -> PatientItemEnvelope:
    """Withdraw your request (it becomes `cancelled`)."""
    return PatientItemEnvelope.model_validate({"item": svc.patients.cancel(principal, item_id, ip)})
