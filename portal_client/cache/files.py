"""Files of the encrypted cache: private permissions, the SQLCipher engine, setting aside."""

from __future__ import annotations

import logging
import os
import uuid
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

log = logging.getLogger(__name__)


def _touch_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(OSError):
        os.chmod(path.parent, 0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def _engine(path: Path, key_hex: str) -> Engine:
    url = URL.create("sqlite+pysqlcipher", password=f"x'{key_hex}'", database=str(path))
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        # The most recently used connection first: its page cache is warm.
        pool_use_lifo=True,
        connect_args={"check_same_thread": False, "timeout": 30},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        # Fewer, larger checkpoints while big sync pages stream in (the WAL may reach ~40 MB).
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Pages are decrypted into this cache; a warm one answers an inbox view of 100,000
        # items from memory (32 MiB at most per connection; most of the time one or two).
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("cache_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@dataclass(frozen=True)
class OpenReport:
    """How opening went: `integrity` is "ok" or the problem; `set_aside` the renamed file."""

    integrity: str
    set_aside: Path | None = None
    created: bool = False


UNREADABLE = "cannot be decrypted"  # how a problem without its key begins (store._check)
KEEP_UNREADABLE = 3  # set-aside caches no key opens: the newest few are kept, for IT to see


def set_aside(path: Path, reason: str) -> Path:
    """Rename the cache (and its WAL) out of the way, with a private note of why. A cache the
    key still opens may hold unsent actions and is kept; of those no key can open (the
    keyring lost its key), only the newest few are kept, so they do not pile up."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.set-aside-{stamp}-{uuid.uuid4().hex[:6]}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    note = target.parent / f"{target.name}.reason.txt"
    fd = os.open(note, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(reason + "\n")
    os.chmod(note, 0o600)
    log.warning("local cache set aside as %s: %s", target.name, reason)
    prune_unreadable(path)
    return target


def prune_unreadable(path: Path, keep: int = KEEP_UNREADABLE) -> list[Path]:
    """Delete all but the newest `keep` set-aside caches that no key can open; return them."""
    unreadable = []
    for note in path.parent.glob(f"{path.name}.set-aside-*.reason.txt"):
        with suppress(OSError):
            if note.read_text(encoding="utf-8").startswith(UNREADABLE):
                unreadable.append(note)
    removed = []
    # Oldest first: by when each note was written (several may share the name's second).
    unreadable.sort(key=lambda note: (note.stat().st_mtime_ns, note.name))
    for note in unreadable[:-keep] if keep else unreadable:
        cache = Path(str(note)[: -len(".reason.txt")])
        for part in (cache, Path(f"{cache}-wal"), Path(f"{cache}-shm"), note):
            with suppress(FileNotFoundError):
                part.unlink()
        removed.append(cache)
        log.info("removed %s: no key opens it", cache.name)
    return removed
