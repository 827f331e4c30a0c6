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
from enum import Enum
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage_core import disclosure, permissions
from triage_core.actions import Action, ActionInvalid, Assign, RefillDecision, from_wire
from triage_core.permissions import Actor, Decision
from triage_core.state_machine import FREE_TEXT_KEYS, plain_data, transition, written_entry_ids
from triage_core.vocabulary import DenialReason, EntryType, Kind, Priority, Queue, Status

from . import audit
from .auth import Principal
from .db import Database, rows_affected
from .errors import ApiError, invalid, not_found
from .items import (
    add_entry,
    add_system_entry,
    item_dict,
    item_state,
    load_entries,
    mark_changed,
)
from .models import IdempotencyRecord, Item, Staff, utcnow
from .schemas import ItemOut

ITEM_ADAPTER: TypeAdapter[ItemOut] = TypeAdapter(ItemOut)
MAX_KEY_LENGTH = 200
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')


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
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Not JSON (or nested too deep to parse): the bytes themselves; parse_action refuses.
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
                body["item"] = as_seen_by(principal, body["item"])
                session.add(self._record(principal, key, item_id, fingerprint, 200, body))
                session.flush()
            return ActionResult(200, body)
        except ApiError as refusal:
            if isinstance(refusal.details.get("item"), dict):
                refusal.details["item"] = as_seen_by(principal, refusal.details["item"])
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
        """The core decides (fit, role, state) and says what changes; this applies it to the
        row, in the contract's order of refusals: 422, 403, 412, 409."""
        item = session.get(Item, item_id, with_for_update=True)
        if item is None:
            raise not_found()
        action = parse_action(raw_body)
        state = item_state(item, load_entries(session, item.id))
        actor = Actor(principal.id, principal.role or "")
        refuse(permissions.fits(state, action), session, item)
        if isinstance(action, Assign):
            staff = session.get(Staff, action.assignee_id)
            if staff is None or not staff.active:
                raise invalid("The assignee is not an active staff member.")
        refuse(permissions.role_allows(actor, action), session, item)
        check_if_match(session, item, if_match)
        refuse(permissions.state_allows(actor, state, action), session, item)
        now = utcnow()
        change = transition(state, action, actor, now)
        for name, value in change.changes.items():
            setattr(item, name, column_value(value))
        if "priority" in change.changes and change.changes["priority"] != state["priority"]:
            # Escalation counts from the moment an item became urgent.
            item.urgent_since = now if item.priority == Priority.URGENT else None
        written_ids = [
            add_entry(
                session,
                item,
                type=written.type.value,
                author_kind="staff",
                author_id=principal.id,
                body=written.body,
                at=now,
            ).id
            for written in change.entries
        ]
        event_data = plain_data(change.event.data) | written_entry_ids(written_ids)
        add_entry(
            session,
            item,
            type=change.event.type.value,
            author_kind="staff",
            author_id=principal.id,
            body=change.event.body,
            data=event_data,
            at=now,
        )
        mark_changed(session, item, now)
        if (
            isinstance(action, RefillDecision)
            and item.details.get("decision", {}).get("reason") == DenialReason.NEEDS_VISIT
        ):
            visit_for_denied_refill(session, item, now)
        audit.append(
            session,
            actor_kind="staff",
            actor_id=principal.id,
            action=f"item.{action.TYPE}",
            item_id=item.id,
            patient_id=item.patient_id,
            ip=ip,
            detail={"version": item.version, **_audit_detail(event_data)},
        )
        session.flush()
        return {"item": json_item(item, session)}


def visit_for_denied_refill(session: Session, refill: Item, now: datetime) -> Item:
    """A refill denied because the patient needs a visit opens an appointment request for the
    front desk (`details.follows_up_on` names the refill), so booking the visit is somebody's
    work, not the patient's memory. Its first entry is the service's own, saying why."""
    medication = (refill.details or {}).get("medication") or {}
    what = " ".join(p for p in (medication.get("name"), medication.get("strength")) if p)
    details: dict[str, Any] = {
        "change": "new",
        "current_appointment": None,
        "preferred_times": [],
        "reason": f"A visit is needed before {what or 'the medication'} can be refilled.",
        "decision": None,
        "follows_up_on": refill.id,
    }
    visit = Item(
        kind=Kind.APPOINTMENT.value,
        status=Status.NEW.value,
        priority=Priority.ROUTINE.value,
        queue=Queue.FRONT_DESK.value,
        subject=f"Visit needed: {what}".strip(),
        patient_id=refill.patient_id,
        assignee_id=None,
        created_at=now,
        details=details,
    )
    mark_changed(session, visit, now, new=True)
    session.add(visit)
    session.flush()
    add_system_entry(
        session,
        visit,
        type=EntryType.EVENT.value,
        body="Opened because a refill was denied: the patient needs a visit",
        data={"action": "visit_needed", "refill_id": refill.id},
        at=now,
    )
    return visit


def as_seen_by(principal: Principal, item: dict[str, Any]) -> dict[str, Any]:
    """An item in an answer as this person receives it: in full, or as a header when it is
    not their role's work (acting on it, e.g. routing it on, does not open it)."""
    if disclosure.in_full(principal.role, principal.id, item):
        return item
    return disclosure.header(item)


def column_value(value: Any) -> Any:
    """Enums go to the database as their plain wire strings."""
    return value.value if isinstance(value, Enum) else value


def _audit_detail(event_data: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of an action: identifiers and choices, never free text."""
    return {k: v for k, v in event_data.items() if k not in FREE_TEXT_KEYS and k != "action"}


def parse_action(raw_body: bytes) -> Action:
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "malformed", "The request body is not valid JSON.") from None
    try:
        return from_wire(data)
    except ActionInvalid as exc:
        raise invalid(exc.message, {"errors": exc.problems} if exc.problems else None) from None


def refuse(decision: Decision, session: Session, item: Item) -> None:
    """Raise the core's refusal as the API error it answers with."""
    if decision:
        return
    details: dict[str, Any] = {}
    if decision.status == 409:
        if decision.code == "claimed":
            details["assignee_id"] = item.assignee_id
        details["item"] = json_item(item, session)
    raise ApiError(decision.status, decision.code, decision.reason, details)


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
