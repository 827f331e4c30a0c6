"""The `/sync` page: items changed after a cursor, below the safe horizon, in feed order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import select

from triage_core import disclosure

from . import audit, changes
from .auth import Principal
from .db import Database
from .errors import ApiError
from .items import entries_by_item, item_dict, patient_dict
from .models import Item, Meta, Patient

# What a desktop may see of a patient (never the portal username or password hash).
PATIENT_COLUMNS = (
    Patient.id,
    Patient.mrn,
    Patient.given_name,
    Patient.family_name,
    Patient.birth_date,
    Patient.phone,
    Patient.email,
    Patient.medications,
    Patient.allergies,
    Patient.labs,
    Patient.last_visit_on,
    Patient.pcp_id,
)


def instance_id(db: Database) -> str:
    with db.read() as session:
        value = session.get(Meta, "instance_id")
        if value is None:
            raise RuntimeError("database has no instance id: run migrations")
        return value.value


def bad_cursor(reason: str) -> ApiError:
    return ApiError(
        400, "bad_cursor", f"This cursor cannot be used ({reason}); sync again from the start."
    )


class SyncService:
    def __init__(self, db: Database, instance: str) -> None:
        self.db = db
        self.instance = instance

    def page(
        self, principal: Principal, cursor: str | None, limit: int, ip: str | None = None
    ) -> dict[str, Any]:
        """One page for this person: items in full or as headers (`triage_core.disclosure`),
        recorded in the audit log as one disclosure when it holds any item."""
        with self.db.read(snapshot=True) as session:
            if cursor:
                try:
                    position = changes.decode_cursor(cursor, self.instance)
                except changes.BadCursor as exc:
                    raise bad_cursor(str(exc)) from None
                if not changes.position_is_known(session, position):
                    raise bad_cursor("not issued by this server")
            else:
                position = changes.START
            limit_txid = changes.horizon(session)
            # Plain rows, not ORM objects: a full sync reads every item once.
            rows = session.execute(
                select(Item.__table__)
                .where(changes.after(position, limit_txid))
                .order_by(Item.change_txid, Item.change_seq)
                .limit(limit + 1)
            ).all()
            has_more = len(rows) > limit
            rows = rows[:limit]
            full = [
                disclosure.in_full(
                    principal.role, principal.id, cast(Mapping[str, Any], row._mapping)
                )
                for row in rows
            ]
            entries = entries_by_item(session, [item.id for item in rows])
            patient_ids = sorted({item.patient_id for item in rows})
            patients = (
                session.execute(select(*PATIENT_COLUMNS).where(Patient.id.in_(patient_ids))).all()
                if patient_ids
                else []
            )
            if rows:
                last = rows[-1]
                position = changes.Position(last.change_txid, last.change_seq)
            items = [
                item_dict(item, entries.get(item.id, ()))
                if shown_in_full
                else disclosure.header(item_dict(item, entries.get(item.id, ())))
                for item, shown_in_full in zip(rows, full, strict=True)
            ]
            charts = disclosure.receives_charts(principal.role)
            page = {
                "items": items,
                "patients": [
                    patient_dict(p) if charts else disclosure.patient_header(patient_dict(p))
                    for p in patients
                ],
                "cursor": changes.encode_cursor(self.instance, position),
                "has_more": has_more,
            }
        if rows:
            with self.db.write() as session:
                audit.append(
                    session,
                    actor_kind="staff",
                    actor_id=principal.id,
                    action="sync.page",
                    ip=ip,
                    detail={
                        "items": len(rows),
                        "restricted": full.count(False),
                        "patients": len(patients),
                    },
                )
        return page

    def newest_cursor(self) -> tuple[str, bool]:
        """The cursor of the newest visible change, and whether newer ones are held back."""
        with self.db.read(snapshot=True) as session:
            visible = changes.newest_visible(session)
            committed = changes.newest_committed(session)
            return changes.encode_cursor(self.instance, visible), committed > visible
