"""The words of the domain, declared once: kinds, statuses, priorities, queues, roles, entry
types, and how staff read each of them.

Every enum is a `StrEnum`, so a member equals its wire string (`Status.DONE == "done"`) and
JSON carries the plain value. `describe(value)` gives the staff-facing word and tolerates a
value it does not know (a newer server may send one), returning it as written.
"""

from __future__ import annotations

from enum import StrEnum

_WORDS: dict[str, dict[str, str]] = {}


class Vocabulary(StrEnum):
    """A wire value with a word for staff (given by `words` below each subclass)."""

    @property
    def word(self) -> str:
        return _WORDS[type(self).__name__][str(self)]

    @classmethod
    def describe(cls, value: str | None) -> str:
        if value is None:
            return ""
        return _WORDS[cls.__name__].get(str(value), str(value))

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(str(member) for member in cls)


def words(vocabulary: type[Vocabulary], staff_words: dict[str, str]) -> None:
    """Declare the staff-facing word of every value of a vocabulary."""
    missing = set(vocabulary.values()) - set(staff_words)
    if missing:
        raise ValueError(f"{vocabulary.__name__}: no words for {sorted(missing)}")
    _WORDS[vocabulary.__name__] = staff_words


class Kind(Vocabulary):
    REFILL = "refill"
    APPOINTMENT = "appointment"
    MESSAGE = "message"


words(Kind, {"refill": "Refill", "appointment": "Appointment", "message": "Message"})


class Status(Vocabulary):
    NEW = "new"
    OPEN = "open"
    WAITING_PATIENT = "waiting_patient"
    DONE = "done"
    CANCELLED = "cancelled"


words(
    Status,
    {
        "new": "New",
        "open": "Open",
        "waiting_patient": "Waiting on patient",
        "done": "Done",
        "cancelled": "Cancelled",
    },
)


class Priority(Vocabulary):
    ROUTINE = "routine"
    URGENT = "urgent"


words(Priority, {"routine": "Routine", "urgent": "Urgent"})


class Queue(Vocabulary):
    FRONT_DESK = "front_desk"
    NURSING = "nursing"
    CLINICIAN = "clinician"


words(Queue, {"front_desk": "Front desk", "nursing": "Nursing", "clinician": "Clinician"})


class Role(Vocabulary):
    FRONT_DESK = "front_desk"
    NURSE = "nurse"
    CLINICIAN = "clinician"
    ADMIN = "admin"


words(
    Role,
    {
        "front_desk": "front desk",
        "nurse": "nurse",
        "clinician": "clinician",
        "admin": "administrator",
    },
)


class EntryType(Vocabulary):
    PATIENT_MESSAGE = "patient_message"
    STAFF_REPLY = "staff_reply"
    INTERNAL_NOTE = "internal_note"
    EVENT = "event"


words(
    EntryType,
    {
        "patient_message": "Patient message",
        "staff_reply": "Reply",
        "internal_note": "Internal note",
        "event": "Event",
    },
)


class AuthorKind(Vocabulary):
    PATIENT = "patient"
    STAFF = "staff"
    SYSTEM = "system"


words(AuthorKind, {"patient": "Patient", "staff": "Staff", "system": "Triage Desk"})


class MessageCategory(Vocabulary):
    CLINICAL = "clinical"
    BILLING = "billing"
    RECORDS = "records"
    OTHER = "other"


words(
    MessageCategory,
    {
        "clinical": "Clinical",
        "billing": "Billing",
        "records": "Records",
        "other": "Other",
    },
)


class AppointmentChange(Vocabulary):
    NEW = "new"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


words(AppointmentChange, {"new": "New visit", "reschedule": "Reschedule", "cancel": "Cancel"})


class RefillOutcome(Vocabulary):
    APPROVED = "approved"
    DENIED = "denied"
    MODIFIED = "modified"


words(RefillOutcome, {"approved": "approved", "denied": "denied", "modified": "modified"})


class DenialReason(Vocabulary):
    """Why a refill is denied (the desktop always asks; a v1 client's denial is `other`)."""

    NEEDS_VISIT = "needs_visit"
    NEEDS_LABS = "needs_labs"
    TOO_EARLY = "too_early"
    DISCONTINUED = "discontinued"
    SENT_ELSEWHERE = "sent_elsewhere"
    OTHER = "other"


words(
    DenialReason,
    {
        "needs_visit": "Needs a visit",
        "needs_labs": "Needs labs",
        "too_early": "Too early",
        "discontinued": "Discontinued",
        "sent_elsewhere": "Sent elsewhere",
        "other": "Other",
    },
)


class AppointmentOutcome(Vocabulary):
    CONFIRMED = "confirmed"
    DECLINED = "declined"


words(AppointmentOutcome, {"confirmed": "confirmed", "declined": "declined"})


class RedFlagCategory(Vocabulary):
    """What a red flag in a patient's words may be (picks the safety reply; shown to staff)."""

    CARDIAC = "cardiac"
    COLLAPSE = "collapse"
    STROKE = "stroke"
    VISION_LOSS = "vision_loss"
    BREATHING = "breathing"
    SUICIDE = "suicide"
    OVERDOSE_POISONING = "overdose_poisoning"
    ANAPHYLAXIS = "anaphylaxis"
    SEVERE_BLEEDING = "severe_bleeding"
    GI_BLEEDING = "gi_bleeding"
    SEPSIS_MENINGITIS = "sepsis_meningitis"
    HEAD_INJURY = "head_injury"
    ABDOMINAL = "abdominal"
    SEVERE_PAIN = "severe_pain"
    FALL_DEFORMITY = "fall_deformity"
    INFANT = "infant"
    VITAL_SIGNS = "vital_signs"
    UNSPECIFIED = "unspecified"


words(
    RedFlagCategory,
    {
        "cardiac": "heart symptoms",
        "collapse": "collapse or fainting",
        "stroke": "stroke signs",
        "vision_loss": "sudden vision loss",
        "breathing": "breathing trouble",
        "suicide": "suicide or self-harm",
        "overdose_poisoning": "ingestion, overdose or poisoning",
        "anaphylaxis": "severe allergic reaction",
        "severe_bleeding": "heavy bleeding",
        "gi_bleeding": "GI bleeding",
        "sepsis_meningitis": "sepsis or meningitis signs",
        "head_injury": "head injury",
        "abdominal": "severe abdominal pain",
        "severe_pain": "severe pain",
        "fall_deformity": "fall with injury",
        "infant": "sick infant",
        "vital_signs": "dangerous reading",
        "unspecified": "emergency words",
    },
)


CLOSED_STATUSES = frozenset({Status.DONE, Status.CANCELLED})
# In a queue's worklist: new and open items (waiting ones wait on the patient).
WORKLIST_STATUSES = frozenset({Status.NEW, Status.OPEN})
ACTIVE_STATUSES = frozenset({Status.NEW, Status.OPEN, Status.WAITING_PATIENT})
PATIENT_VISIBLE_ENTRIES = frozenset({EntryType.PATIENT_MESSAGE, EntryType.STAFF_REPLY})

# The queue whose work each role does (an administrator has none).
ROLE_QUEUE: dict[Role, Queue] = {
    Role.FRONT_DESK: Queue.FRONT_DESK,
    Role.NURSE: Queue.NURSING,
    Role.CLINICIAN: Queue.CLINICIAN,
}


def is_closed(status: str | None) -> bool:
    return status in CLOSED_STATUSES
