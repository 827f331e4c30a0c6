"""Tables of the local cache (SQLAlchemy Core on SQLCipher) and their migrations.

The schema version lives in `PRAGMA user_version`; `MIGRATIONS[n]` brings version n to n + 1.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

SCHEMA_VERSION = 4

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text),
)

# One narrow row per item: the displayed state's columns, for queries (the inbox scans these;
# keep them small). The JSON lives apart in `item_json`.
items = Table(
    "items",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("queue", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("patient_id", Text, nullable=False),
    Column("patient_name", Text, nullable=False, default=""),  # the inbox's sort key
    Column("assignee_id", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("first_response_at", Text),
    Column("resolved_at", Text),
    Column("version", Integer, nullable=False),
    Column("pending", Integer, nullable=False, default=0),
    # The response clock that matters now (see sla.inbox_clock): due and at-risk moments of a
    # running clock, so the inbox only compares with now; or how the clocks ended.
    Column("due_at", Text),
    Column("risk_at", Text),
    Column("clock", Text),  # "first_response"/"resolution" while running; "paused"/"met"/"missed"
    Column("clock_business", Integer, nullable=False, default=0),
    # A refill's protocol pre-check: "pass"/"review" (NULL: not a refill, or not checked), and
    # the rules that failed, in words, for the column's tooltip.
    Column("protocol", Text),
    Column("protocol_why", Text),
)
# (Version 1's status/queue, assignee and created indexes are gone: the inbox index below
# answers those queries, and every index costs time on each synced page.)
Index("ix_items_patient", items.c.patient_id)
# Covers the inbox's queue and filter columns and its default order, so a queue is answered
# from the index alone ('urgent' > 'routine': priority DESC puts urgent first).
Index(
    "ix_items_inbox",
    items.c.status,
    items.c.assignee_id,
    items.c.queue,
    items.c.kind,
    items.c.priority,
    items.c.created_at,
    items.c.patient_name,
    items.c.due_at,
    items.c.risk_at,
    items.c.id,
)

# The last state the server confirmed (server_json, the contract's Item) and what staff see now
# (display_json: the server state with pending local actions applied; NULL when none pend).
item_json = Table(
    "item_json",
    metadata,
    Column("id", Text, primary_key=True),
    Column("server_json", Text, nullable=False),
    Column("display_json", Text),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Text, primary_key=True),
    Column("mrn", Text),
    Column("given_name", Text),
    Column("family_name", Text),
    Column("birth_date", Text),
    Column("json", Text, nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Text, primary_key=True),
    Column("username", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("active", Integer, nullable=False),
)

# Staff work that exists nowhere else until the server confirms it.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Text, nullable=False),
    Column("action_json", Text, nullable=False),
    Column("idem_key", Text, nullable=False, unique=True),
    Column("if_match", Integer),
    Column("actor_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False, default=0.0),
    Column("last_error", Text),
)
Index("ix_outbox_item", outbox.c.item_id)

# Actions the server refused (conflict or rejection), with the user's text kept for reuse.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # "conflict" or "rejected"
    Column("action_type", Text, nullable=False),
    Column("action_json", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("actor_id", Text),
    Column("user_text", Text),
    Column("created_at", Text, nullable=False),
    Column("dismissed", Integer, nullable=False, default=0),
)

# Items this person opened, recorded for the audit log (the server cannot see reads from this
# cache) until the server has them; then kept a minute so a repeat open counts once.
views = Table(
    "views",
    metadata,
    Column("id", Text, primary_key=True),  # the view id the server records it under
    Column("item_id", Text, nullable=False),
    Column("viewed_at", Text, nullable=False),  # RFC 3339
    Column("opened", Float, nullable=False),  # epoch seconds, for the one-minute rule
    Column("sent", Integer, nullable=False, default=0),
)
Index("ix_views_item", views.c.item_id, views.c.opened)

FTS_DDL_V1 = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5("
    "item_id UNINDEXED, subject, patient, body, tokenize='unicode61 remove_diacritics 2')"
)
# Prefix indexes make search-as-you-type cheap.
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5("
    "item_id UNINDEXED, subject, patient, body, tokenize='unicode61 remove_diacritics 2', "
    "prefix='2 3 4')"
)


def _create_v1(conn: Connection) -> None:
    """Version 1 as it shipped: JSON inside `items`, FTS without prefix indexes."""
    conn.exec_driver_sql("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.exec_driver_sql(
        "CREATE TABLE items (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, "
        "priority TEXT NOT NULL, queue TEXT NOT NULL, subject TEXT NOT NULL, "
        "patient_id TEXT NOT NULL, assignee_id TEXT, created_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL, first_response_at TEXT, resolved_at TEXT, "
        "version INTEGER NOT NULL, server_json TEXT NOT NULL, display_json TEXT, "
        "pending INTEGER NOT NULL)"
    )
    conn.exec_driver_sql("CREATE INDEX ix_items_status_queue ON items (status, queue)")
    conn.exec_driver_sql("CREATE INDEX ix_items_assignee ON items (assignee_id)")
    conn.exec_driver_sql("CREATE INDEX ix_items_created ON items (created_at)")
    for table in (patients, staff, outbox, notices):
        table.create(conn)
    conn.exec_driver_sql(FTS_DDL_V1)


def _v1_to_v2(conn: Connection) -> None:
    """Move the JSON out of `items` (scans read narrow rows) and rebuild the full-text index
    with prefix indexes."""
    item_json.create(conn)
    conn.exec_driver_sql(
        "INSERT INTO item_json (id, server_json, display_json) "
        "SELECT id, server_json, display_json FROM items"
    )
    conn.exec_driver_sql("ALTER TABLE items ADD COLUMN patient_name TEXT NOT NULL DEFAULT ''")
    conn.exec_driver_sql(
        "UPDATE items SET patient_name = coalesce((SELECT given_name || ' ' || family_name "
        "FROM patients WHERE patients.id = items.patient_id), '')"
    )
    conn.exec_driver_sql("CREATE INDEX ix_items_patient ON items (patient_id)")
    for old in ("ix_items_status_queue", "ix_items_assignee", "ix_items_created"):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {old}")
    for column in (
        "due_at TEXT",
        "risk_at TEXT",
        "clock TEXT",
        "clock_business INTEGER NOT NULL DEFAULT 0",
    ):
        conn.exec_driver_sql(f"ALTER TABLE items ADD COLUMN {column}")
    conn.exec_driver_sql("ALTER TABLE items DROP COLUMN server_json")
    conn.exec_driver_sql("ALTER TABLE items DROP COLUMN display_json")
    conn.exec_driver_sql("DROP TABLE items_fts")
    conn.exec_driver_sql(FTS_DDL)
    conn.exec_driver_sql(
        "CREATE INDEX ix_items_inbox ON items (status, assignee_id, queue, kind, priority, "
        "created_at, patient_name, due_at, risk_at, id)"
    )
    conn.exec_driver_sql("UPDATE meta SET value = NULL WHERE key = 'cursor'")  # refill the index


def _v2_to_v3(conn: Connection) -> None:
    """Views recorded for the audit log."""
    views.create(conn)  # with its index


def _v3_to_v4(conn: Connection) -> None:
    """The refill protocol's verdict on each row (filled by the next full sync)."""
    conn.exec_driver_sql("ALTER TABLE items ADD COLUMN protocol TEXT")
    conn.exec_driver_sql("ALTER TABLE items ADD COLUMN protocol_why TEXT")
    conn.exec_driver_sql("UPDATE meta SET value = NULL WHERE key = 'cursor'")


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    0: _create_v1,
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
}
