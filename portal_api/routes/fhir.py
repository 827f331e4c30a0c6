"""Chart facts from the EHR as FHIR R4 Bundles (administrators)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import IpDep, ServicesDep, StaffDep
from ..errors import documented, forbidden
from ..fhir import FhirImport, FhirRefused, operation_outcome

router = APIRouter(tags=["fhir"])
FHIR_JSON = "application/fhir+json"


@router.post(
    "/fhir",
    responses={
        **documented(401, 403),
        200: {"description": "a Bundle of type batch-response or transaction-response"},
        422: {"description": "an OperationOutcome naming each invalid resource; nothing applied"},
    },
)
async def import_bundle(
    request: Request, principal: StaffDep, svc: ServicesDep, ip: IpDep
) -> JSONResponse:
    """A `batch` or `transaction` Bundle of Patient, MedicationRequest, MedicationDispense,
    Encounter, Observation and AllergyIntolerance, validated (FHIR R4B models) and applied
    whole: an invalid resource refuses the bundle with `422` and an OperationOutcome. Refills
    still open for the patients it touches are checked against the protocol again."""
    if principal.role != "admin":
        raise forbidden("Only an administrator can import chart facts.")
    try:
        document = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        outcome = operation_outcome([("Bundle", "The body is not valid JSON.")])
        return JSONResponse(outcome, status_code=400, media_type=FHIR_JSON)
    importer = FhirImport(svc.db)
    try:
        response = await run_in_threadpool(importer.apply, document, actor_id=principal.id, ip=ip)
    except FhirRefused as refused:
        return JSONResponse(refused.outcome, status_code=422, media_type=FHIR_JSON)
    return JSONResponse(response, media_type=FHIR_JSON)
