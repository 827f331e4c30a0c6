"""The audit log: what it records, who may read it, and that it is append-only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal_api import audit
from portal_api.db import Database
from tests.helpers import act, bearer, find_item, login


def drop_append_only_guard(db: Database) -> None:
    """What someone with DDL rights could do; the hash chain must still catch the edit."""
    with db.write() as session:
        if db.postgres:
            session.execute(text("DROP TRIGGER audit_events_no_change ON audit_events"))
        else:
            session.execute(text("DROP TRIGGER audit_events_no_update"))
            session.execute(text("DROP TRIGGER audit_events_no_delete"))


def events(client: TestClient, admin: dict, **params) -> list[dict]:
    reply = client.get("/api/v1/audit", params=params, headers=bearer(admin))
    assert reply.status_code == 200, reply.text
    return reply.json()["events"]


def test_logins_views_and_actions_are_audited(client: TestClient, seeded: Database) -> None:
    client.post("/api/v1/auth/login", json={"username": "nurse", "password": "wrong"})
    nurse = login(client, "nurse")
    item = find_item(seeded, status="open")
    client.get(f"/api/v1/items/{item.id}", headers=bearer(nurse))
    act(client, nurse, item.id, {"type": "note", "body": "secret patient detail"})
    admin = login(client, "admin")
    log = events(client, admin, limit=1000)
    actions = [e["action"] for e in log]
    assert "staff.login_failed" in actions
    assert "staff.login" in actions
    mine = events(client, admin, item_id=item.id)
    assert [e["action"] for e in mine[:2]] == ["item.note", "item.view"]  # newest first
    assert mine[0]["actor"] == {"kind": "staff", "id": nurse["user"]["id"]}
    assert mine[0]["patient_id"] == item.patient_id
    assert mine[0]["ip"]
    assert "secret patient detail" not in str(log)  # no free text in the audit log


def test_audit_filters_and_limit(client: TestClient, seeded: Database) -> None:
    nurse = login(client, "nurse")
    admin = login(client, "admin")
    by_nurse = events(client, admin, actor_id=nurse["user"]["id"])
    assert by_nurse and all(e["actor"]["id"] == nurse["user"]["id"] for e in by_nurse)
    assert len(events(client, admin, limit=1)) == 1
    future = events(client, admin, since="2999-01-01T00:00:00Z")
    assert future == []
    assert (
        client.get("/api/v1/audit", params={"limit": 1001}, headers=bearer(admin)).status_code
        == 422
    )
    assert (
        client.get(
            "/api/v1/audit", params={"since": "yesterday"}, headers=bearer(admin)
        ).status_code
        == 422
    )


def test_only_admin_reads_the_audit_log(client: TestClient) -> None:
    for user in ("frontdesk", "nurse", "doctor"):
        tokens = login(client, user)
        assert client.get("/api/v1/audit", headers=bearer(tokens)).status_code == 403


def test_no_endpoint_changes_the_audit_log(client: TestClient) -> None:
    admin = login(client, "admin")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/api/v1/audit", headers=bearer(admin)).status_code == 405


def test_chain_verifies_and_detects_tampering(client: TestClient, seeded: Database) -> None:
    nurse = login(client, "nurse")
    item = find_item(seeded, status="open")
    act(client, nurse, item.id, {"type": "note", "body": "x"})
    with seeded.read() as session:
        report = audit.verify(session)
    assert report.intact and report.checked >= 3
    # The database refuses edits (trigger); someone with DDL rights drops it and edits.
    with pytest.raises(DatabaseError), seeded.write() as session:
        session.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = 2"))
    with pytest.raises(DatabaseError), seeded.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    drop_append_only_guard(seeded)
    with seeded.write() as session:
        session.execute(text("UPDATE audit_events SET ip = '10.9.9.9' WHERE seq = 3"))
    with seeded.read() as session:
        report = audit.verify(session)
    assert not report.intact
    assert report.first_broken_seq == 3
    assert "BROKEN at event 3" in report.describe()


def test_chain_detects_a_deleted_row(client: TestClient, seeded: Database) -> None:
    login(client, "nurse")
    drop_append_only_guard(seeded)
    with seeded.write() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    with seeded.read() as session:
        report = audit.verify(session)
    assert not report.intact and report.first_broken_seq == 2


def test_chain_detects_a_truncated_tail(client: TestClient, seeded: Database) -> None:
    login(client, "nurse")
    drop_append_only_guard(seeded)
    with seeded.write() as session:
        last = session.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
        session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": last})
    with seeded.read() as session:
        report = audit.verify(session)
    assert not report.intact
