"""Writing an item's rows: what staff see (the server's state with pending actions folded on
top), its clock columns and its full-text row. Shared by the feed and the outbox; every
function runs inside the caller's write transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..optimistic import PendingAction, fold
from . import schema as s
from .clocks import ClockPolicy

PATIENT_NAME = s.patients.c.given_name + " " + s.patients.c.family_name


def full_name(patient: dict[str, Any]) -> str:
    return f"{patient.get('given_name', '')} {patient.get('family_name', '')}".strip()


def pending_for(conn: Connection, item_ids: list[str]) -> dict[str, list[PendingAction]]:
    rows = conn.execute(
        select(
            s.outbox.c.id,
            s.outbox.c.item_id,
            s.outbox.c.action_json,
            s.outbox.c.created_at,
            s.outbox.c.actor_id,
        )
        .where(s.outbox.c.item_id.in_(item_ids))
        .order_by(s.outbox.c.id)
    ).all()
    grouped: dict[str, list[PendingAction]] = {}
    for row in rows:
        grouped.setdefault(row.item_id, []).append(
            PendingAction(
                row.id, row.item_id, json.loads(row.action_json), row.created_at, row.actor_id
            )
        )
    return grouped


def item_row(
    item: dict[str, Any],
    actions: list[PendingAction],
    patient_name: str,
    clocks: ClockPolicy,
    role: str,
) -> dict[str, Any]:
    """The narrow row and the JSON of one item, as staff see it now."""
    shown = fold(item, actions, role) if actions else item
    return {
        **clocks.columns(shown),
        "patient_name": patient_name,
        "id": shown["id"],
        "kind": shown["kind"],
        "status": shown["status"],
        "priority": shown["priority"],
        "queue": shown["queue"],
        "subject": shown["subject"],
        "patient_id": shown["patient_id"],
        "assignee_id": shown.get("assignee_id"),
        "created_at": shown["created_at"],
        "updated_at": shown["updated_at"],
        "first_response_at": shown.get("first_response_at"),
        "resolved_at": shown.get("resolved_at"),
        "version": item["version"],
        "server_json": json.dumps(item, separators=(",", ":")),
        "display_json": json.dumps(shown, separators=(",", ":")) if actions else None,
        "pending": len(actions),
        **protocol_columns(shown),
    }


def protocol_columns(item: dict[str, Any]) -> dict[str, Any]:
    """A refill's protocol verdict and the rules that failed, for the inbox row."""
    checked = (item.get("details") or {}).get("protocol") if item.get("kind") == "refill" else None
    if not isinstance(checked, dict) or checked.get("verdict") not in ("pass", "review"):
        return {"protocol": None, "protocol_why": None}
    failed = [str(r.get("text", "")) for r in checked.get("reasons") or [] if not r.get("ok")]
    why = "\n".join(failed) if failed else "Every protocol rule holds."
    return {"protocol": checked["verdict"], "protocol_why": why}


def upsert_items(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    flat_names = [c.name for c in s.items.columns]
    stmt = sqlite_insert(s.items)
    flat = {name: stmt.excluded[name] for name in flat_names if name != "id"}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["id"], set_=flat),
        [{name: row[name] for name in flat_names} for row in rows],
    )
    blobs = sqlite_insert(s.item_json)
    conn.execute(
        blobs.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "server_json": blobs.excluded.server_json,
                "display_json": blobs.excluded.display_json,
            },
        ),
        [
            {
                "id": row["id"],
                "server_json": row["server_json"],
                "display_json": row["display_json"],
            }
            for row in rows
        ],
    )


def refold(
    conn: Connection,
    item_id: str,
    clocks: ClockPolicy,
    role: str,
    server_item: dict[str, Any] | None = None,
) -> None:
    """Recompute what staff see for one item from its server state and pending actions."""
    if server_item is None:
        raw = conn.execute(
            select(s.item_json.c.server_json).where(s.item_json.c.id == item_id)
        ).scalar()
        if raw is None:
            return
        server_item = json.loads(raw)
    actions = pending_for(conn, [item_id]).get(item_id, [])
    name = conn.execute(
        select(PATIENT_NAME).where(s.patients.c.id == server_item["patient_id"])
    ).scalar()
    upsert_items(conn, [item_row(server_item, actions, name or "", clocks, role)])


def index(conn: Connection, page_items: list[dict[str, Any]]) -> None:
    """Full-text rows: subject, patient name and every message body."""
    ids = [item["id"] for item in page_items]
    names = dict(
        conn.execute(
            select(s.patients.c.id, PATIENT_NAME).where(
                s.patients.c.id.in_({i["patient_id"] for i in page_items})
            )
        ).all()
    )
    # The full-text row shares the item's rowid, so replacing it is a keyed delete, not a
    # scan of the whole index (item_id is UNINDEXED in FTS5).
    placeholders = ",".join("?" for _ in ids)
    rowids: dict[str, int] = dict(
        conn.exec_driver_sql(
            f"SELECT id, rowid FROM items WHERE id IN ({placeholders})",  # noqa: S608
            tuple(ids),
        ).all()
    )
    conn.exec_driver_sql(
        "DELETE FROM items_fts WHERE rowid = ?", [(rowid,) for rowid in rowids.values()]
    )
    conn.exec_driver_sql(
        "INSERT INTO items_fts(rowid, item_id, subject, patient, body) VALUES (?, ?, ?, ?, ?)",
        [
            (
                rowids[item["id"]],
                item["id"],
                item["subject"],
                names.get(item["patient_id"], ""),
                "\n".join(e.get("body") or "" for e in item["entries"] if e.get("type") != "event"),
            )
            for item in page_items
            if item["id"] in rowids
        ],
    )


def role_of(conn: Connection) -> str:
    """The signed-in user's role, which pending actions are folded with."""
    value = conn.execute(select(s.meta.c.value).where(s.meta.c.key == "role")).scalar()
    return str(value or "")
