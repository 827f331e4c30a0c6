"""Every read of the cache: items, patients, staff, counts, and the inbox's views.

Each call is one short read transaction, safe on any thread (WAL readers do not wait for the
writer); the desktop calls them from its read workers, never from the GUI thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from triage_core.clocks import describe_left

from ..inbox import QUEUE_SQL, Alert, InboxPage, InboxRow, ViewSql, now_text, recent_cutoff
from . import schema as s

if TYPE_CHECKING:
    from .store import Cache

ROW_COLUMNS = (
    s.items.c.id,
    s.items.c.kind,
    s.items.c.priority,
    s.items.c.patient_name,
    s.items.c.subject,
    s.items.c.queue,
    s.items.c.assignee_id,
    s.items.c.status,
    s.items.c.created_at,
    s.items.c.version,
    s.items.c.pending,
    s.items.c.due_at,
    s.items.c.risk_at,
    s.items.c.clock,
    s.items.c.clock_business,
    s.items.c.protocol,
    s.items.c.protocol_why,
)
COUNT_SQL = (
    "SELECT count(*), coalesce(sum(items.due_at > :now AND items.risk_at <= :now), 0), "
    "coalesce(sum(items.due_at <= :now), 0) FROM items WHERE "
)
ALERT_SQL = (
    "SELECT id, clock, CASE WHEN due_at <= :now THEN 'breached' ELSE 'at_risk' END, "
    "kind, priority FROM items WHERE risk_at <= :now "
    "AND status IN ('new', 'open') AND "
)
MINE = "items.assignee_id = :me"
UNCLAIMED_URGENT_SQL = (
    "SELECT items.id, items.queue, coalesce(item_json.display_json, item_json.server_json) "
    "FROM items JOIN item_json ON item_json.id = items.id "
    "WHERE items.status IN ('new', 'open') AND items.assignee_id IS NULL "
    "AND items.priority = 'urgent' ORDER BY items.created_at"
)
MINE_OR_MY_QUEUE = (
    "(items.assignee_id = :me OR (items.assignee_id IS NULL AND items.queue = :queue))"
)


class Queries:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def _raw(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """Fixed SQL with named parameters, on the driver (the inbox's hot paths)."""
        with self.cache.read() as conn:
            cursor = conn.connection.driver_connection.execute(sql, params)  # type: ignore[union-attr]
            return list(cursor.fetchall())

    # ---- one item, one patient, the staff ----------------------------------------------------

    def item(self, item_id: str) -> dict[str, Any] | None:
        """The item as staff see it now (pending actions folded in)."""
        with self.cache.read() as conn:
            row = conn.execute(
                select(s.item_json.c.server_json, s.item_json.c.display_json).where(
                    s.item_json.c.id == item_id
                )
            ).first()
        if row is None:
            return None
        return json.loads(row.display_json or row.server_json)  # type: ignore[no-any-return]

    def patient(self, patient_id: str) -> dict[str, Any] | None:
        with self.cache.read() as conn:
            raw = conn.execute(
                select(s.patients.c.json).where(s.patients.c.id == patient_id)
            ).scalar()
        return json.loads(raw) if raw else None

    def staff_names(self) -> dict[str, str]:
        with self.cache.read() as conn:
            return dict(conn.execute(select(s.staff.c.id, s.staff.c.display_name)).all())

    def staff(self) -> list[dict[str, Any]]:
        """Everyone on the staff list: id, username, display name, role, active."""
        with self.cache.read() as conn:
            rows = conn.execute(select(s.staff).order_by(s.staff.c.display_name))
            return [{**row._mapping, "active": bool(row.active)} for row in rows]

    def patient_list(self) -> list[tuple[str, str, str]]:
        """(id, "Family, Given", MRN) of every cached patient, by name: the audit log's picker."""
        with self.cache.read() as conn:
            rows = conn.execute(
                select(
                    s.patients.c.id,
                    s.patients.c.family_name,
                    s.patients.c.given_name,
                    s.patients.c.mrn,
                ).order_by(s.patients.c.family_name, s.patients.c.given_name)
            ).all()
        return [
            (r.id, ", ".join(part for part in (r.family_name, r.given_name) if part), r.mrn or "")
            for r in rows
        ]

    def audit_names(
        self, patient_ids: set[str], item_ids: set[str]
    ) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        """Patient (name, MRN) and item subject for the ids one audit page mentions; ids not in
        this cache are simply missing."""
        patients: dict[str, tuple[str, str]] = {}
        subjects: dict[str, str] = {}
        with self.cache.read() as conn:
            for chunk in _chunks(sorted(patient_ids)):
                for r in conn.execute(
                    select(
                        s.patients.c.id,
                        s.patients.c.given_name,
                        s.patients.c.family_name,
                        s.patients.c.mrn,
                    ).where(s.patients.c.id.in_(chunk))
                ):
                    name = " ".join(part for part in (r.given_name, r.family_name) if part)
                    patients[r.id] = (name, r.mrn or "")
            for chunk in _chunks(sorted(item_ids)):
                rows = conn.execute(
                    select(s.items.c.id, s.items.c.subject).where(s.items.c.id.in_(chunk))
                )
                subjects.update({r.id: r.subject for r in rows})
        return patients, subjects

    # ---- counts and whole-cache reads --------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.cache.read() as conn:

            def count(table: Any, *where: Any) -> int:
                query = select(func.count()).select_from(table)
                return int(conn.execute(query.where(*where) if where else query).scalar_one())

            return {
                "items": count(s.items),
                "patients": count(s.patients),
                "pending_actions": count(s.outbox),
                "conflicts": count(s.notices, s.notices.c.dismissed == 0),
            }

    def server_versions(self) -> dict[str, int]:
        with self.cache.read() as conn:
            return {r.id: r.version for r in conn.execute(select(s.items.c.id, s.items.c.version))}

    def all_items(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every item as staff see it, in batches (for reports; memory stays bounded)."""
        last = ""
        while True:
            with self.cache.read() as conn:
                rows = conn.execute(
                    select(s.item_json.c.id, s.item_json.c.server_json, s.item_json.c.display_json)
                    .where(s.item_json.c.id > last)
                    .order_by(s.item_json.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row in rows:
                yield json.loads(row.display_json or row.server_json)
            last = rows[-1].id

    # ---- the inbox ---------------------------------------------------------------------------

    def inbox_page(self, view: ViewSql, offset: int, limit: int, *, count: bool) -> InboxPage:
        """The view's total (when `count`) and `limit` ids from `offset` (-1: all)."""
        params = {**view.params, "offset": offset, "limit": limit}
        with self.cache.read() as conn:
            raw = conn.connection.driver_connection
            total = raw.execute(view.count_sql(), view.params).fetchone()[0] if count else -1  # type: ignore[union-attr]
            ids = [row[0] for row in raw.execute(view.ids_sql(), params).fetchall()]  # type: ignore[union-attr]
        return InboxPage(int(total), offset, ids)

    def inbox_rows(self, ids: list[str], now: datetime) -> dict[str, InboxRow]:
        """Compact rows for these ids, with the clock's words as of `now`."""
        if not ids:
            return {}
        calendar = self.cache.clock_policy.calendar
        with self.cache.read() as conn:
            rows = conn.execute(select(*ROW_COLUMNS).where(s.items.c.id.in_(ids))).all()
        result = {}
        for row in rows:
            words, state = describe_left(
                row.due_at, row.risk_at, row.clock, bool(row.clock_business), now, calendar
            )
            result[row.id] = InboxRow(*row, clock_words=words, clock_state=state)
        return result

    def queue_counts(self, queues: list[str], me: str) -> dict[str, dict[str, int]]:
        """Per queue: how many items are in it, how many at risk and how many overdue."""
        params = {"me": me, "cutoff": recent_cutoff(), "now": now_text()}
        result: dict[str, dict[str, int]] = {}
        with self.cache.read() as conn:
            raw = conn.connection.driver_connection
            for key in queues:
                row = raw.execute(COUNT_SQL + QUEUE_SQL[key], params).fetchone()  # type: ignore[union-attr]
                result[key] = {"open": int(row[0]), "at_risk": int(row[1]), "breached": int(row[2])}
        return result

    def urgent_new(self) -> int:
        """New items that are urgent or unassigned (the tray's count)."""
        items = s.items.c
        with self.cache.read() as conn:
            query = (
                select(func.count())
                .select_from(s.items)
                .where(items.status == "new")
                .where((items.priority == "urgent") | items.assignee_id.is_(None))
            )
            return int(conn.execute(query).scalar_one())

    def unclaimed_urgent(self) -> list[tuple[str, str, str]]:
        """Urgent new or open items nobody has claimed: (id, queue, the item as staff see it)."""
        return [
            (str(row[0]), str(row[1]), str(row[2])) for row in self._raw(UNCLAIMED_URGENT_SQL, {})
        ]

    def alerts(self, me: str, queue: str | None) -> list[Alert]:
        """At-risk and overdue items assigned to me, or unassigned in my role's queue."""
        params = {"me": me, "queue": queue, "now": now_text(datetime.now(UTC))}
        rows = self._raw(ALERT_SQL + (MINE_OR_MY_QUEUE if queue else MINE), params)
        return [Alert(*row) for row in rows]


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
