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

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text),
)

# One row per item: the last state the server confirmed (server_json, the contract's Item),
# and what staff see now (display_json: the server state with pending local actions applied;
# NULL when nothing is pending). The flat columns mirror the displayed state for queries.
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
    Column("assignee_id", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Column("first_response_at", Text),
    Column("resolved_at", Text),
    Column("version", Integer, nullable=False),
    Column("server_json", Text, nullable=False),
    Column("display_json", Text),
    Column("pending", Integer, nullable=False, default=0),
)
Index("ix_items_status_queue", items.c.status, items.c.queue)
Index("ix_items_assignee", items.c.assignee_id)
Index("ix_items_created", items.c.created_at)

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

FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5("
    "item_id UNINDEXED, subject, patient, body, tokenize='unicode61 remove_diacritics 2')"
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)
    conn.exec_driver_sql(FTS_DDL)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {0: _create_v1}
