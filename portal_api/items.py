"""Items as the API shows them, and the helpers every change to an item goes through."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from triage_core.state_machine import MUTABLE_FIELDS
from triage_core.vocabulary import PATIENT_VISIBLE_ENTRIES, AuthorKind

from . import changes
from .models import Entry, Item, Staff, utcnow

CHANGE_CHANNEL = "portal_changes"


def entry_dict(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "type": entry.type,
        "author": {"kind": entry.author_kind, "id": entry.author_id},
        "body": entry.body,
        "created_at": entry.created_at,
        "data": entry.data or {},
    }


def item_dict(item: Any, entries: Iterable[Any]) -> dict[str, Any]:
    """The staff view of an item (the contract's `Item`), from an ORM object or a row."""
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "priority": item.priority,
        "queue": item.queue,
        "subject": item.subject,
        "patient_id": item.patient_id,
        "assignee_id": item.assignee_id,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "first_response_at": item.first_response_at,
        "resolved_at": item.resolved_at,
        "version": item.version,
        "details": item.details or {},
        "entries": [entry_dict(e) for e in entries],
        "restricted": False,
    }


def item_state(item: Item, entries: Iterable[Any]) -> dict[str, Any]:
    """What the domain core's rules read of an item: its kind, every field they change, and
    its entries' types and data (red flags live there)."""
    return {
        "kind": item.kind,
        **{name: getattr(item, name) for name in MUTABLE_FIELDS},
        "entries": [{"type": e.type, "data": e.data or {}} for e in entries],
    }


def patient_item_dict(
    item: Any, entries: Iterable[Any], staff_names: Mapping[str, str]
) -> dict[str, Any]:
    """What the patient sees: no queue, priority, assignee, version, notes or events, no staff
    ids (staff are named as they are shown to patients), and of a decision only its outcome."""
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "subject": item.subject,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "first_response_at": item.first_response_at,
        "resolved_at": item.resolved_at,
        "details": patient_details(item.details or {}, staff_names),
        "entries": [
            {
                "id": e.id,
                "type": e.type,
                "author": _patient_author(e, staff_names),
                "body": e.body,
                "created_at": e.created_at,
            }
            for e in entries
            if e.type in PATIENT_VISIBLE_ENTRIES
        ],
    }


# What a patient sees of a decision: what was decided and when, never the internal note or
# the staff member's id.
PATIENT_DECISION_KEYS = (
    "outcome",
    "quantity",
    "refills",
    "days_supply",
    "sig",
    "reason",
    "starts_at",
    "decided_at",
)


# Staff-only facts in a request's details: the protocol pre-check, the prescription's terms and
# the earlier request this one duplicates.
STAFF_ONLY_DETAILS = ("protocol", "prescription", "duplicate_of")


def patient_details(details: Mapping[str, Any], staff_names: Mapping[str, str]) -> dict[str, Any]:
    shown = {key: value for key, value in details.items() if key not in STAFF_ONLY_DETAILS}
    decision = details.get("decision")
    if isinstance(decision, Mapping):
        shown["decision"] = {k: decision.get(k) for k in PATIENT_DECISION_KEYS if k in decision}
        shown["decision"]["decided_by_name"] = staff_names.get(
            str(decision.get("decided_by")), PRACTICE_STAFF
        )
    return shown


PRACTICE_STAFF = "Practice staff"


def _patient_author(entry: Any, staff_names: Mapping[str, str]) -> dict[str, Any]:
    if entry.author_kind == AuthorKind.STAFF:
        name = staff_names.get(entry.author_id or "", PRACTICE_STAFF)
        return {"kind": entry.author_kind, "id": None, "display_name": name}
    return {"kind": entry.author_kind, "id": entry.author_id}


def patient_view(
    session: Session, item: Item, entries: Iterable[Any] | None = None
) -> dict[str, Any]:
    """The patient view of one item, staff named by their display names."""
    shown = list(entries) if entries is not None else load_entries(session, item.id)
    decision = (item.details or {}).get("decision") or {}
    ids = {e.author_id for e in shown if e.author_kind == AuthorKind.STAFF and e.author_id}
    if isinstance(decision, Mapping) and decision.get("decided_by"):
        ids.add(str(decision["decided_by"]))
    return patient_item_dict(item, shown, staff_names(session, ids))


def staff_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}


def patient_dict(patient: Any) -> dict[str, Any]:
    return {
        "id": patient.id,
        "mrn": patient.mrn,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date,
        "phone": patient.phone,
        "email": patient.email,
        "medications": patient.medications or [],
        "allergies": patient.allergies or [],
        "labs": patient.labs or [],
        "last_visit_on": patient.last_visit_on,
        "pcp_id": patient.pcp_id,
    }


def entries_by_item(session: Session, item_ids: list[str]) -> dict[str, list[Any]]:
    """Entries of many items in one query, as plain rows (no ORM objects: this is hot)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    if not item_ids:
        return grouped
    table = Entry.__table__
    for entry in session.execute(
        select(table)
        .where(table.c.item_id.in_(item_ids))
        .order_by(table.c.item_id, table.c.position)
    ):
        grouped[entry.item_id].append(entry)
    return grouped


def load_entries(session: Session, item_id: str) -> list[Entry]:
    return list(
        session.scalars(select(Entry).where(Entry.item_id == item_id).order_by(Entry.position))
    )


def mark_changed(session: Session, item: Item, now: datetime, *, new: bool = False) -> None:
    """Every change to an item: new feed position, version + 1, updated_at, and a wake-up."""
    position = changes.stamp(session)
    item.change_txid, item.change_seq = position.txid, position.seq
    item.updated_at = now
    item.version = 1 if new else item.version + 1
    session.info["items_changed"] = True
    if session.get_bind().dialect.name == "postgresql":
        # Delivered to every server process's listener when (and only if) this commits.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANGE_CHANNEL})


def add_system_entry(
    session: Session,
    item: Item,
    *,
    type: str,
    body: str,
    data: dict[str, Any],
    at: datetime,
) -> Entry:
    """An entry written by the service itself (`{"kind": "system", "id": null}`)."""
    return add_entry(
        session,
        item,
        type=type,
        author_kind=AuthorKind.SYSTEM.value,
        author_id=None,
        body=body,
        data=data,
        at=at,
    )


def add_entry(
    session: Session,
    item: Item,
    *,
    type: str,
    author_kind: str,
    author_id: str | None,
    body: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Entry:
    position = session.scalar(
        select(func.coalesce(func.max(Entry.position), 0)).where(Entry.item_id == item.id)
    )
    entry = Entry(
        item_id=item.id,
        position=int(position or 0) + 1,
        type=type,
        author_kind=author_kind,
        author_id=author_id,
        body=body,
        created_at=at or utcnow(),
        data=data or {},
    )
    session.add(entry)
    session.flush()
    return entry
