"""Sync pages into the cache: items, their patients and full-text rows, the cursor; the staff
list; and forgetting everything synced when the server asks for a fresh start."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from triage_core.times import rfc3339, utcnow

from . import schema as s
from .rows import PATIENT_NAME, full_name, index, item_row, pending_for, role_of, upsert_items

if TYPE_CHECKING:
    from .store import Cache


class Feed:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def apply_page(self, page: dict[str, Any]) -> list[str]:
        """Store one `/sync` page and its cursor in one transaction; return its item ids."""
        page_items: list[dict[str, Any]] = page["items"]
        ids = [item["id"] for item in page_items]

        def body(conn: Connection) -> None:
            if page["patients"]:
                _upsert_patients(conn, page["patients"])
            if page_items:
                pending = pending_for(conn, ids)
                names = _patient_names(conn, page["patients"], page_items)
                current = _server_versions(conn, ids) if pending else {}
                clocks, role = self.cache.clock_policy, role_of(conn) if pending else ""
                rows = []
                for item in page_items:
                    actions = pending.get(item["id"], [])
                    if actions and current.get(item["id"], -1) > item["version"]:
                        continue  # an action reply already brought a newer state
                    name = names.get(item["patient_id"], "")
                    rows.append(item_row(item, actions, name, clocks, role))
                upsert_items(conn, rows)
                index(conn, page_items)
            self.cache.put_meta(conn, "cursor", page["cursor"])
            self.cache.put_meta(conn, "last_sync_at", rfc3339(utcnow()))

        self.cache.write(body)
        return ids

    def reset_for_resync(self) -> None:
        """Forget every synced row and the cursor; keep the outbox and notices."""

        def body(conn: Connection) -> None:
            conn.execute(delete(s.items))
            conn.execute(delete(s.item_json))
            conn.execute(delete(s.patients))
            conn.exec_driver_sql("DELETE FROM items_fts")
            self.cache.put_meta(conn, "cursor", None)

        self.cache.write(body)

    def set_staff(self, members: Iterable[dict[str, Any]]) -> None:
        rows = [
            {
                "id": m["id"],
                "username": m["username"],
                "display_name": m["display_name"],
                "role": m["role"],
                "active": int(bool(m.get("active", True))),
            }
            for m in members
        ]

        def body(conn: Connection) -> None:
            conn.execute(delete(s.staff))
            if rows:
                conn.execute(insert(s.staff), rows)

        self.cache.write(body)


def _server_versions(conn: Connection, item_ids: list[str]) -> dict[str, int]:
    query = select(s.items.c.id, s.items.c.version).where(s.items.c.id.in_(item_ids))
    return {row.id: row.version for row in conn.execute(query)}


def _patient_names(
    conn: Connection, page_patients: list[dict[str, Any]], page_items: list[dict[str, Any]]
) -> dict[str, str]:
    names = {p["id"]: full_name(p) for p in page_patients}
    missing = {i["patient_id"] for i in page_items} - set(names)
    if missing:
        query = select(s.patients.c.id, PATIENT_NAME).where(s.patients.c.id.in_(missing))
        names.update({row[0]: row[1] or "" for row in conn.execute(query)})
    return names


def _upsert_patients(conn: Connection, patients: list[dict[str, Any]]) -> None:
    known = {
        row[0]: row[1]
        for row in conn.execute(
            select(s.patients.c.id, PATIENT_NAME).where(
                s.patients.c.id.in_([p["id"] for p in patients])
            )
        )
    }
    renamed = [p for p in patients if p["id"] in known and known[p["id"]] != full_name(p)]
    stmt = sqlite_insert(s.patients)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={
                c: stmt.excluded[c]
                for c in ("mrn", "given_name", "family_name", "birth_date", "json")
            },
        ),
        [
            {
                "id": p["id"],
                "mrn": p.get("mrn"),
                "given_name": p.get("given_name"),
                "family_name": p.get("family_name"),
                "birth_date": p.get("birth_date"),
                "json": json.dumps(p, separators=(",", ":")),
            }
            for p in patients
        ],
    )
    # Names are copied onto items as their sort key; keep them in step when one changes.
    if renamed:
        conn.exec_driver_sql(
            "UPDATE items SET patient_name = ? WHERE patient_id = ?",
            [(full_name(p), p["id"]) for p in renamed],
        )
