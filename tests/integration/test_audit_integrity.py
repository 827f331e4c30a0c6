"""The audit log cannot be cut quietly: the database refuses to truncate it or move its head
back, and anchors kept outside the database catch what an owner who drops the guards does."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import NullPool

from portal_api import anchors, audit
from portal_api.cli import main
from portal_api.config import Settings
from portal_api.db import Database, create_db_engine
from portal_api.jobs import Jobs
from portal_api.jobs.anchor import Anchorer
from portal_api.models import AuditEvent, AuditHead
from portal_api.urgency import PracticeRules
from tests.helpers import wait_until

if TYPE_CHECKING:
    from tests.conftest import PostgresServer

GUARDS = {
    # PostgreSQL: (trigger, table)
    "postgresql": [
        ("audit_events_no_change", "audit_events"),
        ("audit_events_no_truncate", "audit_events"),
        ("audit_head_no_truncate", "audit_head"),
        ("audit_head_forward_only", "audit_head"),
    ],
    "sqlite": [
        ("audit_events_no_update", ""),
        ("audit_events_no_delete", ""),
        ("audit_head_no_delete", ""),
        ("audit_head_forward_only", ""),
    ],
}


def add_events(db: Database, count: int) -> None:
    for n in range(count):
        with db.write() as session:
            audit.append(
                session, actor_kind="system", actor_id=None, action="test.event", detail={"n": n}
            )


def head(db: Database) -> tuple[int, str]:
    with db.read() as session:
        row = session.get(AuditHead, 1)
        assert row is not None
        return row.last_seq, row.last_hash


def hash_of(db: Database, seq: int) -> str:
    with db.read() as session:
        return str(session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq)))


def refused(db: Database, sql: str) -> bool:
    try:
        with db.write() as session:
            session.execute(text(sql))
    except DatabaseError:
        return True
    return False


def drop_every_guard(db: Database) -> None:
    """What the tables' owner (or a superuser) can do: the anchors must still catch it."""
    with db.write() as session:
        for trigger, table in GUARDS[db.engine.dialect.name]:
            session.execute(text(f"DROP TRIGGER {trigger}" + (f" ON {table}" if table else "")))


def cut_tail(db: Database, keep: int) -> None:
    """Delete every event after `keep` and move the head back to match."""
    with db.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq > :keep"), {"keep": keep})
        kept = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == keep))
        session.execute(update(AuditHead).values(last_seq=keep, last_hash=kept))


def rewrite_tail(db: Database, start: int) -> None:
    """Change every event from `start` on and recompute each later hash and the head."""
    with db.write() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        prev = audit.GENESIS
        for row in rows:
            if row.seq >= start:
                row.action = "test.rewritten"
                content = audit.canonical(
                    seq=row.seq,
                    at=row.at,
                    actor_kind=row.actor_kind,
                    actor_id=row.actor_id,
                    action=row.action,
                    item_id=row.item_id,
                    patient_id=row.patient_id,
                    ip=row.ip,
                    detail=row.detail or {},
                )
                row.prev_hash = prev
                row.hash = audit.link_hash(prev, content)
            prev = row.hash
        session.flush()
        session.execute(update(AuditHead).values(last_seq=rows[-1].seq, last_hash=prev))


def plain_verify(db: Database) -> audit.ChainReport:
    with db.read() as session:
        return audit.verify(session)


def anchors_hold(db: Database, path: Path) -> anchors.AnchorCheck:
    with db.read() as session:
        return anchors.verify(session, anchors.read_anchors(path))


# --- the database refuses -------------------------------------------------------------------


def test_the_audit_log_cannot_be_emptied(db: Database) -> None:
    add_events(db, 3)
    if db.postgres:  # (TRUNCATE skips row triggers)
        assert refused(db, "TRUNCATE audit_events")
        assert refused(db, "TRUNCATE audit_head")
        assert refused(db, "TRUNCATE audit_events, audit_head")
    assert refused(db, "DELETE FROM audit_head")
    assert refused(db, "DELETE FROM audit_events")
    assert plain_verify(db) == audit.ChainReport(True, 3)


def test_the_head_cannot_follow_a_deleted_tail_back(db: Database) -> None:
    add_events(db, 4)
    with db.write() as session:  # 0001's row guard dropped; 0004's head guard kept
        if db.postgres:
            session.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
        else:
            session.execute(text("DROP TRIGGER audit_events_no_delete"))
    with pytest.raises(DatabaseError, match="only moves forward"):
        cut_tail(db, keep=2)
    assert head(db)[0] == 4
    assert plain_verify(db) == audit.ChainReport(True, 4)


def test_the_head_cannot_be_rewritten_and_appends_still_work(db: Database) -> None:
    add_events(db, 3)
    seq, digest = head(db)
    assert refused(db, f"UPDATE audit_head SET last_hash = '{'f' * 64}'")
    assert refused(db, f"UPDATE audit_head SET last_seq = 0, last_hash = '{audit.GENESIS}'")
    assert refused(db, f"UPDATE audit_head SET last_seq = 2, last_hash = '{hash_of(db, 2)}'")
    assert refused(db, "UPDATE audit_head SET last_seq = last_seq + 5")
    assert refused(db, f"UPDATE audit_head SET last_seq = last_seq + 1, last_hash = '{'e' * 64}'")
    assert head(db) == (seq, digest)
    add_events(db, 2)  # audit.append: the next number, then the stored event's hash
    assert head(db) == (5, hash_of(db, 5))
    assert plain_verify(db) == audit.ChainReport(True, 5)


# --- the anchors catch an owner -------------------------------------------------------------


def test_anchors_catch_a_cut_tail_that_plain_verify_passes(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    add_events(db, 3)
    assert Anchorer(db, path).run() is not None
    add_events(db, 3)
    assert Anchorer(db, path).run() is not None
    drop_every_guard(db)
    cut_tail(db, keep=4)
    assert plain_verify(db) == audit.ChainReport(True, 4)  # the chain alone cannot tell
    found = anchors_hold(db, path)
    assert not found.ok
    assert found.describe().startswith("events after 4 are missing (anchored at event 6 on ")


def test_anchors_catch_a_rewritten_tail_that_plain_verify_passes(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    add_events(db, 5)
    Anchorer(db, path).run()
    drop_every_guard(db)
    rewrite_tail(db, start=4)
    assert plain_verify(db) == audit.ChainReport(True, 5)
    found = anchors_hold(db, path)
    assert not found.ok
    assert found.describe().startswith("event 5 does not match its anchor of ")


def test_anchors_catch_an_emptied_log_with_its_head_reset(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    add_events(db, 2)
    Anchorer(db, path).run()
    drop_every_guard(db)
    with db.write() as session:
        session.execute(
            text("TRUNCATE audit_events" if db.postgres else "DELETE FROM audit_events")
        )
        session.execute(update(AuditHead).values(last_seq=0, last_hash=audit.GENESIS))
    assert plain_verify(db) == audit.ChainReport(True, 0)
    assert anchors_hold(db, path).describe().startswith("events after 0 are missing")


# --- the anchor job -------------------------------------------------------------------------


def anchor_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_the_anchor_job_writes_only_when_the_head_moved(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "audit" / "anchors.jsonl"
    path.parent.mkdir()
    job = Anchorer(db, path)
    assert job.run() is None and not path.exists()  # nothing to anchor in an empty log
    add_events(db, 2)
    first = job.run()
    assert first is not None and (first.seq, first.hash) == head(db)
    assert job.run() is None
    assert Anchorer(db, path).run() is None  # (a restarted process reads the file, not memory)
    assert len(anchor_lines(path)) == 1
    add_events(db, 1)
    assert job.run() is not None
    lines = anchor_lines(path)
    assert len(lines) == 2
    assert [a.seq for a in anchors.parse_lines(lines)] == [2, 3]
    assert anchors_hold(db, path).describe().startswith("2 anchors hold (latest: event 3 at ")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_anchor_after_a_torn_line_starts_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    at = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    anchors.append(path, anchors.Anchor(at, 1, "a" * 64))
    with path.open("a") as stream:
        stream.write('{"at": "2026-11-27T13:05:00Z", "se')  # a crash mid-line
    anchors.append(path, anchors.Anchor(at, 2, "b" * 64))
    assert anchors.last_anchor(path) == anchors.Anchor(at, 2, "b" * 64)
    with pytest.raises(anchors.AnchorFileError, match="line 2 is not an anchor"):
        anchors.read_anchors(path)


def test_the_check_reports_the_earliest_anchor_that_fails() -> None:
    at = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    kept = [anchors.Anchor(at, 3, "c" * 64), anchors.Anchor(at, 9, "9" * 64)]
    assert anchors.check(kept, {3: "c" * 64, 9: "9" * 64}, 9).ok
    assert anchors.check(kept, {3: "c" * 64}, 7).problem == (
        "events after 7 are missing (anchored at event 9 on 2026-11-27T13:00:00Z)"
    )
    assert anchors.check(kept, {3: "d" * 64}, 7).problem == (
        "event 3 does not match its anchor of 2026-11-27T13:00:00Z"
    )
    assert anchors.check([], {}, 0).describe() == "no anchors to check"


def test_the_leader_anchors_on_its_schedule_and_as_it_stops(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    add_events(db, 2)
    with_anchor = Settings(
        database_url=settings.database_url,
        scheduler=True,
        audit_anchor_file=str(path),
        audit_anchor_seconds=3600,
        escalation_check_seconds=3600,
        notification_check_seconds=3600,
    )
    jobs = Jobs(with_anchor, db, PracticeRules(), upkeep=lambda: None)
    jobs.start()
    try:
        assert wait_until(path.exists, timeout=20)  # the first anchor, written at start
        add_events(db, 1)
    finally:
        jobs.stop()
    assert [a.seq for a in anchors.read_anchors(path)] == [2, 3]  # (the last one at stop)
    assert Settings.from_env({"PORTAL_API_AUDIT_ANCHOR_FILE": "/x"}).audit_anchor_seconds == 300
    assert Jobs(settings, db, PracticeRules(), upkeep=lambda: None).anchorer is None


# --- the command line -----------------------------------------------------------------------


def test_verify_with_anchors_exit_codes(
    db: Database, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = settings.database_url
    path = tmp_path / "anchors.jsonl"
    add_events(db, 4)
    Anchorer(db, path).run()
    assert main(["audit", "verify", "--database", url, "--anchors", str(path)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("audit chain intact: 4 events verified; 1 anchor holds")
    drop_every_guard(db)
    cut_tail(db, keep=3)
    assert main(["audit", "verify", "--database", url]) == 0  # what the probe saw
    capsys.readouterr()
    assert main(["audit", "verify", "--database", url, "--anchors", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("audit chain BROKEN: events after 3 are missing (anchored at event 4")
    assert out.count("\n") == 1
    assert main(["audit", "verify", "--database", url, "--anchors", str(tmp_path / "no")]) == 2
    assert "cannot read the anchor file" in capsys.readouterr().err
    path.write_text("not json\n")
    assert main(["audit", "verify", "--database", url, "--anchors", str(path)]) == 1
    assert "line 1 is not an anchor" in capsys.readouterr().out


def test_verify_with_anchors_reports_a_rewritten_tail(
    db: Database, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "anchors.jsonl"
    add_events(db, 3)
    Anchorer(db, path).run()
    drop_every_guard(db)
    rewrite_tail(db, start=2)
    argv = ["audit", "verify", "--database", settings.database_url, "--anchors", str(path)]
    assert main(argv) == 1
    assert capsys.readouterr().out.startswith(
        "audit chain BROKEN: event 3 does not match its anchor of "
    )


# --- the SQLite file ------------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask, so the file mode shown is the service's doing."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_the_sqlite_database_and_its_wal_are_private(tmp_path: Path, open_umask: None) -> None:
    from portal_api import schema

    path = tmp_path / "new" / "portal.sqlite3"
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        schema.upgrade(engine)
        add_events(Database(engine), 1)
        with engine.connect() as conn:  # (WAL and shared memory exist while connected)
            conn.execute(text("SELECT count(*) FROM audit_events"))
            for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
    finally:
        engine.dispose()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# --- a service role that does not own the tables (PostgreSQL, docs/privacy.md) --------------


@pytest.mark.postgres
def test_a_service_role_cannot_cut_the_log_or_drop_its_guards(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()
    db = Database(create_db_engine(url))
    role = f"portal_svc_{uuid.uuid4().hex[:8]}"
    with db.write() as session:
        session.execute(text(f"CREATE ROLE {role} LOGIN"))
        for statement in SERVICE_ROLE_SQL:
            session.execute(text(statement.format(role=role)))
    service_url = make_url(url).set(username=role)
    service = Database(create_engine(service_url, poolclass=NullPool))
    try:
        add_events(service, 2)  # the service appends as before
        assert refused(service, "TRUNCATE audit_events")
        assert refused(service, "DELETE FROM audit_events")
        assert refused(service, "UPDATE audit_events SET action = 'x'")
        assert refused(service, "DELETE FROM audit_head")
        assert refused(service, "UPDATE audit_head SET last_seq = 1")
        assert refused(service, "DROP TRIGGER audit_head_forward_only ON audit_head")
        assert refused(service, "ALTER TABLE audit_events DISABLE TRIGGER ALL")
        assert plain_verify(service) == audit.ChainReport(True, 2)
    finally:
        service.engine.dispose()
        with db.write() as session:
            session.execute(text(f"DROP OWNED BY {role}"))
            session.execute(text(f"DROP ROLE {role}"))
        db.engine.dispose()


# The grants docs/privacy.md gives (kept in step with it).
SERVICE_ROLE_SQL = [
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}",
    "REVOKE DELETE, TRUNCATE ON audit_head FROM {role}",
]
