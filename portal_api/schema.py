"""Creating, checking and upgrading the database schema (Alembic migrations)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text


class SchemaError(RuntimeError):
    """The database's schema does not fit this version of the service."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("portal_api") / "migrations"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True)
class SchemaState:
    state: str  # "empty", "current", "older", "newer", "foreign"
    revision: str | None


def inspect_schema(engine: Engine, script: ScriptDirectory | None = None) -> SchemaState:
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
    if revision is None:
        return SchemaState("empty" if not tables else "foreign", None)
    script = script or ScriptDirectory.from_config(alembic_config())
    if revision == script.get_current_head():
        return SchemaState("current", revision)
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState("older" if revision in known else "newer", revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate on, in one transaction. SQLite rebuilds a table to alter it,
    so its foreign keys are off meanwhile and checked once at the end."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # (outside any transaction: the pragma is a no-op inside one)
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Several processes may start at once on an empty database: one migrates.
                    conn.execute(text("SELECT pg_advisory_xact_lock(74125001)"))
                yield conn
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise SchemaError("the migration left rows that break a foreign key")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (safe to run on a current one)."""
    cfg = alembic_config()
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to an earlier revision (operators: after a failed upgrade)."""
    cfg = alembic_config()
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def ensure_ready(
    engine: Engine, *, create_if_empty: bool = True, script: ScriptDirectory | None = None
) -> SchemaState:
    """What `serve` does: create an empty database, refuse an older or newer schema."""
    found = inspect_schema(engine, script)
    if found.state == "empty" and create_if_empty:
        upgrade(engine)
        return inspect_schema(engine)
    if found.state == "older":
        raise SchemaError(
            f"the database schema is older ({found.revision}) than this service needs; "
            "run `portal-api migrate --database URL` first"
        )
    if found.state == "newer":
        raise SchemaError(
            f"the database schema ({found.revision}) is newer than this service knows; "
            "upgrade portal-api to a version that matches it"
        )
    if found.state == "foreign":
        raise SchemaError(
            "the database holds tables but no portal-api schema version; "
            "point --database at an empty database or a portal-api one"
        )
    return found
