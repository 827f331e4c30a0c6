"""Items as the API shows them, and the helpers every change to an item goes through."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from triage_core.state_machine import MUTABLE_FIELDS
from triage_core.vocabulary import PATIENT_VISIBLE_ENTRIES, AuthorKind

from . import changes
from .models import Entry, Item, utcnow

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
    }


def item_state(item: Item, entries: Iterable[Any]) -> dict[str, Any]:
    """What the domain core's rules read of an item: its kind, every field they change, and
    its entries' types and data (red flags live there)."""
    return {
        "kind": item.kind,
        **{name: getattr(item, name) for name in MUTABLE_FIELDS},
        "entries": [{"type": e.type, "data": e.data or {}} for e in entries],
    }


def patient_item_dict(item: Any, entries: Iterable[Any]) -> dict[str, Any]:
    """What the patient sees: no queue, priority, assignee, version, notes or events."""
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "subject": item.subject,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "first_response_at": item.first_response_at,
        "resolved_at": item.resolved_at,
        "details": item.details or {},
        "entries": [
            {
                "id": e.id,
                "type": e.type,
                "author": {"kind": e.author_kind, "id": e.author_id},
                "body": e.body,
                "created_at": e.created_at,
            }
            for e in entries
            if e.type in PATIENT_VISIBLE_ENTRIES
        ],
    }


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
