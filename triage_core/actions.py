"""Typed staff actions: frozen dataclasses, to and from their wire JSON.

`from_wire` is the one validator of an action body, for the service (a refusal becomes a 422
with the problems listed) and for the desktop (which reads its own outbox back). Fields are
declared once with their limits in `field(metadata=...)`; the OpenAPI schema is generated from
the same declarations (`json_schema`).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from .times import rfc3339
from .vocabulary import (
    AppointmentOutcome,
    DenialReason,
    Priority,
    Queue,
    RefillOutcome,
    Vocabulary,
    words,
)

TEXT_MAX = 50_000  # a reply or note
NOTE_MAX = 20_000  # a note that goes with another action


class ReplyThen(Vocabulary):
    WAITING_PATIENT = "waiting_patient"
    DONE = "done"


words(ReplyThen, {"waiting_patient": "then wait on the patient", "done": "then done"})


def _text(max_length: int, *, min_length: int = 0, default: Any = MISSING) -> Any:
    meta = {"min_length": min_length, "max_length": max_length}
    return field(default=default, metadata=meta)


def _number(ge: int, le: int) -> Any:
    return field(default=None, metadata={"ge": ge, "le": le})


@dataclass(frozen=True)
class Claim:
    TYPE: ClassVar[str] = "claim"
    force: bool = False


@dataclass(frozen=True)
class Release:
    TYPE: ClassVar[str] = "release"


@dataclass(frozen=True)
class Assign:
    TYPE: ClassVar[str] = "assign"
    assignee_id: str = _text(64, min_length=1)


@dataclass(frozen=True)
class Route:
    TYPE: ClassVar[str] = "route"
    queue: Queue
    note: str | None = _text(NOTE_MAX, default=None)


@dataclass(frozen=True)
class SetPriority:
    TYPE: ClassVar[str] = "set_priority"
    priority: Priority
    reason: str | None = _text(500, default=None)  # required to lower a red-flag item


@dataclass(frozen=True)
class Reply:
    TYPE: ClassVar[str] = "reply"
    body: str = _text(TEXT_MAX, min_length=1)
    then: ReplyThen | None = None


@dataclass(frozen=True)
class Note:
    TYPE: ClassVar[str] = "note"
    body: str = _text(TEXT_MAX, min_length=1)


@dataclass(frozen=True)
class WaitPatient:
    TYPE: ClassVar[str] = "wait_patient"


@dataclass(frozen=True)
class Resolve:
    TYPE: ClassVar[str] = "resolve"
    resolution: str | None = _text(NOTE_MAX, default=None)


@dataclass(frozen=True)
class Reopen:
    TYPE: ClassVar[str] = "reopen"


@dataclass(frozen=True)
class RefillDecision:
    TYPE: ClassVar[str] = "refill_decision"
    outcome: RefillOutcome
    quantity: int | None = _number(0, 1000)
    refills: int | None = _number(0, 12)
    message_to_patient: str | None = _text(TEXT_MAX, default=None)  # a staff_reply entry
    note: str | None = _text(NOTE_MAX, default=None)  # internal: an internal_note entry
    days_supply: int | None = _number(1, 400)
    sig: str | None = _text(500, default=None)
    reason: DenialReason | None = None  # why denied; a denial without one is `other`


@dataclass(frozen=True)
class AppointmentDecision:
    TYPE: ClassVar[str] = "appointment_decision"
    outcome: AppointmentOutcome
    starts_at: datetime | None = None
    message_to_patient: str | None = _text(TEXT_MAX, default=None)  # a staff_reply entry
    note: str | None = _text(NOTE_MAX, default=None)  # internal: an internal_note entry


Action = (
    Claim
    | Release
    | Assign
    | Route
    | SetPriority
    | Reply
    | Note
    | WaitPatient
    | Resolve
    | Reopen
    | RefillDecision
    | AppointmentDecision
)
ACTION_CLASSES: tuple[type[Action], ...] = (
    Claim,
    Release,
    Assign,
    Route,
    SetPriority,
    Reply,
    Note,
    WaitPatient,
    Resolve,
    Reopen,
    RefillDecision,
    AppointmentDecision,
)
BY_TYPE: dict[str, type[Action]] = {cls.TYPE: cls for cls in ACTION_CLASSES}
ACTION_TYPES = tuple(BY_TYPE)


class ActionInvalid(ValueError):
    """The body is not a valid action; `problems` lists where and why (never the input)."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


# ---- reading the wire ------------------------------------------------------------------------


def _problem(loc: str, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": [loc], "msg": msg, "type": kind}


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """`X | None` → (X, True); `X` → (X, False)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _convert(name: str, value: Any, annotation: Any, meta: Mapping[str, Any]) -> Any:
    """The field's value from JSON, or raise a problem dict (as a one-item list)."""
    kind, optional = _base_type(annotation)
    if value is None:
        if optional:
            return None
        raise _Bad(_problem(name, "Input should not be null", "missing"))
    if kind is bool:
        if not isinstance(value, bool):
            raise _Bad(_problem(name, "Input should be a valid boolean", "bool_type"))
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(_problem(name, "Input should be a valid integer", "int_type"))
        if value < meta.get("ge", value) or value > meta.get("le", value):
            limits = f"from {meta['ge']} to {meta['le']}"
            raise _Bad(_problem(name, f"Input should be {limits}", "out_of_range"))
        return value
    if kind is str:
        if not isinstance(value, str):
            raise _Bad(_problem(name, "Input should be a valid string", "string_type"))
        if len(value) < meta.get("min_length", 0):
            raise _Bad(_problem(name, "String should not be empty", "string_too_short"))
        if len(value) > meta.get("max_length", len(value)):
            limit = meta["max_length"]
            raise _Bad(_problem(name, f"String should have at most {limit} characters", "too_long"))
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise _Bad(_problem(name, "Input should be an RFC 3339 time", "datetime_type"))
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            problem = _problem(name, "Input should be an RFC 3339 time", "datetime_parsing")
            raise _Bad(problem) from None
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in kind)
            raise _Bad(_problem(name, f"Input should be one of {allowed}", "enum")) from None
    raise TypeError(f"unsupported field type {annotation!r}")  # a programming error


class _Bad(Exception):
    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["msg"])
        self.problem = problem


def from_wire(data: Any) -> Action:
    """The typed action of a JSON body (a dict), or `ActionInvalid`."""
    if not isinstance(data, Mapping) or "type" not in data:
        raise ActionInvalid("The body must be a JSON object with a 'type'.")
    kind = data["type"]
    cls = BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        allowed = ", ".join(ACTION_TYPES)
        raise ActionInvalid(
            f"Unknown action type {kind!r}; use one of {allowed}.",
            [_problem("type", "Unknown action type", "union_tag_invalid")],
        )
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    problems = [
        _problem(str(key), "Extra inputs are not permitted", "extra_forbidden")
        for key in data
        if key != "type" and key not in known
    ]
    values: dict[str, Any] = {}
    for spec in fields(cls):
        if spec.name not in data:
            if spec.default is MISSING:
                problems.append(_problem(spec.name, "Field required", "missing"))
            continue
        try:
            values[spec.name] = _convert(
                spec.name, data[spec.name], hints[spec.name], spec.metadata
            )
        except _Bad as bad:
            problems.append(bad.problem)
    if problems:
        raise ActionInvalid(f"The '{kind}' action is not valid.", problems)
    return cls(**values)


def to_wire(action: Action) -> dict[str, Any]:
    """The JSON body of an action (fields left at their defaults are left out)."""
    body: dict[str, Any] = {"type": action.TYPE}
    for spec in fields(action):
        value = getattr(action, spec.name)
        if spec.default is not MISSING and value == spec.default:
            continue
        if isinstance(value, datetime):
            value = rfc3339(value)
        elif isinstance(value, Enum):
            value = value.value
        body[spec.name] = value
    return body


# ---- the OpenAPI schema ----------------------------------------------------------------------


def _field_schema(annotation: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    kind, optional = _base_type(annotation)
    schema: dict[str, Any]
    if kind is bool:
        schema = {"type": "boolean"}
    elif kind is int:
        schema = {"type": "integer", "minimum": meta["ge"], "maximum": meta["le"]}
    elif kind is str:
        schema = {"type": "string", "maxLength": meta.get("max_length", 64)}
        if meta.get("min_length"):
            schema["minLength"] = meta["min_length"]
    elif kind is datetime:
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string", "enum": [m.value for m in kind]}
    return {"anyOf": [schema, {"type": "null"}]} if optional else schema


def schema_name(cls: type[Action]) -> str:
    return f"{cls.__name__}Action"


def json_schema() -> dict[str, Any]:
    """`{"Action": …, "<Name>Action": …}`: JSON Schemas of every action, for the OpenAPI."""
    definitions: dict[str, Any] = {}
    for cls in ACTION_CLASSES:
        hints = get_type_hints(cls)
        properties: dict[str, Any] = {"type": {"const": cls.TYPE, "type": "string"}}
        required = ["type"]
        for spec in fields(cls):
            properties[spec.name] = _field_schema(hints[spec.name], spec.metadata)
            if spec.default is MISSING:
                required.append(spec.name)
        definitions[schema_name(cls)] = {
            "title": schema_name(cls),
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    definitions["Action"] = {
        "oneOf": [{"$ref": f"#/components/schemas/{schema_name(c)}"} for c in ACTION_CLASSES],
        "discriminator": {
            "propertyName": "type",
            "mapping": {c.TYPE: f"#/components/schemas/{schema_name(c)}" for c in ACTION_CLASSES},
        },
    }
    return definitions


def user_text(action: Mapping[str, Any]) -> str | None:
    """Text the user wrote for this action (wire form), kept when it fails so it can be reused."""
    for key in ("body", "message_to_patient", "note", "resolution", "reason"):
        value = action.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def text_audience(action: Mapping[str, Any]) -> str:
    """Whom the text of `user_text` was written for: "patient" (a reply, a decision's
    message) or "internal" (anything else: notes, reasons, resolutions)."""
    if action.get("type") == Reply.TYPE:
        return "patient"
    message = action.get("message_to_patient")
    return "patient" if isinstance(message, str) and message.strip() else "internal"
