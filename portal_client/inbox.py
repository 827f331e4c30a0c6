"""What the inbox shows: queues, filters, search and order, answered by SQL over the cache.

Filtering, sorting and searching happen here (indexes and FTS5), never per row in Qt: the view
gets an ordered list of ids and fetches compact rows only for what it paints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy import text as sql_text

from . import cache_schema as s
from .cache import Cache

OPEN_STATUSES = ("new", "open")
ACTIVE_STATUSES = ("new", "open", "waiting_patient")
CLOSED_STATUSES = ("done", "cancelled")
DONE_RECENT_DAYS = 7

QUEUES: tuple[tuple[str, str], ...] = (
    ("mine", "My items"),
    ("unassigned", "Unassigned"),
    ("front_desk", "Front desk"),
    ("nursing", "Nursing"),
    ("clinician", "Clinician sign-off"),
    ("waiting", "Waiting on patient"),
    ("done", "Done (recent)"),
)

SORTABLE = ("kind", "priority", "patient", "subject", "queue", "assignee", "status", "received")


@dataclass(frozen=True)
class InboxFilter:
    queue: str = "mine"
    kinds: frozenset[str] = field(default_factory=frozenset)  # empty: all
    priorities: frozenset[str] = field(default_factory=frozenset)
    statuses: frozenset[str] = field(default_factory=frozenset)
    search: str = ""
    sort: str = "urgency"  # "urgency" (default) or one of SORTABLE
    descending: bool = False


@dataclass(frozen=True)
class InboxRow:
    """Everything one inbox line shows; plain data, safe to hand to a Qt model."""

    id: str
    kind: str
    priority: str
    patient: str
    subject: str
    queue: str
    assignee_id: str | None
    status: str
    created_at: str
    version: int
    pending: int


def _recent_cutoff(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) - timedelta(days=DONE_RECENT_DAYS)
    return moment.isoformat().replace("+00:00", "Z")


def queue_condition(queue: str, me: str) -> ColumnElement[bool]:
    items = s.items.c
    if queue == "mine":
        return and_(items.assignee_id == me, items.status.in_(ACTIVE_STATUSES))
    if queue == "unassigned":
        return and_(items.assignee_id.is_(None), items.status.in_(OPEN_STATUSES))
    if queue in ("front_desk", "nursing", "clinician"):
        return and_(items.queue == queue, items.status.in_(OPEN_STATUSES))
    if queue == "waiting":
        return items.status == "waiting_patient"
    if queue == "done":
        return and_(items.status.in_(CLOSED_STATUSES), items.resolved_at >= _recent_cutoff())
    if queue == "all":
        return true()
    raise ValueError(f"unknown queue {queue!r}")


def fts_query(text: str) -> str | None:
    terms = [t for t in "".join(c if c.isalnum() else " " for c in text).split() if t]
    return " ".join(f'"{t}"*' for t in terms) if terms else None


PATIENT_NAME = func.coalesce(s.patients.c.given_name + " " + s.patients.c.family_name, "")


def _order(filter_: InboxFilter) -> list[Any]:
    items = s.items.c
    if filter_.sort == "urgency":
        # Until SLA clocks land: urgent first, then the longest waiting.
        return [case((items.priority == "urgent", 0), else_=1), items.created_at, items.id]
    column = {
        "kind": items.kind,
        "priority": items.priority,
        "patient": PATIENT_NAME,
        "subject": items.subject,
        "queue": items.queue,
        "assignee": items.assignee_id,
        "status": items.status,
        "received": items.created_at,
    }[filter_.sort]
    ordered = column.desc() if filter_.descending else column.asc()
    return [ordered, items.created_at, items.id]


class Inbox:
    """Reads for the inbox (safe on any thread: each call is one short read transaction)."""

    def __init__(self, cache: Cache, me: str) -> None:
        self.cache = cache
        self.me = me

    def _where(self, filter_: InboxFilter) -> list[ColumnElement[bool]]:
        items = s.items.c
        where = [queue_condition(filter_.queue, self.me)]
        if filter_.kinds:
            where.append(items.kind.in_(sorted(filter_.kinds)))
        if filter_.priorities:
            where.append(items.priority.in_(sorted(filter_.priorities)))
        if filter_.statuses:
            where.append(items.status.in_(sorted(filter_.statuses)))
        match = fts_query(filter_.search)
        if match is not None:
            where.append(
                items.id.in_(
                    select(sql_text("item_id"))
                    .select_from(sql_text("items_fts"))
                    .where(sql_text("items_fts MATCH :match"))
                )
            )
        return where

    def ids(self, filter_: InboxFilter) -> list[str]:
        """Ids in display order for this queue, filters and search."""
        query = (
            select(s.items.c.id)
            .select_from(s.items.outerjoin(s.patients, s.patients.c.id == s.items.c.patient_id))
            .where(*self._where(filter_))
            .order_by(*_order(filter_))
        )
        match = fts_query(filter_.search)
        with self.cache.read() as conn:
            result = conn.execute(query, {"match": match} if match else {})
            return [row[0] for row in result]

    def rows(self, ids: list[str]) -> dict[str, InboxRow]:
        if not ids:
            return {}
        items = s.items.c
        query = (
            select(
                items.id,
                items.kind,
                items.priority,
                PATIENT_NAME,
                items.subject,
                items.queue,
                items.assignee_id,
                items.status,
                items.created_at,
                items.version,
                items.pending,
            )
            .select_from(s.items.outerjoin(s.patients, s.patients.c.id == items.patient_id))
            .where(items.id.in_(ids))
        )
        with self.cache.read() as conn:
            return {row[0]: InboxRow(*row) for row in conn.execute(query)}

    def counts(self) -> dict[str, dict[str, int]]:
        """Per queue: how many items are in it (at-risk and breached come with SLA clocks)."""
        result: dict[str, dict[str, int]] = {}
        with self.cache.read() as conn:
            for key, _label in QUEUES:
                total = conn.execute(
                    select(func.count()).select_from(s.items).where(queue_condition(key, self.me))
                ).scalar_one()
                result[key] = {"open": int(total), "at_risk": 0, "breached": 0}
        return result

    def urgent_new(self) -> int:
        items = s.items.c
        with self.cache.read() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(s.items)
                    .where(
                        items.status == "new",
                        or_(items.priority == "urgent", items.assignee_id.is_(None)),
                    )
                ).scalar_one()
            )

    def patient(self, patient_id: str) -> dict[str, Any] | None:
        import json

        with self.cache.read() as conn:
            raw = conn.execute(
                select(s.patients.c.json).where(s.patients.c.id == patient_id)
            ).scalar()
        return json.loads(raw) if raw else None
