"""What the inbox shows: queues, filters, search and order, answered by SQL over the cache.

Filtering, sorting and searching happen here (indexes and FTS5), never per row in Qt: the view
gets an ordered list of ids and fetches compact rows only for what it paints.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

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

SORTABLE = (
    "kind",
    "priority",
    "patient",
    "subject",
    "queue",
    "assignee",
    "status",
    "received",
    "due",
)


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
    due_at: str | None = None
    risk_at: str | None = None
    clock: str | None = None
    clock_business: int = 0


COUNT_SQL = (
    "SELECT count(*), coalesce(sum(items.due_at > :now AND items.risk_at <= :now), 0), "
    "coalesce(sum(items.due_at <= :now), 0) FROM items WHERE "
)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _recent_cutoff(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) - timedelta(days=DONE_RECENT_DAYS)
    return moment.isoformat().replace("+00:00", "Z")


QUEUE_SQL = {
    "mine": "items.assignee_id = :me AND items.status IN ('new', 'open', 'waiting_patient')",
    "unassigned": "items.assignee_id IS NULL AND items.status IN ('new', 'open')",
    "front_desk": "items.queue = 'front_desk' AND items.status IN ('new', 'open')",
    "nursing": "items.queue = 'nursing' AND items.status IN ('new', 'open')",
    "clinician": "items.queue = 'clinician' AND items.status IN ('new', 'open')",
    "waiting": "items.status = 'waiting_patient'",
    "done": "items.status IN ('done', 'cancelled') AND items.resolved_at >= :cutoff",
    "all": "1 = 1",
}
KNOWN = {
    "kinds": ("items.kind", {"refill", "appointment", "message"}),
    "priorities": ("items.priority", {"routine", "urgent"}),
    "statuses": ("items.status", {"new", "open", "waiting_patient", "done", "cancelled"}),
}
PATIENT_SQL = "items.patient_name"
ORDER_SQL = {
    "kind": "items.kind",
    "priority": "items.priority",
    "patient": PATIENT_SQL,
    "subject": "items.subject",
    "queue": "items.queue",
    "assignee": "items.assignee_id",
    "status": "items.status",
    "received": "items.created_at",
    "due": "items.due_at",
}


def fts_query(text: str) -> str | None:
    """Prefix terms for FTS5; single letters are ignored (they match nearly everything)."""
    terms = [t for t in "".join(c if c.isalnum() else " " for c in text).split() if len(t) > 1]
    return " ".join(f'"{t}"*' for t in terms) if terms else None


def build_ids_sql(filter_: InboxFilter, me: str) -> tuple[str, dict[str, Any]]:
    """The SQL for one inbox view. Only fixed fragments are spliced in; every value the user
    typed or picked travels as a parameter."""
    if filter_.queue not in QUEUE_SQL:
        raise ValueError(f"unknown queue {filter_.queue!r}")
    params: dict[str, Any] = {"me": me, "cutoff": _recent_cutoff()}
    where = [QUEUE_SQL[filter_.queue]]
    for group in ("kinds", "priorities", "statuses"):
        column, allowed = KNOWN[group]
        values = sorted(v for v in getattr(filter_, group) if v in allowed)
        if values:
            names = [f"{group}_{n}" for n in range(len(values))]
            params.update(zip(names, values, strict=True))
            where.append(f"{column} IN ({', '.join(':' + n for n in names)})")
    match = fts_query(filter_.search)
    source = "items"
    if match is not None:
        # Drive from the full-text index: a search touches only its hits.
        source = "items_fts JOIN items ON items.rowid = items_fts.rowid"
        where.append("items_fts MATCH :match")
        params["match"] = match
    if filter_.sort == "urgency":
        # Breached, then at risk, then soonest due; then urgent first ('urgent' > 'routine'),
        # then the longest waiting.
        params["now"] = _now_text()
        order = (
            "CASE WHEN items.due_at <= :now THEN 0 WHEN items.risk_at <= :now THEN 1 ELSE 2 END, "
            "items.due_at IS NULL, items.due_at, items.priority DESC, items.created_at ASC"
        )
    else:
        direction = "DESC" if filter_.descending else "ASC"
        order = f"{ORDER_SQL[filter_.sort]} {direction}, items.created_at ASC"
    sql = f"SELECT items.id FROM {source} WHERE {' AND '.join(where)} ORDER BY {order}"  # noqa: S608
    return sql, params


class Inbox:
    """Reads for the inbox (safe on any thread: each call is one short read transaction)."""

    MEMO_SIZE = 8

    def __init__(self, cache: Cache, me: str) -> None:
        self.cache = cache
        self.me = me
        # Recent answers, so deleting search text or unticking a chip returns at once. Valid
        # while the cache is unchanged and for 30 s (the default order compares with now).
        self._memo: dict[tuple[Any, ...], list[str]] = {}

    def ids(self, filter_: InboxFilter) -> list[str]:
        """Ids in display order for this queue, filters and search (covering index or FTS)."""
        key = (filter_, self.cache.generation, int(time.time() // 30))
        memo = self._memo.get(key)
        if memo is not None:
            return list(memo)
        sql, params = build_ids_sql(filter_, self.me)
        with self.cache.read() as conn:
            cursor = conn.connection.driver_connection.execute(sql, params)  # type: ignore[union-attr]
            ids = [row[0] for row in cursor.fetchall()]
        self._memo = {k: v for k, v in self._memo.items() if k[1:] == key[1:]}
        if len(self._memo) >= self.MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = ids
        return list(ids)

    def rows(self, ids: list[str]) -> dict[str, InboxRow]:
        if not ids:
            return {}
        items = s.items.c
        query = select(
            items.id,
            items.kind,
            items.priority,
            items.patient_name,
            items.subject,
            items.queue,
            items.assignee_id,
            items.status,
            items.created_at,
            items.version,
            items.pending,
            items.due_at,
            items.risk_at,
            items.clock,
            items.clock_business,
        ).where(items.id.in_(ids))
        with self.cache.read() as conn:
            return {row[0]: InboxRow(*row) for row in conn.execute(query)}

    def counts(self) -> dict[str, dict[str, int]]:
        """Per queue: how many items are in it, how many at risk and how many overdue."""
        result: dict[str, dict[str, int]] = {}
        params = {"me": self.me, "cutoff": _recent_cutoff(), "now": _now_text()}
        with self.cache.read() as conn:
            raw = conn.connection.driver_connection
            for key, _label in QUEUES:
                sql = COUNT_SQL + QUEUE_SQL[key]
                row = raw.execute(sql, params).fetchone()  # type: ignore[union-attr]
                result[key] = {"open": int(row[0]), "at_risk": int(row[1]), "breached": int(row[2])}
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
        with self.cache.read() as conn:
            raw = conn.execute(
                select(s.patients.c.json).where(s.patients.c.id == patient_id)
            ).scalar()
        return json.loads(raw) if raw else None


ROLE_QUEUES = {"front_desk": "front_desk", "nurse": "nursing", "clinician": "clinician"}


@dataclass(frozen=True)
class Alert:
    item_id: str
    clock: str
    state: str  # "at_risk" or "breached"
    subject: str
    patient: str


def alert_key(alert: Alert) -> str:
    return f"{alert.item_id}:{alert.clock}:{alert.state}"


ALERT_SQL_MINE_ONLY = (
    "SELECT id, clock, CASE WHEN due_at <= :now THEN 'breached' ELSE 'at_risk' END, "
    "subject, patient_name FROM items WHERE risk_at <= :now "
    "AND status IN ('new', 'open') AND items.assignee_id = :me"
)
ALERT_SQL = ALERT_SQL_MINE_ONLY.replace(
    "AND items.assignee_id = :me",
    "AND (items.assignee_id = :me OR (items.assignee_id IS NULL AND items.queue = :queue))",
)


class Alerts:
    """Which items should raise a desktop notice now: at risk or overdue, assigned to me or
    unassigned in my role's queue (never items this person cannot act on), once per item, clock
    and state, remembered in the cache across restarts."""

    MEMORY = 2000

    def __init__(self, cache: Cache, me: str, role: str) -> None:
        self.cache = cache
        self.me = me
        self.queue = ROLE_QUEUES.get(role)
        raw = cache.meta("alerted")
        self.seen: list[str] = list(json.loads(raw)) if raw else []

    def due(self) -> list[Alert]:
        """Fresh alerts (read only; `mark_shown` records them)."""
        params: dict[str, Any] = {"me": self.me, "queue": self.queue, "now": _now_text()}
        sql = ALERT_SQL if self.queue else ALERT_SQL_MINE_ONLY
        with self.cache.read() as conn:
            rows = conn.connection.driver_connection.execute(sql, params).fetchall()  # type: ignore[union-attr]
        seen = set(self.seen)
        fresh = [Alert(*row) for row in rows]
        return [alert for alert in fresh if alert_key(alert) not in seen]

    def note_shown(self, alerts: list[Alert]) -> None:
        """Remember alerts as shown, in memory (so the next check skips them at once)."""
        self.seen = (self.seen + [alert_key(a) for a in alerts])[-self.MEMORY :]

    def persist(self) -> None:
        """Keep what was shown across restarts (a cache write: call from a worker)."""
        self.cache.set_meta(alerted=json.dumps(self.seen))
