"""The practice policy: business hours, holidays, SLA targets and canned replies."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_core.safety import REPLY_KEYS
from triage_core.vocabulary import Role

from . import audit
from .auth import Principal
from .db import Database
from .errors import ApiError, forbidden, invalid, validation_details
from .models import Policy, Staff, utcnow
from .schemas import PolicyDoc


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def validate_policy(document: Any) -> dict[str, Any]:
    """Check a policy beyond its shape; return it normalised (JSON-ready)."""
    try:
        policy = PolicyDoc.model_validate(document)
    except ValidationError as exc:
        raise invalid(
            "The policy is not valid.", {"errors": validation_details(list(exc.errors()))}
        ) from None
    problems: list[str] = []
    try:
        ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone: '{policy.timezone}' is not an IANA time zone")
    open_minutes = 0
    for day, intervals in policy.business_hours.items():
        previous_end = -1
        for start, end in sorted(intervals, key=lambda pair: _minutes(pair[0])):
            s, e = _minutes(start), _minutes(end)
            if e <= s:
                problems.append(f"business_hours.{day}: {start}-{end} ends before it starts")
            elif s < previous_end:
                problems.append(f"business_hours.{day}: {start}-{end} overlaps another interval")
            else:
                open_minutes += e - s
            previous_end = max(previous_end, e)
    if open_minutes == 0 and not problems:
        problems.append("business_hours: the practice is never open")
    country = policy.holidays.country
    if country:
        supported = holiday_calendars.list_supported_countries()
        if country not in supported:
            problems.append(f"holidays.country: '{country}' is not a supported country code")
        elif policy.holidays.subdivision and policy.holidays.subdivision not in supported[country]:
            problems.append(
                f"holidays.subdivision: '{policy.holidays.subdivision}' "
                f"is not a subdivision of {country}"
            )
    elif policy.holidays.subdivision:
        problems.append("holidays.subdivision needs holidays.country")
    template_ids = [t.id for t in policy.templates]
    if len(set(template_ids)) != len(template_ids):
        problems.append("templates: ids must be unique")
    for kind, cutoff in policy.cutoffs.items():
        if _minutes(cutoff.after) >= 24 * 60:
            problems.append(f"cutoffs.{kind}: use a time before 24:00")
    for key in policy.safety_replies:
        if key not in REPLY_KEYS:
            problems.append(
                f"safety_replies.{key}: not a reply group or red-flag category "
                f"(one of {', '.join(sorted(REPLY_KEYS))})"
            )
    for number, shift in enumerate(policy.on_call.rota, 1):
        if shift.ends < shift.starts:
            problems.append(f"on_call.rota[{number}]: ends before it starts")
    if problems:
        raise invalid("The policy is not valid: " + "; ".join(problems), {"problems": problems})
    normalised = policy.model_dump(mode="json")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        normalised["business_hours"].setdefault(day, [])
        normalised["business_hours"][day] = sorted(
            ([s, e] for s, e in normalised["business_hours"][day]), key=lambda p: _minutes(p[0])
        )
    return normalised


def check_on_call(session: Session, policy: dict[str, Any]) -> None:
    """Everyone the on-call schedule names is an active clinician of this practice."""
    schedule = policy.get("on_call") or {}
    named = {str(s["staff_id"]) for s in schedule.get("rota") or []}
    if schedule.get("default"):
        named.add(str(schedule["default"]))
    if not named:
        return
    clinicians = set(
        session.scalars(
            select(Staff.id).where(
                Staff.id.in_(named), Staff.active.is_(True), Staff.role == Role.CLINICIAN.value
            )
        )
    )
    wrong = sorted(named - clinicians)
    if wrong:
        problems = [f"on_call: {staff_id} is not an active clinician" for staff_id in wrong]
        raise invalid("The policy is not valid: " + "; ".join(problems), {"problems": problems})


class PolicyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self) -> tuple[dict[str, Any], int]:
        with self.db.read() as session:
            row = session.get(Policy, 1)
            if row is None:
                raise ApiError(404, "not_found", "No policy has been set for this practice yet.")
            return row.document, row.version

    def put(
        self, principal: Principal, document: Any, ip: str | None
    ) -> tuple[dict[str, Any], int]:
        if principal.role != "admin":
            raise forbidden("Only an administrator can change the practice policy.")
        normalised = validate_policy(document)
        with self.db.write() as session:
            check_on_call(session, normalised)
            row = session.get(Policy, 1, with_for_update=True)
            if row is None:
                row = Policy(
                    id=1,
                    document=normalised,
                    version=1,
                    updated_at=utcnow(),
                    updated_by=principal.id,
                )
                session.add(row)
            else:
                row.document = normalised
                row.version += 1
                row.updated_at = utcnow()
                row.updated_by = principal.id
            session.flush()
            audit.append(
                session,
                actor_kind="staff",
                actor_id=principal.id,
                action="policy.update",
                ip=ip,
                detail={"version": row.version},
            )
            return normalised, row.version
