"""The patient side: file requests, read your own, reply, cancel. Strictly your own items."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_core import protocol, triage
from triage_core.safety import public_practice
from triage_core.screening import Screening
from triage_core.vocabulary import (
    CLOSED_STATUSES,
    AuthorKind,
    EntryType,
    Kind,
    MessageCategory,
    Priority,
    Status,
)

from . import audit
from .auth import Principal
from .db import Database
from .errors import ApiError, invalid, not_found, validation_details
from .items import add_entry, entries_by_item, load_entries, mark_changed, patient_view
from .models import Item, Patient, utcnow
from .patient_limits import SendingLimits, check_sending
from .schemas import (
    NewAppointmentDetails,
    NewMessageDetails,
    NewPatientRequest,
    NewRefillDetails,
    PatientMessage,
)
from .urgency import PracticeRules, raise_urgency, receipt, red_flag_data, screen_message

DETAIL_MODELS: dict[str, type[BaseModel]] = {
    "refill": NewRefillDetails,
    "appointment": NewAppointmentDetails,
    "message": NewMessageDetails,
}


def _own_item(session: Session, principal: Principal, item_id: str, lock: bool = False) -> Item:
    item = session.get(Item, item_id, with_for_update=lock)
    if item is None or item.patient_id != principal.id:
        raise not_found("request")  # another patient's item does not exist for this caller
    return item


def patient_words(details: dict[str, Any]) -> list[str]:
    """The free text a patient typed into a request's details (an appointment's reason and
    preferred times), screened with the subject and body."""
    words = [str(details.get("reason") or "")]
    words += [str(t) for t in details.get("preferred_times") or []]
    return [w for w in words if w]


def refill_details(
    patient: Patient, requested: NewRefillDetails, policy: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The request with the chart's facts (last fill, controlled) and the protocol pre-check
    (`details.protocol`, staff only) as of the practice's today."""
    details = requested.model_dump(mode="json", exclude_none=False)
    if details["medication"].get("rxnorm") is None:
        details["medication"].pop("rxnorm", None)
    chart = chart_of(patient)
    active, other = protocol.find_active(details["medication"], chart["medications"])
    match = active or other
    details["last_filled_on"] = match.get("last_filled_on") if match else None
    today = now.astimezone(practice_zone(policy)).date()
    verdict = protocol.check_refill(
        details["medication"], chart, policy.get("refill_protocol"), today
    )
    details["controlled"] = verdict.controlled is not None
    details["protocol"] = verdict.to_wire(now)
    details["prescription"] = protocol.prescription_terms(active)
    details["decision"] = None
    return details


DUPLICATE_DAYS = 7  # a refill decided this recently makes a new request for it a duplicate


def duplicate_refill(
    session: Session, patient_id: str, medication: dict[str, Any], now: datetime
) -> str | None:
    """An earlier refill request of this patient for the same medication (RxNorm code, else
    name and strength) that is still open or was decided in the last 7 days: the new one is
    its duplicate (staff see the link; the patient is not told)."""
    from datetime import timedelta

    since = now - timedelta(days=DUPLICATE_DAYS)
    earlier = session.scalars(
        select(Item)
        .where(
            Item.patient_id == patient_id,
            Item.kind == Kind.REFILL.value,
            (Item.resolved_at.is_(None)) | (Item.resolved_at >= since),
            Item.status != Status.CANCELLED.value,
        )
        .order_by(Item.created_at)
    ).all()
    for item in earlier:
        if protocol.same_medication((item.details or {}).get("medication") or {}, medication):
            return item.id
    return None


def chart_of(patient: Patient) -> dict[str, Any]:
    """What the protocol reads of a patient's chart."""
    return {
        "medications": list(patient.medications or []),
        "allergies": patient.allergies if patient.allergies is not None else None,
        "last_visit_on": patient.last_visit_on,
        "labs": list(patient.labs or []),
    }


def practice_zone(policy: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(str(policy.get("timezone") or "UTC"))
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


class PatientPortal:
    def __init__(
        self,
        db: Database,
        rules: PracticeRules | None = None,
        limits: SendingLimits | None = None,
    ) -> None:
        self.db = db
        self.rules = rules or PracticeRules()
        self.limits = limits or SendingLimits()

    def _check_sending(self, session: Session, patient_id: str, now: datetime) -> None:
        """429 past the patient's sending limits (patient_limits.py), before anything is
        written; a message within them is always taken."""
        check_sending(session, self.limits, patient_id, now, self.rules.read(session)[0])

    def create(
        self, principal: Principal, request: NewPatientRequest, ip: str | None
    ) -> dict[str, Any]:
        try:
            requested = DETAIL_MODELS[request.kind].model_validate(request.details)
        except ValidationError as exc:
            raise invalid(
                f"The details of a {request.kind} request are not valid.",
                {"errors": validation_details(list(exc.errors()))},
            ) from None
        now = utcnow()
        with self.db.write() as session:
            patient = session.get(Patient, principal.id)
            if patient is None:
                raise ApiError(401, "unauthorized", "This account no longer exists.")
            self._check_sending(session, principal.id, now)
            if isinstance(requested, NewRefillDetails):
                details = refill_details(patient, requested, self.rules.read(session)[0], now)
                details["duplicate_of"] = duplicate_refill(
                    session, patient.id, details["medication"], now
                )
            else:
                details = {**requested.model_dump(mode="json"), "decision": None}
                if request.kind == Kind.MESSAGE:
                    details.pop("decision")
            # Everything the patient typed is screened: an appointment's reason too.
            screening = screen_message(request.subject, request.body, *patient_words(details))
            return self._file(
                session,
                patient,
                request.kind,
                request.subject,
                request.body,
                details,
                screening,
                now,
                ip,
            )

    def _file(
        self,
        session: Session,
        patient: Patient,
        kind: str,
        subject: str,
        body: str,
        details: dict[str, Any],
        screening: Screening,
        now: datetime,
        ip: str | None,
    ) -> dict[str, Any]:
        """A new request with its first message, screened; the receipt the patient gets."""
        item = Item(
            kind=str(kind),
            status=Status.NEW.value,
            priority=Priority.ROUTINE.value,
            queue=triage.initial_queue(kind, details).value,
            subject=subject,
            patient_id=patient.id,
            assignee_id=None,
            created_at=now,
            details=details,
        )
        mark_changed(session, item, now, new=True)
        session.add(item)
        session.flush()
        return self._take(
            session,
            item,
            body,
            screening,
            now,
            ip,
            follow_up=False,
            detail={"kind": str(kind), "red_flags": list(screening.categories)},
        )

    def _take(
        self,
        session: Session,
        item: Item,
        body: str,
        screening: Screening,
        now: datetime,
        ip: str | None,
        *,
        follow_up: bool,
        detail: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The patient's message on its item, what its red flags do, the audit record, and the
        receipt: the same for a new request and a follow-up."""
        policy, calendar = self.rules.read(session)
        add_entry(
            session,
            item,
            type=EntryType.PATIENT_MESSAGE.value,
            author_kind=AuthorKind.PATIENT.value,
            author_id=item.patient_id,
            body=body,
            data=red_flag_data(screening),
            at=now,
        )
        reply = raise_urgency(session, item, screening, policy, now, follow_up=follow_up)
        audit.append(
            session,
            actor_kind=AuthorKind.PATIENT.value,
            actor_id=item.patient_id,
            action="patient.message" if follow_up else "patient.request",
            item_id=item.id,
            patient_id=item.patient_id,
            ip=ip,
            detail=detail,
        )
        return {
            "item": patient_view(session, item),
            **receipt(policy, calendar, item, now, reply).to_wire(),
        }

    def practice(self) -> dict[str, Any]:
        """The public part of the policy (name, hours, how soon it answers, emergencies)."""
        with self.db.read() as session:
            policy, _calendar = self.rules.read(session)
        return public_practice(policy)

    def list(self, principal: Principal) -> list[dict[str, Any]]:
        with self.db.read() as session:
            items = list(
                session.scalars(
                    select(Item)
                    .where(Item.patient_id == principal.id)
                    .order_by(Item.created_at.desc())
                )
            )
            entries = entries_by_item(session, [i.id for i in items])
            return [patient_view(session, i, entries.get(i.id, ())) for i in items]

    def get(self, principal: Principal, item_id: str) -> dict[str, Any]:
        with self.db.read() as session:
            item = _own_item(session, principal, item_id)
            return patient_view(session, item)

    def message(
        self, principal: Principal, item_id: str, message: PatientMessage, ip: str | None
    ) -> dict[str, Any]:
        """A follow-up, screened like a new request: a red flag makes the item urgent again
        and announces it (every desktop syncs the change)."""
        now = utcnow()
        with self.db.write() as session:
            self._check_sending(session, principal.id, now)
            item = _own_item(session, principal, item_id, lock=True)
            earlier = [item.subject] + [
                e.body
                for e in load_entries(session, item.id)
                if e.type == EntryType.PATIENT_MESSAGE
            ]
            screening = screen_message(message.body, earlier=earlier)
            if item.status in CLOSED_STATUSES:
                if not screening.flagged:
                    raise ApiError(409, "closed", "This request is closed. Please start a new one.")
                # A red flag is never turned away: it starts a new urgent request.
                patient = session.get(Patient, principal.id)
                assert patient is not None
                return self._file(
                    session,
                    patient,
                    Kind.MESSAGE,
                    f"Follow-up: {item.subject}"[:300],
                    message.body,
                    {"category": MessageCategory.CLINICAL.value, "follows_up_on": item.id},
                    screening,
                    now,
                    ip,
                )
            if item.status == Status.WAITING_PATIENT:
                item.status = Status.OPEN.value
            mark_changed(session, item, now)
            return self._take(
                session,
                item,
                message.body,
                screening,
                now,
                ip,
                follow_up=True,
                detail={"red_flags": list(screening.categories)} if screening.flagged else None,
            )

    def cancel(self, principal: Principal, item_id: str, ip: str | None) -> dict[str, Any]:
        now = utcnow()
        with self.db.write() as session:
            item = _own_item(session, principal, item_id, lock=True)
            if item.status in CLOSED_STATUSES:
                raise ApiError(409, "closed", "This request is already closed.")
            item.status = Status.CANCELLED.value
            item.resolved_at = now
            add_entry(
                session,
                item,
                type="event",
                author_kind="patient",
                author_id=principal.id,
                body="Cancelled by the patient",
                data={"action": "patient_cancel"},
                at=now,
            )
            mark_changed(session, item, now)
            audit.append(
                session,
                actor_kind="patient",
                actor_id=principal.id,
                action="patient.cancel",
                item_id=item.id,
                patient_id=principal.id,
                ip=ip,
            )
            return patient_view(session, item)
