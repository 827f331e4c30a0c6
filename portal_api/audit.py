"""The append-only, hash-chained audit log.

Each row's hash is SHA-256 over the previous row's hash and the row's canonical content, so
changing, removing or reordering any row breaks every link after it. Appends take the chain
head row for update, which serialises them inside the writer's own transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


def canonical(
    *,
    seq: int,
    at: datetime,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    item_id: str | None,
    patient_id: str | None,
    ip: str | None,
    detail: dict[str, Any],
) -> bytes:
    content = {
        "seq": seq,
        "at": at.isoformat(),
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "action": action,
        "item_id": item_id,
        "patient_id": patient_id,
        "ip": ip,
        "detail": detail,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + content).hexdigest()


def append(
    session: Session,
    *,
    actor_kind: str,
    actor_id: str | None,
    action: str,
    item_id: str | None = None,
    patient_id: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event in the caller's transaction. `detail` holds no patient text or secrets."""
    at = at or utcnow()
    detail = dict(detail or {})
    head = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
    ).one()
    seq, prev_hash = int(head[0]), str(head[1])
    fields: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "action": action,
        "item_id": item_id,
        "patient_id": patient_id,
        "ip": ip,
        "detail": detail,
    }
    digest = link_hash(prev_hash, canonical(**fields))
    event = AuditEvent(**fields, prev_hash=prev_hash, hash=digest)
    session.add(event)
    session.flush()  # (the head's guard lets it name only a stored event's hash)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=digest))
    return event


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.checked} events verified"
        return f"audit chain BROKEN at event {self.first_broken_seq}: {self.reason}"


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first event whose link does not hold."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(False, checked, expected_seq, "event missing")
            if row.prev_hash != prev_hash:
                return ChainReport(False, checked, row.seq, "previous-hash link does not match")
            content = canonical(
                seq=row.seq,
                at=row.at,
                actor_kind=row.actor_kind,
                actor_id=row.actor_id,
                action=row.action,
                item_id=row.item_id,
                patient_id=row.patient_id,
                ip=row.ip,
                detail=row.detail or {},
            )
            if link_hash(prev_hash, content) != row.hash:
                return ChainReport(False, checked, row.seq, "content does not match its hash")
            prev_hash = row.hash
            expected_seq += 1
            checked += 1
            last_seq = row.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return ChainReport(False, checked, checked + 1, "events after the last one are missing")
    return ChainReport(True, checked)
