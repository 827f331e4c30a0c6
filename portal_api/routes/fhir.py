"""Chart facts from the EHR as FHIR R4 Bundles (administrators)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..deps import IpDep, ServicesDep, StaffDep
from ..errors import documented, forbidden
from ..fhir import FhirImport, FhirRefused, decided_refills, operation_outcome, parse_last_updated

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


@router.get(
    "/fhir/MedicationRequest",
    responses={
        **documented(401, 403),
        200: {"description": "a searchset Bundle of MedicationRequest resources"},
        400: {"description": "an OperationOutcome: a _lastUpdated it cannot read"},
    },
)
async def decided_medication_requests(
    principal: StaffDep,
    svc: ServicesDep,
    last_updated: Annotated[str | None, Query(alias="_lastUpdated", max_length=40)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Refills approved or modified here, as FHIR R4 MedicationRequest resources, for the
    EHR to read back: `_lastUpdated=ge<date or instant>` (or `gt`), oldest first, `_count` at
    a time; a `next` link asks for the rest."""
    if principal.role != "admin":
        raise forbidden("Only an administrator can read refills as FHIR.")
    try:
        since, strictly = parse_last_updated(last_updated)
    except FhirRefused as refused:
        return JSONResponse(refused.outcome, status_code=400, media_type=FHIR_JSON)
    bundle = await run_in_threadpool(decided_refills, svc.db, since, count, strictly_after=strictly)
    return JSONResponse(bundle, media_type=FHIR_JSON)
