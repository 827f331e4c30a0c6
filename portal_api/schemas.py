"""Typed request and response models: they drive validation, serialisation and the OpenAPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from triage_core.sessions import (
    IDLE_LOCK_MAX_MINUTES,
    IDLE_LOCK_MINUTES,
    SESSION_IDLE_HOURS,
    SESSION_IDLE_MAX_HOURS,
)
from triage_core.vocabulary import (
    AppointmentChange,
    AppointmentOutcome,
    AuthorKind,
    DenialReason,
    EntryType,
    Kind,
    MessageCategory,
    Priority,
    Queue,
    RefillOutcome,
    Role,
    Status,
)

Text = Annotated[str, StringConstraints(min_length=1, max_length=50_000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- auth ------------------------------------------------------------------------------------


class LoginRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RefreshRequest(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class StaffOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: Role


class StaffWithActive(StaffOut):
    active: bool


class StaffList(BaseModel):
    staff: list[StaffWithActive]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class StaffTokens(TokenPair):
    user: StaffOut


class PatientAccount(BaseModel):
    id: str
    given_name: str
    family_name: str


class PatientTokens(TokenPair):
    user: PatientAccount


# ---- items -----------------------------------------------------------------------------------


class Author(BaseModel):
    kind: AuthorKind
    id: str | None


class EntryOut(BaseModel):
    id: str
    type: EntryType
    author: Author
    body: str
    created_at: datetime
    data: dict[str, Any]


class Medication(BaseModel):
    name: str
    strength: str
    form: str
    sig: str
    rxnorm: str | None = Field(
        None, description="RxNorm code, when known: matched to the active prescription first"
    )


class RefillDecision(BaseModel):
    outcome: RefillOutcome
    quantity: int | None = None
    refills: int | None = None
    note: str | None = Field(None, description="decisions before 2026-11: the internal note")
    decided_by: str
    decided_at: datetime


class RefillDetails(BaseModel):
    medication: Medication
    quantity_requested: int | None = None
    pharmacy: str | None = None
    last_filled_on: date | None = None
    controlled: bool = False
    decision: RefillDecision | None = None


class CurrentAppointment(BaseModel):
    starts_at: datetime
    provider: str
    type: str


class AppointmentDecision(BaseModel):
    outcome: AppointmentOutcome
    starts_at: datetime | None = None
    note: str | None = Field(None, description="decisions before 2026-11: the internal note")
    decided_by: str
    decided_at: datetime


class AppointmentDetails(BaseModel):
    change: AppointmentChange
    current_appointment: CurrentAppointment | None = None
    preferred_times: list[str] = Field(default_factory=list)
    reason: str | None = None
    decision: AppointmentDecision | None = None


class MessageDetails(BaseModel):
    category: MessageCategory


Details = RefillDetails | AppointmentDetails | MessageDetails


class ClockMark(BaseModel):
    at: datetime
    kind: Literal["response", "pause", "resume", "done", "reopen"]


class ItemOut(BaseModel):
    id: str
    kind: Kind
    status: Status
    priority: Priority
    queue: Queue
    subject: str
    patient_id: str
    assignee_id: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    version: int
    details: dict[str, Any] = Field(
        description="by kind: RefillDetails, AppointmentDetails or MessageDetails"
    )
    entries: list[EntryOut]
    restricted: bool = Field(
        False,
        description="true: a header only for this caller's role (entries empty); "
        "open it in full with GET /items/{id}?reason=...",
    )
    clock_marks: list[ClockMark] | None = Field(
        None, description="headers only: what the response clocks need (entries are empty)"
    )
    red_flag_categories: list[str] | None = Field(
        None, description="headers only: the categories of the item's red flags (no words)"
    )


class ItemEnvelope(BaseModel):
    item: ItemOut


class PatientOut(BaseModel):
    id: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    phone: str | None
    email: str | None
    medications: list[dict[str, Any]] | None = Field(
        None, description="left out for a patient whose items reach this caller as headers only"
    )
    allergies: list[Any] | None = Field(None, description="left out like medications")
    labs: list[dict[str, Any]] | None = Field(
        None,
        description="lab results from the EHR ({loinc, name, date, value, unit}); "
        "left out like medications",
    )
    last_visit_on: date | None
    pcp_id: str | None


class SyncPage(BaseModel):
    items: list[ItemOut]
    patients: list[PatientOut]
    cursor: str
    has_more: bool


# ---- patient view ----------------------------------------------------------------------------


class StaffShownToPatient(BaseModel):
    kind: Literal[AuthorKind.STAFF]
    id: None = Field(description="never a staff id in the patient view")
    display_name: str = Field(description="the staff member as patients see them")


class PatientEntryOut(BaseModel):
    id: str
    type: Literal[EntryType.PATIENT_MESSAGE, EntryType.STAFF_REPLY]
    author: StaffShownToPatient | Author = Field(
        description='staff: {"kind": "staff", "id": null, "display_name"}; the patient: '
        'their own id; {"kind": "system", "id": null} for automatic replies'
    )
    body: str
    created_at: datetime


class PatientItemOut(BaseModel):
    id: str
    kind: Kind
    status: Status
    subject: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    details: dict[str, Any]
    entries: list[PatientEntryOut]


class PatientItemEnvelope(BaseModel):
    item: PatientItemOut


class PatientReceipt(BaseModel):
    """The answer to a patient's new request or message."""

    item: PatientItemOut
    expected_reply_by: datetime | None = Field(
        description="when the practice expects to reply, from its live policy"
    )
    safety_message: str | None = Field(
        description="the automatic safety reply when the text has red flags, else null"
    )
    reply_promise: str | None = Field(description='e.g. "We expect to reply by Tuesday …"')
    emergency_guidance: str


class ResponseTarget(BaseModel):
    kind: Kind
    priority: Priority
    first_reply: str


class PracticeInfo(BaseModel):
    name: str
    timezone: str
    business_hours: dict[str, list[list[str]]]
    closed_dates: list[str]
    response_targets: list[ResponseTarget]
    emergency_guidance: str


class PatientItemList(BaseModel):
    items: list[PatientItemOut]


class NewRefillDetails(Strict):
    medication: Medication
    quantity_requested: Annotated[int, Field(ge=1, le=1000)] | None = None
    pharmacy: Annotated[str, StringConstraints(max_length=300)] | None = None


class NewAppointmentDetails(Strict):
    change: AppointmentChange
    current_appointment: CurrentAppointment | None = None
    preferred_times: Annotated[list[ShortText], Field(max_length=10)] = Field(default_factory=list)
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class NewMessageDetails(Strict):
    category: MessageCategory = MessageCategory.OTHER


class NewPatientRequest(Strict):
    kind: Kind
    subject: ShortText
    body: Text
    details: dict[str, Any] = Field(default_factory=dict)


class PatientMessage(Strict):
    body: Text


# ---- policy and audit ------------------------------------------------------------------------


class Target(Strict):
    hours: Annotated[float, Field(gt=0, le=24 * 365)]
    business: bool


class ClockTargets(Strict):
    first_response: Target | None = None
    resolution: Target | None = None


class Holidays(Strict):
    country: Annotated[str, StringConstraints(min_length=2, max_length=3)] | None = None
    subdivision: Annotated[str, StringConstraints(max_length=10)] | None = None
    closed: list[date] = Field(default_factory=list)


class Template(Strict):
    id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    title: ShortText
    kinds: list[Kind]
    body: Text
    denial_reason: DenialReason | None = Field(
        None, description="a refill denial's message to the patient for this reason"
    )


HHMM = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class CutOff(Strict):
    """Requests of this kind after `after` (practice time) count from the next open time."""

    after: HHMM


class EscalationRules(Strict):
    """An urgent item nobody has claimed within these minutes goes to the on-call clinician."""

    unclaimed_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15


StaffId = Annotated[str, StringConstraints(min_length=1, max_length=36)]


class OnCallShift(Strict):
    starts: date  # practice dates, both days included
    ends: date
    staff_id: StaffId


class OnCall(Strict):
    default: StaffId | None = None  # when no shift of the rota covers the day
    rota: list[OnCallShift] = Field(default_factory=list)


ReplyText = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]


class LabNeed(Strict):
    name: ShortText
    loinc: list[Annotated[str, StringConstraints(min_length=1, max_length=20)]] = Field(
        default_factory=list
    )
    within_months: Annotated[float, Field(gt=0, le=120)] = 12


class RefillProtocolRules(Strict):
    visit_within_months: Annotated[float, Field(gt=0, le=120)] = 12
    early_fraction: Annotated[float, Field(ge=0, le=1)] = 0.75
    labs: dict[str, list[LabNeed]] | None = Field(
        None, description="by medication class; left out: the built-in lab rules"
    )
    high_risk_pairs: list[tuple[ShortText, ShortText]] | None = Field(
        None, description="pairs of medication classes; left out: the built-in pairs"
    )


class PolicyDoc(Strict):
    name: ShortText
    timezone: ShortText
    business_hours: dict[Weekday, list[tuple[HHMM, HHMM]]]
    holidays: Holidays
    sla: dict[Kind, dict[Priority, ClockTargets]]
    at_risk_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.75
    templates: list[Template] = Field(default_factory=list)
    cutoffs: dict[Kind, CutOff] = Field(default_factory=dict)
    # The automatic reply to a red flag, by reply group (emergency, suicide, poison) or by
    # category; what is not given here is the built-in text.
    safety_replies: dict[str, ReplyText] = Field(default_factory=dict)
    emergency_guidance: ReplyText | None = None  # "messages are not for emergencies ..."
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    on_call: OnCall = Field(default_factory=OnCall)
    # The unattended PC: the desktop locks after these idle minutes (HIPAA automatic logoff),
    # and a login whose refresh token goes unused this many hours ends.
    # The refill protocol's rules (triage_core/protocol.py DEFAULT_RULES for the shape);
    # what is not given is the default.
    refill_protocol: RefillProtocolRules | None = None
    idle_lock_minutes: Annotated[int, Field(ge=1, le=IDLE_LOCK_MAX_MINUTES)] = IDLE_LOCK_MINUTES
    session_idle_hours: Annotated[int, Field(ge=1, le=SESSION_IDLE_MAX_HOURS)] = SESSION_IDLE_HOURS


class Actor(BaseModel):
    kind: Literal["staff", "patient", "anonymous", "system"]
    id: str | None


class AuditEventOut(BaseModel):
    seq: int = Field(description="Position in the chain; pass as before_seq to page back")
    at: datetime
    actor: Actor
    action: str
    item_id: str | None
    patient_id: str | None
    ip: str | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    events: list[AuditEventOut]
    next_before_seq: int | None = Field(
        default=None, description="Older events match: ask again with before_seq=this"
    )


class AuditChain(BaseModel):
    """The hash chain walked from its first event (`portal-api audit verify` over HTTP)."""

    intact: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


# ---- views recorded by desktops, the patient's access log -------------------------------------


class RecordedViewIn(Strict):
    id: UUID = Field(description="made by the desktop when the item was opened; replays are no-ops")
    item_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    viewed_at: AwareDatetime


class RecordedViews(Strict):
    views: Annotated[list[RecordedViewIn], Field(min_length=1, max_length=500)]


class RecordedViewsReceipt(BaseModel):
    recorded: int = Field(description="views new to the service")
    already_recorded: int = Field(description="view ids it had already recorded")


class AccessLogStaff(BaseModel):
    display_name: str
    role: Role


class AccessLogEvent(BaseModel):
    at: datetime
    staff: AccessLogStaff
    action: Literal["viewed", "acted", "break_the_glass"]


class AccessLog(BaseModel):
    events: list[AccessLogEvent]
