"""The service objects one app instance uses, and the FastAPI dependencies that reach them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from .access import AccessService
from .actions import ActionService
from .auth import PATIENT, STAFF, AuthService, Principal
from .config import Settings
from .db import Database
from .errors import forbidden, unauthorized
from .events import ChangeBroadcaster
from .jobs import Jobs
from .patient_portal import PatientPortal
from .policy import PolicyService
from .sync import SyncService


@dataclass
class Services:
    settings: Settings
    db: Database
    auth: AuthService
    actions: ActionService
    sync: SyncService
    policy: PolicyService
    patients: PatientPortal
    access: AccessService
    broadcaster: ChangeBroadcaster
    jobs: Jobs


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def client_ip(request: Request) -> str | None:
    settings: Settings = request.app.state.services.settings
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else None


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return services(request).auth.authenticate(token.strip())


def staff_principal(request: Request) -> Principal:
    principal = _principal(request)
    if principal.kind != STAFF:
        raise forbidden("This endpoint is for practice staff.")
    return principal


def patient_principal(request: Request) -> Principal:
    principal = _principal(request)
    if principal.kind != PATIENT:
        raise forbidden("This endpoint is for patients.")
    return principal


ServicesDep = Annotated[Services, Depends(services)]
StaffDep = Annotated[Principal, Depends(staff_principal)]
PatientDep = Annotated[Principal, Depends(patient_principal)]
IpDep = Annotated[str | None, Depends(client_ip)]
