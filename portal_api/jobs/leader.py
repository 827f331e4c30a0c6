"""Which server process runs the scheduled jobs.

With PostgreSQL, several server processes share one database; the one holding a session-level
advisory lock on its own connection is the leader. If that process stops, the database drops
its connection and the lock with it, and another process takes over at its next tick. With
SQLite there is one process, which always leads.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from threading import Lock

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from ..db import Database

log = logging.getLogger(__name__)

LOCK_KEY = 74125002  # (74125001 serialises migrations)


class Leadership:
    def __init__(self, db: Database, key: int = LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: Connection | None = None
        self._lock = Lock()

    def held(self) -> bool:
        """Lead if we can; keep leading while our connection lives."""
        if not self.db.postgres:
            return True
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    return True
                except SQLAlchemyError:
                    log.warning("lost the scheduler lock's connection; standing down")
                    self._drop()
            try:
                conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except SQLAlchemyError:
                return False
            try:
                got = conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
            except SQLAlchemyError:
                conn.close()
                return False
            if got:
                self._conn = conn
                log.info("this process now runs the scheduled jobs")
                return True
            conn.close()
            return False

    def release(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            # (if this fails, closing the connection below drops the lock anyway)
            with suppress(SQLAlchemyError):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(SQLAlchemyError):
                self._conn.invalidate()  # a fresh connection next time, never this session
                self._conn.close()
        self._conn = None
