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
    PatientReceipt,
    PracticeInfo,
)

router = APIRouter(prefix="/patient", tags=["patient"])


@router.post("/requests", status_code=201, responses=documented(400, 401, 403, 422, 429))
def create_request(
    body: NewPatientRequest, principal: PatientDep, svc: ServicesDep, ip: IpDep
) -> PatientReceipt:
    """File a refill request, an appointment change or a message (details by kind). The text
    is screened for red flags: a flagged request is urgent and answered at once with a safety
    message (also in the item as a reply from `system`). `expected_reply_by` is when the
    practice expects to reply. A patient may send 10 messages a minute and 60 a day (new
    requests and messages together; settings); beyond that `429` with Retry-After."""
    return PatientReceipt.model_validate(svc.patients.create(principal, body, ip))


@router.get("/practice", responses=documented(401, 403))
def practice(_principal: PatientDep, svc: ServicesDep) -> PracticeInfo:
    """The practice's name, hours, how soon it answers and what to do in an emergency."""
    return PracticeInfo.model_validate(svc.patients.practice())


@router.get("/requests", responses=documented(401, 403))
def list_requests(principal: PatientDep, svc: ServicesDep) -> PatientItemList:
    return PatientItemList.model_validate({"items": svc.patients.list(principal)})


@router.get("/requests/{item_id}", responses=documented(401, 403, 404))
def get_request(item_id: str, principal: PatientDep, svc: ServicesDep) -> PatientItemEnvelope:
    return PatientItemEnvelope.model_validate({"item": svc.patients.get(principal, item_id)})


@router.post(
    "/requests/{item_id}/messages",
    status_code=201,
    responses=documented(400, 401, 403, 404, 409, 422, 429),
)
def add_message(
    item_id: str, body: PatientMessage, principal: PatientDep, svc: ServicesDep, ip: IpDep
) -> PatientReceipt:
    """Add a message to your request; one waiting on you goes back to the practice. Screened
    like a new request: a red flag makes the request urgent and brings a safety message."""
    return PatientReceipt.model_validate(svc.patients.message(principal, item_id, body, ip))


@router.post("/requests/{item_id}/cancel", responses=documented(401, 403, 404, 409))
def cancel_request(
    item_id: str, principal: PatientDep, svc: ServicesDep, ip: IpDep
) -> PatientItemEnvelope:
    """Withdraw your request (it becomes `cancelled`)."""
    return PatientItemEnvelope.model_validate({"item": svc.patients.cancel(principal, item_id, ip)})
