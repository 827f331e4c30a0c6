"""The encrypted local cache: one SQLCipher database per (server, user).

Opening checks the key and the integrity of every page; a cache that cannot be opened or
fails its check is set aside (renamed, never deleted: it may hold unsent actions) and a new
one is made, which a full sync fills. WAL mode with `synchronous=FULL`: the outbox holds staff
work that exists nowhere else.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError, OperationalError

from . import cache_schema as s
from .cache_files import OpenReport, _engine, _touch_private, set_aside
from .optimistic import PendingAction, fold, user_text
from .sla import BusinessCalendar, InboxClock, inbox_clock

log = logging.getLogger(__name__)

CACHE_FILE = "cache.sqlite3"


class CacheError(RuntimeError):
    """The cache cannot be used (and could not be set aside)."""


def _utc(moment: datetime | None) -> str | None:
    """Whole seconds, one fixed width, so stored times compare correctly as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Cache:
    """All reads and writes of one user's cache. Writes serialise on `BEGIN IMMEDIATE`."""

    def __init__(self, engine: Engine, path: Path, report: OpenReport) -> None:
        self.engine = engine
        self.path = path
        self.report = report
        self._clock: Callable[[dict[str, Any]], InboxClock] | None = None
        self.calendar: BusinessCalendar | None = None
        self.generation = 0

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
        cache.use_policy(cache.policy())
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
                return "cannot be decrypted with the key in the keyring (or is not a cache)"
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
            with self.write() as conn:
                s.MIGRATIONS[version](conn)
                version += 1
                conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")

    def close(self) -> None:
        self.engine.dispose()

    # ---- transactions ------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(cache_write=True)
                with conn.begin():
                    yield conn
        finally:
            self.generation += 1  # readers' memos of earlier answers are now stale

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # ---- meta --------------------------------------------------------------------------------

    @staticmethod
    def _set_meta(conn: Connection, key: str, value: str | None) -> None:
        stmt = sqlite_insert(s.meta).values(key=key, value=value)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    def meta(self, key: str) -> str | None:
        with self.read() as conn:
            return conn.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar()

    def set_meta(self, **values: str | None) -> None:
        with self.write() as conn:
            for key, value in values.items():
                self._set_meta(conn, key, value)

    @property
    def cursor(self) -> str | None:
        return self.meta("cursor")

    # ---- pulling -----------------------------------------------------------------------------

    def apply_page(self, page: dict[str, Any]) -> list[str]:
        """Store one `/sync` page and its cursor in one transaction; return changed item ids."""
        page_items: list[dict[str, Any]] = page["items"]
        ids = [item["id"] for item in page_items]
        with self.write() as conn:
            if page["patients"]:
                self._upsert_patients(conn, page["patients"])
            if page_items:
                pending = self._pending_for(conn, ids)
                names = self._patient_names(conn, page["patients"], page_items)
                current = self._server_versions(conn, ids) if pending else {}
                rows = []
                for item in page_items:
                    actions = pending.get(item["id"], [])
                    if actions and current.get(item["id"], -1) > item["version"]:
                        continue  # an action reply already brought a newer state
                    rows.append(self._item_row(item, actions, names.get(item["patient_id"], "")))
                self._upsert_items(conn, rows)
                self._index(conn, page_items)
            self._set_meta(conn, "cursor", page["cursor"])
            self._set_meta(conn, "last_sync_at", now_rfc3339())
        return ids

    def _item_row(
        self, item: dict[str, Any], actions: list[PendingAction], patient_name: str
    ) -> dict[str, Any]:
        shown = fold(item, actions) if actions else item
        return {
            **self._clock_columns(shown),
            "patient_name": patient_name,
            "id": shown["id"],
            "kind": shown["kind"],
            "status": shown["status"],
            "priority": shown["priority"],
            "queue": shown["queue"],
            "subject": shown["subject"],
            "patient_id": shown["patient_id"],
            "assignee_id": shown.get("assignee_id"),
            "created_at": shown["created_at"],
            "updated_at": shown["updated_at"],
            "first_response_at": shown.get("first_response_at"),
            "resolved_at": shown.get("resolved_at"),
            "version": item["version"],
            "server_json": json.dumps(item, separators=(",", ":")),
            "display_json": json.dumps(shown, separators=(",", ":")) if actions else None,
            "pending": len(actions),
        }

    @staticmethod
    def _upsert_items(conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        flat_names = [c.name for c in s.items.columns]
        stmt = sqlite_insert(s.items)
        flat = {name: stmt.excluded[name] for name in flat_names if name != "id"}
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["id"], set_=flat),
            [{name: row[name] for name in flat_names} for row in rows],
        )
        blobs = sqlite_insert(s.item_json)
        conn.execute(
            blobs.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "server_json": blobs.excluded.server_json,
                    "display_json": blobs.excluded.display_json,
                },
            ),
            [
                {
                    "id": row["id"],
                    "server_json": row["server_json"],
                    "display_json": row["display_json"],
                }
                for row in rows
            ],
        )

    @staticmethod
    def _patient_names(
        conn: Connection, page_patients: list[dict[str, Any]], page_items: list[dict[str, Any]]
    ) -> dict[str, str]:
        names = {
            p["id"]: f"{p.get('given_name', '')} {p.get('family_name', '')}".strip()
            for p in page_patients
        }
        missing = {i["patient_id"] for i in page_items} - set(names)
        if missing:
            query = select(
                s.patients.c.id, s.patients.c.given_name + " " + s.patients.c.family_name
            ).where(s.patients.c.id.in_(missing))
            names.update({row[0]: row[1] or "" for row in conn.execute(query)})
        return names

    @staticmethod
    def _upsert_patients(conn: Connection, patients: list[dict[str, Any]]) -> None:
        def full_name(p: dict[str, Any]) -> str:
            return f"{p.get('given_name', '')} {p.get('family_name', '')}".strip()

        known = {
            row[0]: row[1]
            for row in conn.execute(
                select(
                    s.patients.c.id, s.patients.c.given_name + " " + s.patients.c.family_name
                ).where(s.patients.c.id.in_([p["id"] for p in patients]))
            )
        }
        renamed = [p for p in patients if p["id"] in known and known[p["id"]] != full_name(p)]
        stmt = sqlite_insert(s.patients)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    c: stmt.excluded[c]
                    for c in ("mrn", "given_name", "family_name", "birth_date", "json")
                },
            ),
            [
                {
                    "id": p["id"],
                    "mrn": p.get("mrn"),
                    "given_name": p.get("given_name"),
                    "family_name": p.get("family_name"),
                    "birth_date": p.get("birth_date"),
                    "json": json.dumps(p, separators=(",", ":")),
                }
                for p in patients
            ],
        )
        # Names are copied onto items as their sort key; keep them in step when one changes.
        if renamed:
            conn.exec_driver_sql(
                "UPDATE items SET patient_name = ? WHERE patient_id = ?",
                [(full_name(p), p["id"]) for p in renamed],
            )

    @staticmethod
    def _index(conn: Connection, page_items: list[dict[str, Any]]) -> None:
        """Full-text rows: subject, patient name and every message body."""
        ids = [item["id"] for item in page_items]
        names = dict(
            conn.execute(
                select(
                    s.patients.c.id, s.patients.c.given_name + " " + s.patients.c.family_name
                ).where(s.patients.c.id.in_({i["patient_id"] for i in page_items}))
            ).all()
        )
        # The full-text row shares the item's rowid, so replacing it is a keyed delete, not a
        # scan of the whole index (item_id is UNINDEXED in FTS5).
        placeholders = ",".join("?" for _ in ids)
        rowids: dict[str, int] = dict(
            conn.exec_driver_sql(
                f"SELECT id, rowid FROM items WHERE id IN ({placeholders})",  # noqa: S608
                tuple(ids),
            ).all()
        )
        conn.exec_driver_sql(
            "DELETE FROM items_fts WHERE rowid = ?", [(rowid,) for rowid in rowids.values()]
        )
        conn.exec_driver_sql(
            "INSERT INTO items_fts(rowid, item_id, subject, patient, body) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    rowids[item["id"]],
                    item["id"],
                    item["subject"],
                    names.get(item["patient_id"], ""),
                    "\n".join(
                        e.get("body") or "" for e in item["entries"] if e.get("type") != "event"
                    ),
                )
                for item in page_items
                if item["id"] in rowids
            ],
        )

    def reset_for_resync(self) -> None:
        """Forget every synced row and the cursor; keep the outbox and notices."""
        with self.write() as conn:
            conn.execute(delete(s.items))
            conn.execute(delete(s.item_json))
            conn.execute(delete(s.patients))
            conn.exec_driver_sql("DELETE FROM items_fts")
            self._set_meta(conn, "cursor", None)

    def set_staff(self, members: Iterable[dict[str, Any]]) -> None:
        with self.write() as conn:
            conn.execute(delete(s.staff))
            rows = [
                {
                    "id": m["id"],
                    "username": m["username"],
                    "display_name": m["display_name"],
                    "role": m["role"],
                    "active": int(bool(m.get("active", True))),
                }
                for m in members
            ]
            if rows:
                conn.execute(insert(s.staff), rows)

    def staff_names(self) -> dict[str, str]:
        with self.read() as conn:
            return dict(conn.execute(select(s.staff.c.id, s.staff.c.display_name)).all())

    def _clock_columns(self, item: dict[str, Any]) -> dict[str, Any]:
        empty = {"due_at": None, "risk_at": None, "clock": None, "clock_business": 0}
        if self._clock is None:
            return empty
        if item.get("status") in ("done", "cancelled"):
            return {**empty, "clock": "closed"}
        try:
            clock = self._clock(item)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("could not compute a response clock: %s", type(exc).__name__)
            return empty
        return {
            "due_at": _utc(clock.due_at),
            "risk_at": _utc(clock.risk_at),
            "clock": clock.name or clock.settled,
            "clock_business": int(clock.business),
        }

    def use_policy(self, policy: dict[str, Any] | None) -> None:
        """Compute response clocks with this policy from now on (None: no clocks)."""
        if not policy:
            self._clock = None
            return
        try:
            calendar = BusinessCalendar.from_policy(policy)
        except (ValueError, KeyError) as exc:
            log.warning("the practice policy cannot be used for clocks: %s", exc)
            self._clock = None
            return
        self.calendar = calendar
        self._clock = lambda item: inbox_clock(item, policy, calendar)

    def set_policy(self, policy: dict[str, Any]) -> None:
        """Store the policy; if it changed, recompute every item's clock (one transaction)."""
        if self.policy() == policy:
            if self._clock is None:
                self.use_policy(policy)
            return
        self.use_policy(policy)
        with self.write() as conn:
            self._set_meta(conn, "policy_json", json.dumps(policy))
            rows = conn.execute(
                select(s.item_json.c.id, s.item_json.c.server_json, s.item_json.c.display_json)
            )
            updates = [
                {
                    "item_id": row.id,
                    **self._clock_columns(json.loads(row.display_json or row.server_json)),
                }
                for row in rows
            ]
            if updates:
                conn.execute(
                    sql_update(s.items)
                    .where(s.items.c.id == bindparam("item_id"))
                    .values(
                        due_at=bindparam("due_at"),
                        risk_at=bindparam("risk_at"),
                        clock=bindparam("clock"),
                        clock_business=bindparam("clock_business"),
                    ),
                    updates,
                )

    def policy(self) -> dict[str, Any] | None:
        raw = self.meta("policy_json")
        return json.loads(raw) if raw else None

    # ---- the outbox --------------------------------------------------------------------------

    @staticmethod
    def _pending_for(conn: Connection, item_ids: list[str]) -> dict[str, list[PendingAction]]:
        rows = conn.execute(
            select(
                s.outbox.c.id,
                s.outbox.c.item_id,
                s.outbox.c.action_json,
                s.outbox.c.created_at,
                s.outbox.c.actor_id,
            )
            .where(s.outbox.c.item_id.in_(item_ids))
            .order_by(s.outbox.c.id)
        ).all()
        grouped: dict[str, list[PendingAction]] = {}
        for row in rows:
            grouped.setdefault(row.item_id, []).append(
                PendingAction(
                    row.id, row.item_id, json.loads(row.action_json), row.created_at, row.actor_id
                )
            )
        return grouped

    @staticmethod
    def _server_versions(conn: Connection, item_ids: list[str]) -> dict[str, int]:
        query = select(s.items.c.id, s.items.c.version).where(s.items.c.id.in_(item_ids))
        return {row.id: row.version for row in conn.execute(query)}

    def _refold(
        self, conn: Connection, item_id: str, server_item: dict[str, Any] | None = None
    ) -> None:
        """Recompute what staff see for one item from its server state and pending actions."""
        if server_item is None:
            raw = conn.execute(
                select(s.item_json.c.server_json).where(s.item_json.c.id == item_id)
            ).scalar()
            if raw is None:
                return
            server_item = json.loads(raw)
        actions = self._pending_for(conn, [item_id]).get(item_id, [])
        name = conn.execute(
            select(s.patients.c.given_name + " " + s.patients.c.family_name).where(
                s.patients.c.id == server_item["patient_id"]
            )
        ).scalar()
        row = self._item_row(server_item, actions, name or "")
        self._upsert_items(conn, [row])

    def enqueue(
        self, item_id: str, action: dict[str, Any], actor_id: str, if_match: int | None = None
    ) -> int:
        """One transaction: the outbox row (with a fresh idempotency key) and the optimistic
        change to the cached item."""
        with self.write() as conn:
            outbox_id = conn.execute(
                insert(s.outbox).values(
                    item_id=item_id,
                    action_json=json.dumps(action),
                    idem_key=str(uuid.uuid4()),
                    if_match=if_match,
                    actor_id=actor_id,
                    created_at=now_rfc3339(),
                    attempts=0,
                    next_attempt_at=0.0,
                )
            ).inserted_primary_key
            self._refold(conn, item_id)
        assert outbox_id is not None
        return int(outbox_id[0])

    def next_outbox(self) -> dict[str, Any] | None:
        """The oldest queued action (actions go out in order, one at a time)."""
        with self.read() as conn:
            row = conn.execute(select(s.outbox).order_by(s.outbox.c.id).limit(1)).first()
            return dict(row._mapping) if row else None

    def delivered(self, outbox_id: int, item_id: str, server_item: dict[str, Any]) -> None:
        with self.write() as conn:
            conn.execute(delete(s.outbox).where(s.outbox.c.id == outbox_id))
            stored = conn.execute(select(s.items.c.version).where(s.items.c.id == item_id)).scalar()
            if stored is None or server_item["version"] >= stored:
                self._refold(conn, item_id, server_item)
                self._index(conn, [server_item])
            else:
                self._refold(conn, item_id)

    def refused(
        self,
        outbox_id: int,
        item_id: str,
        *,
        kind: str,
        message: str,
        actor_id: str | None,
        current: dict[str, Any] | None,
    ) -> int:
        """Drop a refused action, record a notice keeping the user's text, fold again."""
        with self.write() as conn:
            row = conn.execute(select(s.outbox).where(s.outbox.c.id == outbox_id)).first()
            if row is None:
                return 0
            action = json.loads(row.action_json)
            conn.execute(delete(s.outbox).where(s.outbox.c.id == outbox_id))
            notice_id = conn.execute(
                insert(s.notices).values(
                    item_id=item_id,
                    kind=kind,
                    action_type=str(action.get("type")),
                    action_json=row.action_json,
                    message=message,
                    actor_id=actor_id,
                    user_text=user_text(action),
                    created_at=now_rfc3339(),
                    dismissed=0,
                )
            ).inserted_primary_key
            stored = conn.execute(select(s.items.c.version).where(s.items.c.id == item_id)).scalar()
            if current is not None and (stored is None or current.get("version", 0) >= stored):
                self._refold(conn, item_id, current)
            else:
                self._refold(conn, item_id)
        assert notice_id is not None
        return int(notice_id[0])

    def retry_later(self, outbox_id: int, delay: float, error: str) -> None:
        with self.write() as conn:
            conn.execute(
                sql_update(s.outbox)
                .where(s.outbox.c.id == outbox_id)
                .values(
                    attempts=s.outbox.c.attempts + 1,
                    next_attempt_at=time.time() + delay,
                    last_error=error,
                )
            )

    # ---- reading -----------------------------------------------------------------------------

    def item(self, item_id: str) -> dict[str, Any] | None:
        with self.read() as conn:
            row = conn.execute(
                select(s.item_json.c.server_json, s.item_json.c.display_json).where(
                    s.item_json.c.id == item_id
                )
            ).first()
        if row is None:
            return None
        return json.loads(row.display_json or row.server_json)  # type: ignore[no-any-return]

    def notices(self, *, include_dismissed: bool = False) -> list[dict[str, Any]]:
        query = select(s.notices).order_by(s.notices.c.id)
        if not include_dismissed:
            query = query.where(s.notices.c.dismissed == 0)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def dismiss_notice(self, notice_id: int) -> None:
        with self.write() as conn:
            conn.execute(
                sql_update(s.notices).where(s.notices.c.id == notice_id).values(dismissed=1)
            )

    def search(self, text: str, limit: int = 200) -> list[str]:
        """Item ids whose subject, patient name or messages match (FTS5; prefix match)."""
        terms = [t for t in "".join(c if c.isalnum() else " " for c in text).split() if t]
        if not terms:
            return []
        query = " ".join(f'"{t}"*' for t in terms)
        with self.read() as conn:
            return [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT item_id FROM items_fts WHERE items_fts MATCH ? ORDER BY rank LIMIT ?",
                    (query, limit),
                )
            ]

    def counts(self) -> dict[str, int]:
        with self.read() as conn:
            return {
                "items": conn.execute(select(func.count()).select_from(s.items)).scalar_one(),
                "patients": conn.execute(select(func.count()).select_from(s.patients)).scalar_one(),
                "pending_actions": conn.execute(
                    select(func.count()).select_from(s.outbox)
                ).scalar_one(),
                "conflicts": conn.execute(
                    select(func.count()).select_from(s.notices).where(s.notices.c.dismissed == 0)
                ).scalar_one(),
            }

    def server_versions(self) -> dict[str, int]:
        with self.read() as conn:
            return {r.id: r.version for r in conn.execute(select(s.items.c.id, s.items.c.version))}

    def all_items(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every item as staff see it, in batches (for reports; memory stays bounded)."""
        last = ""
        while True:
            with self.read() as conn:
                rows = conn.execute(
                    select(s.item_json.c.id, s.item_json.c.server_json, s.item_json.c.display_json)
                    .where(s.item_json.c.id > last)
                    .order_by(s.item_json.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row in rows:
                yield json.loads(row.display_json or row.server_json)
            last = rows[-1].id
