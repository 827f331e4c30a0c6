"""What the inbox shows: its queues, columns, filters and orders, as SQL over the cache.

Filtering, sorting and searching happen in SQL (indexes and FTS5), never per row in Qt: the view
gets the number of matching items and the ids of the part it shows, and fetches compact rows
only for what it paints. This module declares the views; `cache.queries` runs them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from triage_core.vocabulary import ROLE_QUEUE, Kind, Priority, Role, Status

if TYPE_CHECKING:
    from .cache import Cache

DONE_RECENT_DAYS = 7
WINDOW = 500  # ids fetched at once: a view of 40,000 items loads the part that is shown

QUEUES: tuple[tuple[str, str], ...] = (
    ("mine", "My items"),
    ("unassigned", "Unassigned"),
    ("front_desk", "Front desk"),
    ("nursing", "Nursing"),
    ("clinician", "Clinician sign-off"),
    ("waiting", "Waiting on patient"),
    ("done", "Done (recent)"),
)
QUEUE_LABELS = dict(QUEUES)


@dataclass(frozen=True)
class Column:
    key: str  # the sort key the query knows
    header: str
    order_sql: str


# The inbox's columns in model order, each with the SQL it sorts by (declared once).
COLUMNS: tuple[Column, ...] = (
    Column("kind", "Kind", "items.kind"),
    Column("priority", "Priority", "items.priority"),
    Column("patient", "Patient", "items.patient_name"),
    Column("subject", "Subject", "items.subject"),
    Column("queue", "Queue", "items.queue"),
    Column("assignee", "Assignee", "items.assignee_id"),
    Column("status", "Status", "items.status"),
    Column("received", "Received", "items.created_at"),
    Column("due", "Time left", "items.due_at"),
    Column("protocol", "Protocol", "items.protocol"),
)
ORDER_SQL = {column.key: column.order_sql for column in COLUMNS}
SORTABLE = tuple(ORDER_SQL)


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
    """Everything one inbox line shows; plain data, safe to hand to a Qt model. The clock's
    words are computed when the row is fetched (on a worker), not when it is painted."""

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
    protocol: str | None = None  # a refill's pre-check: "pass" or "review"
    protocol_why: str | None = None
    clock_words: str = "—"
    clock_state: str = "none"


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def recent_cutoff(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) - timedelta(days=DONE_RECENT_DAYS)
    return moment.isoformat().replace("+00:00", "Z")


_WORKLIST = "('new', 'open')"
QUEUE_SQL = {
    "mine": "items.assignee_id = :me AND items.status IN ('new', 'open', 'waiting_patient')",
    "unassigned": f"items.assignee_id IS NULL AND items.status IN {_WORKLIST}",
    "front_desk": f"items.queue = 'front_desk' AND items.status IN {_WORKLIST}",
    "nursing": f"items.queue = 'nursing' AND items.status IN {_WORKLIST}",
    "clinician": f"items.queue = 'clinician' AND items.status IN {_WORKLIST}",
    "waiting": "items.status = 'waiting_patient'",
    "done": "items.status IN ('done', 'cancelled') AND items.resolved_at >= :cutoff",
    "all": "1 = 1",
}
KNOWN = {
    "kinds": ("items.kind", set(Kind.values())),
    "priorities": ("items.priority", set(Priority.values())),
    "statuses": ("items.status", set(Status.values())),
}
# Breached, then at risk, then soonest due; then urgent first ('urgent' > 'routine'), then the
# longest waiting.
URGENCY_ORDER = (
    "CASE WHEN items.due_at <= :now THEN 0 WHEN items.risk_at <= :now THEN 1 ELSE 2 END, "
    "items.due_at IS NULL, items.due_at, items.priority DESC, items.created_at ASC"
)


def fts_query(text: str) -> str | None:
    """Prefix terms for FTS5; single letters are ignored (they match nearly everything)."""
    terms = [t for t in "".join(c if c.isalnum() else " " for c in text).split() if len(t) > 1]
    return " ".join(f'"{t}"*' for t in terms) if terms else None


@dataclass(frozen=True)
class ViewSql:
    """One inbox view: the source and conditions (for counting) and the order (for ids)."""

    source: str
    where: str
    order: str
    params: dict[str, Any]

    def count_sql(self) -> str:
        return f"SELECT count(*) FROM {self.source} WHERE {self.where}"  # noqa: S608

    def ids_sql(self) -> str:
        return (
            f"SELECT items.id FROM {self.source} WHERE {self.where} "  # noqa: S608
            f"ORDER BY {self.order} LIMIT :limit OFFSET :offset"
        )


def build_view_sql(filter_: InboxFilter, me: str, now: datetime | None = None) -> ViewSql:
    """The SQL for one inbox view. Only fixed fragments are spliced in; every value the user
    typed or picked travels as a parameter."""
    if filter_.queue not in QUEUE_SQL:
        raise ValueError(f"unknown queue {filter_.queue!r}")
    params: dict[str, Any] = {"me": me, "cutoff": recent_cutoff(now)}
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
        params["now"] = now_text(now)
        order = URGENCY_ORDER
    elif filter_.sort in ORDER_SQL:
        direction = "DESC" if filter_.descending else "ASC"
        order = f"{ORDER_SQL[filter_.sort]} {direction}, items.created_at ASC"
    else:
        raise ValueError(f"unknown sort {filter_.sort!r}")
    return ViewSql(source, " AND ".join(where), order, params)


@dataclass(frozen=True)
class InboxPage:
    """A view's answer: how many items match, and the ids of rows `offset`… in order."""

    total: int
    offset: int
    ids: list[str]


class Inbox:
    """Reads for the inbox (on any thread but the GUI's: each call is a read transaction)."""

    MEMO_SIZE = 8

    def __init__(self, cache: Cache, me: str) -> None:
        self.cache = cache
        self.me = me
        # Recent first windows, so deleting search text or unticking a chip answers at once.
        # Valid while the cache is unchanged and for 30 s (the default order compares with
        # now).
        self._memo: dict[tuple[Any, ...], InboxPage] = {}

    def page(self, filter_: InboxFilter, offset: int = 0, limit: int | None = None) -> InboxPage:
        """How many items the view holds, and `limit` ids from `offset` in display order."""
        limit = limit or WINDOW
        key = (filter_, offset, limit, self.cache.generation, int(time.time() // 30))
        memo = self._memo.get(key)
        if memo is not None:
            return memo
        view = build_view_sql(filter_, self.me)
        answer = self.cache.queries.inbox_page(view, offset, limit, count=offset == 0)
        if offset:
            answer = InboxPage(-1, offset, answer.ids)  # the total comes with the first window
        self._memo = {k: v for k, v in self._memo.items() if k[3:] == key[3:]}
        if len(self._memo) >= self.MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = answer
        return answer

    def ids(self, filter_: InboxFilter) -> list[str]:
        """Every id of a view in order (for tests and tools; the view uses `page`)."""
        view = build_view_sql(filter_, self.me)
        return self.cache.queries.inbox_page(view, 0, -1, count=False).ids

    def rows(self, ids: list[str]) -> dict[str, InboxRow]:
        return self.cache.queries.inbox_rows(ids, datetime.now(UTC))

    def counts(self) -> dict[str, dict[str, int]]:
        """Per queue: how many items are in it, how many at risk and how many overdue."""
        return self.cache.queries.queue_counts([key for key, _label in QUEUES], self.me)


@dataclass(frozen=True)
class Alert:
    """An item whose clock needs attention. No subject and no patient: a notice may be seen
    on a shared screen (the item itself says the rest, to whoever opens it)."""

    item_id: str
    clock: str
    state: str  # "at_risk" or "breached"
    kind: str
    priority: str


def alert_key(alert: Alert) -> str:
    return f"{alert.item_id}:{alert.clock}:{alert.state}"


class Alerts:
    """Which items should raise a desktop notice now: at risk or overdue, assigned to me or
    unassigned in my role's queue (never items this person cannot act on), once per item, clock
    and state, remembered in the cache across restarts."""

    MEMORY = 2000

    def __init__(self, cache: Cache, me: str, role: str) -> None:
        self.cache = cache
        self.me = me
        queue = ROLE_QUEUE.get(Role(role)) if role in Role.values() else None
        self.queue = queue.value if queue else None
        raw = cache.meta("alerted")
        self.seen: list[str] = list(json.loads(raw)) if raw else []

    def due(self) -> list[Alert]:
        """Fresh alerts (read only; `note_shown` records them)."""
        seen = set(self.seen)
        fresh = self.cache.queries.alerts(self.me, self.queue)
        return [alert for alert in fresh if alert_key(alert) not in seen]

    def note_shown(self, alerts: list[Alert]) -> None:
        """Remember alerts as shown, in memory (so the next check skips them at once)."""
        self.seen = (self.seen + [alert_key(a) for a in alerts])[-self.MEMORY :]

    def persist(self) -> None:
        """Keep what was shown across restarts (a cache write: call from a worker)."""
        self.cache.set_meta(alerted=json.dumps(self.seen))
