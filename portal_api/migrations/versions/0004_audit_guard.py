"""audit guard: the chain head only moves forward, and neither audit table can be truncated

Revision ID: 0004
Revises: 0003

0001 already refuses UPDATE and DELETE on `audit_events`. That left two ways to cut the log
quietly: PostgreSQL's TRUNCATE skips row triggers, and `audit_head` (which `audit.verify`
compares the chain with) could be reset or moved back to match a shortened chain. Here:

- TRUNCATE of either table is refused (PostgreSQL statement triggers; SQLite has no TRUNCATE,
  and its "truncate optimisation" is off on a table with a DELETE trigger).
- `audit_head` cannot be deleted, and an UPDATE may only do what `audit.append` does: take
  the next sequence number (hash unchanged), or, at the same number, take the hash of the
  event stored under it. So the head can never move back nor point at an event that is not
  there.
- PostgreSQL: UPDATE, DELETE and TRUNCATE on `audit_events` and DELETE and TRUNCATE on
  `audit_head` are revoked from PUBLIC and from the role running the migration (the owner).
  The owner can grant them back and drop the triggers; a practice runs the service under a
  role that does not own the tables (docs/privacy.md, "Audit integrity"), and keeps an anchor
  file outside the database (`portal_api/anchors.py`) for what an owner could still do.

Note for later migrations: a SQLite batch operation that rebuilds `audit_events` or
`audit_head` ("recreate") drops their triggers; such a migration must create them again.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PG_UPGRADE = [
    "CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' cannot be truncated: the audit log "
    "is append-only'; "
    "END $$",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()",
    "CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'audit_head cannot be deleted'; END IF; "
    "IF NEW.id = OLD.id AND ("
    "(NEW.last_seq = OLD.last_seq AND NEW.last_hash = OLD.last_hash) "
    "OR (NEW.last_seq = OLD.last_seq + 1 AND NEW.last_hash = OLD.last_hash) "
    "OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash = "
    "(SELECT e.hash FROM audit_events e WHERE e.seq = NEW.last_seq))"
    ") THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'audit_head only moves forward, one appended event at a time'; END $$",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC, CURRENT_USER",
    "REVOKE DELETE, TRUNCATE ON audit_head FROM PUBLIC, CURRENT_USER",
]

PG_DOWNGRADE = [
    "GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO CURRENT_USER",
    "GRANT DELETE, TRUNCATE ON audit_head TO CURRENT_USER",
    "DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head",
    "DROP FUNCTION IF EXISTS audit_head_forward_only()",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP FUNCTION IF EXISTS audit_no_truncate()",
]

SQLITE_UPGRADE = [
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END",
    # (coalesce: a NULL anywhere must refuse, not let the WHEN clause pass as unknown)
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head WHEN NOT coalesce("
    "NEW.id = OLD.id AND ("
    "(NEW.last_seq = OLD.last_seq AND NEW.last_hash = OLD.last_hash) "
    "OR (NEW.last_seq = OLD.last_seq + 1 AND NEW.last_hash = OLD.last_hash) "
    "OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash = "
    "(SELECT e.hash FROM audit_events e WHERE e.seq = NEW.last_seq))"
    "), 0) BEGIN "
    "SELECT RAISE(ABORT, 'audit_head only moves forward, one appended event at a time'); END",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for statement in PG_UPGRADE if _postgres() else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in PG_DOWNGRADE if _postgres() else SQLITE_DOWNGRADE:
        op.execute(statement)
