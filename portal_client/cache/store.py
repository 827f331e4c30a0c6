"""The encrypted local cache: one SQLCipher database per (server, user).

Opening checks the key and the integrity of every page; a cache that cannot be opened or
fails its check is set aside (renamed, never deleted: it may hold unsent actions) and a new
one is made, which a full sync fills. WAL mode with `synchronous=FULL`: the outbox holds staff
work that exists nowhere else.

`Cache` owns the database, its one writer thread and the response-clock policy; the work is
done by its parts, each a module of this package: `feed` (sync pages in), `outbox` (staff
actions out, and the notices of refused ones), `queries` (every read) and `clocks`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError, OperationalError

from . import schema as s
from .clocks import NO_CLOCKS, ClockPolicy
from .files import UNREADABLE, OpenReport, _engine, _touch_private, set_aside
from .writer import Writer

log = logging.getLogger(__name__)

CACHE_FILE = "cache.sqlite3"
T = TypeVar("T")


class CacheError(RuntimeError):
    """The cache cannot be used (and could not be set aside)."""


class Cache:
    """One user's cache. Reads run on any thread; every write runs on the writer thread."""

    def __init__(self, engine: Engine, path: Path, report: OpenReport) -> None:
        from .feed import Feed
        from .outbox import Outbox
        from .queries import Queries
        from .views import Views

        self.engine = engine
        self.path = path
        self.report = report
        self.writer = Writer()
        # Bumped by every write (on the writer thread only): readers' memos compare with it.
        self.generation = 0
        # Swapped in one assignment, never changed in place (see clocks.ClockPolicy).
        self.clock_policy: ClockPolicy = NO_CLOCKS
        self.feed = Feed(self)
        self.outbox = Outbox(self)
        self.queries = Queries(self)
        self.views = Views(self)

    # ---- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, key_hex: str, *, full_check: bool = False) -> Cache:
        """Open with the key, verify every page's HMAC (SQLCipher), and, with `full_check`,
        the b-tree structure too (slower: the sync engine runs it in the background after
        opening, see `verify`)."""
        path = folder / CACHE_FILE
        existed = path.exists() and path.stat().st_size > 0
        _touch_private(path)
        engine = _engine(path, key_hex)
        problem = cls._check(engine, full=full_check) if existed else None
        aside: Path | None = None
        if problem is not None:
            engine.dispose()
            aside = set_aside(path, problem)
            _touch_private(path)
            engine = _engine(path, key_hex)
        cache = cls(
            engine, path, OpenReport(problem or "ok", aside, created=not existed or bool(aside))
        )
        cache._migrate()
        cache.clock_policy = ClockPolicy.of(cache.policy())
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.chmod(side, 0o600)
        return cache

    @staticmethod
    def _check(engine: Engine, *, full: bool) -> str | None:
        try:
            with engine.connect() as conn:
                version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
                if version > s.SCHEMA_VERSION:
                    return f"made by a newer Triage Desk (schema {version})"
                bad = [r[0] for r in conn.exec_driver_sql("PRAGMA cipher_integrity_check")]
                if bad:
                    return f"encrypted pages fail their check ({len(bad)} problems)"
                if version >= 1:
                    flagged = conn.exec_driver_sql(
                        "SELECT value FROM meta WHERE key = 'integrity_problem'"
                    ).scalar()
                    if flagged:
                        return f"an earlier check found damage: {flagged}"
                if full:
                    quick = conn.exec_driver_sql("PRAGMA quick_check").scalar_one()
                    if quick != "ok":
                        return f"integrity check failed: {quick}"
        except (DatabaseError, OperationalError) as exc:
            text = str(exc.orig) if getattr(exc, "orig", None) else type(exc).__name__
            if "not a database" in text:
                return f"{UNREADABLE} with the key in the keyring (or is not a cache)"
            return f"cannot be opened ({text.splitlines()[0]})"
        return None

    def verify(self) -> str:
        """The structural check (`PRAGMA quick_check`), for a background thread after opening.
        A problem is recorded so that the next start sets this cache aside; returns "ok" or
        the problem."""
        try:
            with self.read() as conn:
                quick = str(conn.exec_driver_sql("PRAGMA quick_check").scalar_one())
        except (DatabaseError, OperationalError) as exc:
            quick = f"cannot be read ({type(exc).__name__})"
        if quick != "ok":
            log.error("local cache failed its integrity check: %s", quick)
            with contextlib.suppress(DatabaseError, OperationalError):
                self.set_meta(integrity_problem=quick[:500])
            return quick
        return "ok"

    def _migrate(self) -> None:
        with self.engine.connect() as conn:
            version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        while version < s.SCHEMA_VERSION:
            step, version = s.MIGRATIONS[version], version + 1

            def migrate(
                conn: Connection, step: Callable[[Connection], None] = step, target: int = version
            ) -> None:
                step(conn)
                conn.exec_driver_sql(f"PRAGMA user_version = {int(target)}")

            self.write(migrate)

    def close(self) -> None:
        """Finish queued writes, stop the writer, close the files. Call off the GUI thread."""
        self.writer.close()
        self.engine.dispose()

    # ---- transactions (for this package's parts) ---------------------------------------------

    def write(self, body: Callable[[Connection], T]) -> T:
        """Run `body` in one write transaction on the writer thread; wait for its result."""
        return self.writer.call(lambda: self._transaction(body))

    def _transaction(self, body: Callable[[Connection], T]) -> T:
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(cache_write=True)
                with conn.begin():
                    return body(conn)
        finally:
            self.generation += 1  # readers' memos of earlier answers are now stale

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction (any thread; WAL readers do not wait for the writer)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # ---- meta --------------------------------------------------------------------------------

    @staticmethod
    def put_meta(conn: Connection, key: str, value: str | None) -> None:
        stmt = sqlite_insert(s.meta).values(key=key, value=value)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    def meta(self, key: str) -> str | None:
        with self.read() as conn:
            return conn.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar()

    def set_meta(self, **values: str | None) -> None:
        def body(conn: Connection) -> None:
            for key, value in values.items():
                self.put_meta(conn, key, value)

        self.write(body)

    @property
    def cursor(self) -> str | None:
        return self.meta("cursor")

    @property
    def role(self) -> str:
        """The signed-in user's role (the fold checks pending actions against it)."""
        return self.meta("role") or ""

    # ---- the practice policy and its clocks --------------------------------------------------

    def policy(self) -> dict[str, Any] | None:
        raw = self.meta("policy_json")
        return json.loads(raw) if raw else None

    def set_policy(self, policy: dict[str, Any]) -> None:
        """Store the policy; if it changed, recompute every item's clock (one transaction)."""
        from .clocks import recompute_all

        def body(conn: Connection) -> ClockPolicy:
            raw = conn.execute(select(s.meta.c.value).where(s.meta.c.key == "policy_json"))
            stored = raw.scalar()
            clock_policy = ClockPolicy.of(policy)
            if stored is None or json.loads(stored) != policy:
                self.put_meta(conn, "policy_json", json.dumps(policy))
                recompute_all(conn, clock_policy)
            return clock_policy

        def job() -> None:
            # Swapped on the writer thread right after the commit: the next page applied
            # already uses it.
            self.clock_policy = self._transaction(body)

        self.writer.call(job)
