"""Engines and sessions: SQLite (WAL, foreign keys) by default, PostgreSQL in production."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


class DatabaseConfigError(ValueError):
    """The database URL cannot be used (unsupported driver, unreachable folder)."""


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseConfigError(f"not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername not in {"postgresql+psycopg", "postgresql"}:
            raise DatabaseConfigError("use a postgresql+psycopg:// URL (psycopg 3)")
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=20,
            pool_pre_ping=True,
            hide_parameters=True,
            future=True,
        )
    raise DatabaseConfigError(f"unsupported database '{backend}': use sqlite or postgresql")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        _create_private_file(Path(database).expanduser())
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        hide_parameters=True,
        future=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (pysqlite's own transaction handling is off), so a
        # write transaction takes the lock at BEGIN IMMEDIATE and commits stay in change order.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("portal_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _create_private_file(path: Path) -> None:
    """The database holds patients' words: create it readable by its owner only (0600, its
    folder 0700). SQLite gives the -wal and -shm files the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("the database file %s is open to other users (%o): chmod 600", path, mode)
        return
    os.close(fd)


def rows_affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Database:
    """The engine plus two session factories: reads, and writes (which serialise on SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = is_postgres(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._commit_hooks: list[Callable[[], None]] = []
        event.listen(self._sessions, "after_commit", self._after_commit)
        event.listen(self._sessions, "after_rollback", self._after_rollback)

    def on_items_committed(self, hook: Callable[[], None]) -> None:
        """Call `hook` after every commit that changed an item (see items.mark_changed)."""
        self._commit_hooks.append(hook)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop("items_changed", False):
            for hook in self._commit_hooks:
                hook()

    @staticmethod
    def _after_rollback(session: Session) -> None:
        session.info.pop("items_changed", None)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read-only session; `snapshot` pins one consistent view for the whole transaction."""
        with self._sessions() as session:
            if snapshot and self.postgres:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        with self._sessions() as session:
            if not self.postgres:
                session.connection(execution_options={"portal_write": True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
