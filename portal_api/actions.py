"""Staff actions on items: validation, role and state rules, If-Match and idempotency.

Checks run in the contract's order: the item exists for the caller (404), the idempotency key
(400 missing, replay, 422 mismatch), the body and its fit to the item (422), the role (403),
If-Match (412), the item's state (409). Every response after the key check, success or
refusal, is remembered under (caller, key), so a retry after a lost reply gets the same answer
and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .auth import Principal
from .db import Database, rows_affected
from .errors import ApiError, forbidden, invalid, not_found, validation_details
from .items import add_entry, item_dict, load_entries, mark_changed
from .models import IdempotencyRecord, Item, Staff, rfc3339, utcnow
from .schemas import Action, ItemOut

ACTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Action)
ITEM_ADAPTER: TypeAdapter[ItemOut] = TypeAdapter(ItemOut)
CLOSED = ("done", "cancelled")
ALLOWED_ON_CLOSED = ("reopen", "note")
MAX_KEY_LENGTH = 200
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')

QUEUE_NAMES = {"front_desk": "front desk", "nursing": "nursing", "clinician": "clinician"}


@dataclass(frozen=True)
class ActionResult:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def json_item(item: Item, session: Session) -> dict[str, Any]:
    item_out = ITEM_ADAPTER.validate_python(item_dict(item, load_entries(session, item.id)))
    dumped: dict[str, Any] = ITEM_ADAPTER.dump_python(item_out, mode="json")
    return dumped


def request_fingerprint(item_id: str, raw_body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(raw_body), sort_keys=True, separators=(",", ":"))
        material = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        material = raw_body
    return hashlib.sha256(item_id.encode() + b"\n" + material).hexdigest()


class ActionService:
    def __init__(self, db: Database, idempotency_days: float = 8.0) -> None:
        self.db = db
        self.idempotency_days = idempotency_days

    def perform(
        self,
        principal: Principal,
        item_id: str,
        key: str | None,
        raw_body: bytes,
        if_match: str | None,
        ip: str | None,
    ) -> ActionResult:
        with self.db.read() as session:
            if session.get(Item, item_id) is None:
                raise not_found()
        if key is None or not key.strip():
            raise ApiError(400, "idempotency_key_missing", "An Idempotency-Key header is required.")
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(400, "malformed", f"Idempotency-Key is longer than {MAX_KEY_LENGTH}.")
        fingerprint = request_fingerprint(item_id, raw_body)
        replay = self._replay(principal, key, item_id, fingerprint)
        if replay is not None:
            return replay
        try:
            with self.db.write() as session:
                body = self._apply(session, principal, item_id, raw_body, if_match, ip)
                session.add(self._record(principal, key, item_id, fingerprint, 200, body))
                session.flush()
            return ActionResult(200, body)
        except ApiError as refusal:
            stored = self._store_refusal(principal, key, item_id, fingerprint, refusal)
            if stored is not None:
                return stored
            raise
        except IntegrityError:
            # The same key raced us and won; answer as its replay.
            replay = self._replay(principal, key, item_id, fingerprint)
            if replay is None:
                raise
            return replay

    # ---- idempotency -------------------------------------------------------------------------

    def _record(
        self,
        principal: Principal,
        key: str,
        item_id: str,
        fingerprint: str,
        status: int,
        body: dict[str, Any],
    ) -> IdempotencyRecord:
        return IdempotencyRecord(
            caller_kind=principal.kind,
            caller_id=principal.id,
            key=key,
            item_id=item_id,
            request_hash=fingerprint,
            status_code=status,
            response=body,
            created_at=utcnow(),
        )

    def _replay(
        self, principal: Principal, key: str, item_id: str, fingerprint: str
    ) -> ActionResult | None:
        with self.db.read() as session:
            record = session.get(IdempotencyRecord, (principal.kind, principal.id, key))
            if record is None:
                return None
            if record.item_id != item_id or record.request_hash != fingerprint:
                raise ApiError(
                    422,
                    "idempotency_mismatch",
                    "This Idempotency-Key was already used for a different request.",
                )
            return ActionResult(record.status_code, record.response, replayed=True)

    def _store_refusal(
        self, principal: Principal, key: str, item_id: str, fingerprint: str, refusal: ApiError
    ) -> ActionResult | None:
        if refusal.status >= 500 or refusal.code == "idempotency_mismatch":
            return None
        try:
            with self.db.write() as session:
                session.add(
                    self._record(
                        principal, key, item_id, fingerprint, refusal.status, refusal.body()
                    )
                )
        except IntegrityError:
            return self._replay(principal, key, item_id, fingerprint)
        return None

    def purge(self, now: datetime | None = None) -> int:
        cutoff = (now or utcnow()) - timedelta(days=self.idempotency_days)
        with self.db.write() as session:
            return rows_affected(
                session.execute(
                    delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
                )
            )

    # ---- the action itself -------------------------------------------------------------------

    def _apply(
        self,
        session: Session,
        principal: Principal,
        item_id: str,
        raw_body: bytes,
        if_match: str | None,
        ip: str | None,
    ) -> dict[str, Any]:
        item = session.get(Item, item_id, with_for_update=True)
        if item is None:
            raise not_found()
        action = parse_action(raw_body)
        check_fit(session, item, action)
        if action.type == "refill_decision" and principal.role != "clinician":
            raise forbidden("Only a clinician can approve, deny or modify a refill.")
        check_if_match(session, item, if_match)
        check_state(session, item, principal, action)
        now = utcnow()
        event_body, event_data = apply_action(session, item, principal, action, now)
        add_entry(
            session,
            item,
            type="event",
            author_kind="staff",
            author_id=principal.id,
            body=event_body,
            data={"action": action.type, **event_data},
            at=now,
        )
        mark_changed(session, item, now)
        audit.append(
            session,
            actor_kind="staff",
            actor_id=principal.id,
            action=f"item.{action.type}",
            item_id=item.id,
            patient_id=item.patient_id,
            ip=ip,
            detail={"version": item.version, **_audit_detail(event_data)},
        )
        session.flush()
        return {"item": json_item(item, session)}


def _audit_detail(event_data: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of an action: identifiers and choices, never free text."""
    return {k: v for k, v in event_data.items() if k not in ("note", "resolution", "body")}


def parse_action(raw_body: bytes) -> Any:
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed", "The request body is not valid JSON.") from None
    if not isinstance(data, dict) or "type" not in data:
        raise invalid("The body must be a JSON object with a 'type'.")
    try:
        return ACTION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise invalid(
            f"The '{data.get('type')}' action is not valid.",
            {"errors": validation_details(list(exc.errors()))},
        ) from None


def check_fit(session: Session, item: Item, action: Any) -> None:
    if action.type == "refill_decision" and item.kind != "refill":
        raise invalid("A refill decision applies to refill requests only.")
    if action.type == "appointment_decision" and item.kind != "appointment":
        raise invalid("An appointment decision applies to appointment requests only.")
    if (
        action.type == "refill_decision"
        and action.outcome == "modified"
        and (action.quantity is None and action.refills is None)
    ):
        raise invalid("A modified refill needs a quantity or a number of refills.")
    if action.type == "appointment_decision" and action.outcome == "confirmed":
        change = (item.details or {}).get("change")
        if change != "cancel" and action.starts_at is None:
            raise invalid("Confirming an appointment needs its new time (starts_at).")
        if action.starts_at is not None and action.starts_at.tzinfo is None:
            raise invalid("starts_at needs a time zone (use Z for UTC).")
    if action.type == "assign":
        staff = session.get(Staff, action.assignee_id)
        if staff is None or not staff.active:
            raise invalid("The assignee is not an active staff member.")


def check_if_match(session: Session, item: Item, if_match: str | None) -> None:
    if if_match is None:
        return
    match = _IF_MATCH.match(if_match)
    if match is None:
        raise ApiError(400, "malformed", 'If-Match must be a version in quotes, like "3".')
    if int(match.group(1)) != item.version:
        raise ApiError(
            412,
            "precondition_failed",
            "The item changed since you loaded it.",
            {"item": json_item(item, session), "current_version": item.version},
        )


def check_state(session: Session, item: Item, principal: Principal, action: Any) -> None:
    if item.status in CLOSED and action.type not in ALLOWED_ON_CLOSED:
        raise ApiError(
            409,
            "closed",
            f"This item is {item.status}; reopen it first.",
            {"item": json_item(item, session)},
        )
    if action.type == "reopen" and item.status not in CLOSED:
        raise ApiError(
            409, "not_closed", "This item is not closed.", {"item": json_item(item, session)}
        )
    if action.type == "claim" and item.assignee_id not in (None, principal.id) and not action.force:
        raise ApiError(
            409,
            "claimed",
            "Someone else has claimed this item.",
            {"assignee_id": item.assignee_id, "item": json_item(item, session)},
        )


def _close(item: Item, now: datetime) -> None:
    item.status = "done"
    item.resolved_at = now


def apply_action(
    session: Session, item: Item, principal: Principal, action: Any, now: datetime
) -> tuple[str, dict[str, Any]]:
    """Change the item; return the event line and its data."""
    kind = action.type
    if kind == "claim":
        previous = item.assignee_id
        item.assignee_id = principal.id
        if item.status == "new":
            item.status = "open"
        return "Claimed", {"assignee_id": principal.id, "previous_assignee_id": previous}
    if kind == "release":
        previous = item.assignee_id
        item.assignee_id = None
        return "Released", {"previous_assignee_id": previous}
    if kind == "assign":
        item.assignee_id = action.assignee_id
        return "Assigned", {"assignee_id": action.assignee_id}
    if kind == "route":
        previous_queue = item.queue
        item.queue = action.queue
        item.assignee_id = None
        data: dict[str, Any] = {"from": previous_queue, "to": action.queue}
        if action.note:
            data["note"] = action.note
        return f"Routed to {QUEUE_NAMES[action.queue]}", data
    if kind == "set_priority":
        previous_priority = item.priority
        item.priority = action.priority
        return f"Priority set to {action.priority}", {
            "from": previous_priority,
            "to": action.priority,
        }
    if kind == "reply":
        reply = add_entry(
            session,
            item,
            type="staff_reply",
            author_kind="staff",
            author_id=principal.id,
            body=action.body,
            at=now,
        )
        if item.first_response_at is None:
            item.first_response_at = now
        if action.then == "done":
            _close(item, now)
        elif action.then == "waiting_patient":
            item.status = "waiting_patient"
        elif item.status == "new":
            item.status = "open"
        return "Replied", {"entry_id": reply.id, "then": action.then}
    if kind == "note":
        note = add_entry(
            session,
            item,
            type="internal_note",
            author_kind="staff",
            author_id=principal.id,
            body=action.body,
            at=now,
        )
        return "Added a note", {"entry_id": note.id}
    if kind == "wait_patient":
        item.status = "waiting_patient"
        return "Waiting on patient", {}
    if kind == "resolve":
        _close(item, now)
        return "Marked done", {"resolution": action.resolution} if action.resolution else {}
    if kind == "reopen":
        previous_status = item.status
        item.status = "open"
        item.resolved_at = None
        return "Reopened", {"from": previous_status}
    if kind == "refill_decision":
        decision = {
            "outcome": action.outcome,
            "quantity": action.quantity,
            "refills": action.refills,
            "note": action.note,
            "decided_by": principal.id,
            "decided_at": rfc3339(now),
        }
        item.details = {**(item.details or {}), "decision": decision}
        if item.first_response_at is None:
            item.first_response_at = now
        _close(item, now)
        return f"Refill {action.outcome}", {
            "outcome": action.outcome,
            "quantity": action.quantity,
            "refills": action.refills,
        }
    if kind == "appointment_decision":
        starts_at = rfc3339(action.starts_at) if action.starts_at else None
        decision = {
            "outcome": action.outcome,
            "starts_at": starts_at,
            "note": action.note,
            "decided_by": principal.id,
            "decided_at": rfc3339(now),
        }
        item.details = {**(item.details or {}), "decision": decision}
        if item.first_response_at is None:
            item.first_response_at = now
        _close(item, now)
        return f"Appointment {action.outcome}", {"outcome": action.outcome, "starts_at": starts_at}
    raise invalid(f"Unknown action type {kind!r}.")  # unreachable: the adapter refuses it
