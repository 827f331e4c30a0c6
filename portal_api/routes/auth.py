"""Staff and patient sign-in, token refresh and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..auth import PATIENT, STAFF
from ..deps import IpDep, PatientDep, ServicesDep, StaffDep
from ..errors import documented, not_found
from ..models import Patient, Staff
from ..schemas import (
    LoginRequest,
    PatientAccount,
    PatientTokens,
    RefreshRequest,
    StaffOut,
    StaffTokens,
    TokenPair,
)

router = APIRouter()


def staff_out(svc: ServicesDep, staff_id: str) -> StaffOut:
    with svc.db.read() as session:
        staff = session.get(Staff, staff_id)
        if staff is None:
            raise not_found("staff member")
        return StaffOut.model_validate(staff, from_attributes=True)


def patient_account(svc: ServicesDep, patient_id: str) -> PatientAccount:
    with svc.db.read() as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise not_found("patient")
        return PatientAccount(
            id=patient.id, given_name=patient.given_name, family_name=patient.family_name
        )


@router.post("/auth/login", tags=["staff auth"], responses=documented(400, 401, 422, 429))
def staff_login(body: LoginRequest, svc: ServicesDep, ip: IpDep) -> StaffTokens:
    """Sign in with username and password; 5 failures in 15 minutes lock the name out."""
    tokens = svc.auth.login(STAFF, body.username, body.password, ip)
    return StaffTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        user=staff_out(svc, tokens.principal_id),
    )


@router.post("/auth/refresh", tags=["staff auth"], responses=documented(400, 401, 422))
def staff_refresh(body: RefreshRequest, svc: ServicesDep, ip: IpDep) -> TokenPair:
    """Trade a refresh token (once) for a new pair; reusing one ends the whole login."""
    tokens = svc.auth.refresh(STAFF, body.refresh_token, ip)
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post("/auth/logout", status_code=204, tags=["staff auth"], responses=documented(401, 403))
def staff_logout(principal: StaffDep, svc: ServicesDep, ip: IpDep) -> Response:
    svc.auth.logout(principal, ip)
    return Response(status_code=204)


@router.get("/me", tags=["staff auth"], responses=documented(401, 403))
def me(principal: StaffDep, svc: ServicesDep) -> StaffOut:
    return staff_out(svc, principal.id)


@router.post("/patient/auth/login", tags=["patient auth"], responses=documented(400, 401, 422, 429))
def patient_login(body: LoginRequest, svc: ServicesDep, ip: IpDep) -> PatientTokens:
    tokens = svc.auth.login(PATIENT, body.username, body.password, ip)
    return PatientTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        user=patient_account(svc, tokens.principal_id),
    )


@router.post("/patient/auth/refresh", tags=["patient auth"], responses=documented(400, 401, 422))
def patient_refresh(body: RefreshRequest, svc: ServicesDep, ip: IpDep) -> TokenPair:
    tokens = svc.auth.refresh(PATIENT, body.refresh_token, ip)
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post(
    "/patient/auth/logout", status_code=204, tags=["patient auth"], responses=documented(401, 403)
)
def patient_logout(principal: PatientDep, svc: ServicesDep, ip: IpDep) -> Response:
    svc.auth.logout(principal, ip)
    return Response(status_code=204)
