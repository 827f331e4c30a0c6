"""Reading the audit log: the filters, paging older events, and the chain check over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal_api import audit
from portal_api.db import Database
from portal_api.models import AuditHead
from tests.helpers import act, bearer, find_item, login, staff_id


def get(client: TestClient, tokens: dict[str, Any], path: str = "/api/v1/audit", **params: Any):  # type: ignore[no-untyped-def]
    return client.get(path, params=params, headers=bearer(tokens))


def events(client: TestClient, admin: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    reply = get(client, admin, **params)
    assert reply.status_code == 200, reply.text
    return reply.json()["events"]  # type: ignore[no-any-return]


def record(db: Database, **fields: Any) -> int:
    """An event as the service writes it (break-the-glass, sync pages, desktop views)."""
    with db.write() as session:
        return audit.append(session, actor_kind="staff", **fields).seq


def test_patient_filter_returns_only_that_patients_events(
    client: TestClient, seeded: Database
) -> None:
    nurse = login(client, "nurse")
    item = find_item(seeded, status="open")
    other = find_item(seeded, status="new")
    client.get(f"/api/v1/items/{item.id}", headers=bearer(nurse))
    client.get(f"/api/v1/items/{other.id}", headers=bearer(nurse))
    admin = login(client, "admin")
    mine = events(client, admin, patient_id=item.patient_id)
    assert mine and all(e["patient_id"] == item.patient_id for e in mine)
    assert item.id in {e["item_id"] for e in mine}
    if other.patient_id != item.patient_id:
        assert other.id not in {e["item_id"] for e in mine}


def test_action_filter_is_exact_or_a_prefix_ending_in_a_dot(
    client: TestClient, seeded: Database
) -> None:
    nurse = login(client, "nurse")
    item = find_item(seeded, status="open")
    client.get(f"/api/v1/items/{item.id}", headers=bearer(nurse))
    act(client, nurse, item.id, {"type": "note", "body": "x"})
    admin = login(client, "admin")
    views = events(client, admin, action="item.view")
    assert views and {e["action"] for e in views} == {"item.view"}
    items = events(client, admin, action="item.", limit=1000)
    assert {"item.view", "item.note"} <= {e["action"] for e in items}
    assert all(e["action"].startswith("item.") for e in items)
    # "item" without the dot is an exact name: nothing is called just that
    assert events(client, admin, action="item") == []
    # several actions: any of them; exclude_action leaves some out
    both = events(client, admin, action=["staff.login", "item.note"], limit=1000)
    assert {e["action"] for e in both} == {"staff.login", "item.note"}
    acts = events(client, admin, action="item.", exclude_action="item.view", limit=1000)
    assert "item.note" in {e["action"] for e in acts}
    assert "item.view" not in {e["action"] for e in acts}
    # a LIKE wildcard is a plain character, not a pattern
    assert get(client, admin, action="item%").status_code == 422
    assert get(client, admin, action="_tem.").status_code == 422


def test_break_glass_lists_only_break_the_glass_accesses_with_their_reasons(
    client: TestClient, seeded: Database
) -> None:
    nurse_id = staff_id(seeded, "nurse")
    item = find_item(seeded, status="open")
    record(
        seeded,
        actor_id=nurse_id,
        action="item.break_glass",
        item_id=item.id,
        patient_id=item.patient_id,
        detail={"reason": "covering for Dr. Patel"},
    )
    record(seeded, actor_id=nurse_id, action="item.view", item_id=item.id)
    admin = login(client, "admin")
    found = events(client, admin, break_glass="true")
    assert len(found) == 1
    assert found[0]["action"] == "item.break_glass"
    assert found[0]["detail"] == {"reason": "covering for Dr. Patel"}
    assert found[0]["actor"] == {"kind": "staff", "id": nurse_id}
    assert len(events(client, admin, break_glass="false", limit=1000)) > 1


def test_until_is_exclusive_and_since_inclusive(client: TestClient, seeded: Database) -> None:
    nurse_id = staff_id(seeded, "nurse")
    moment = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    for minutes in (-1, 0, 1):
        record(
            seeded, actor_id=nurse_id, action="sync.page", at=moment + timedelta(minutes=minutes)
        )
    admin = login(client, "admin")
    at = [e["at"] for e in events(client, admin, action="sync.page", until=moment.isoformat())]
    assert len(at) == 1 and at[0].startswith("2026-03-02T13:59")
    window = events(
        client,
        admin,
        action="sync.page",
        since=moment.isoformat(),
        until=(moment + timedelta(minutes=1)).isoformat(),
    )
    assert [e["at"][:16] for e in window] == ["2026-03-02T14:00"]
    assert get(client, admin, until="2026-03-02T14:00:00").status_code == 422  # no time zone


def test_older_events_come_page_by_page_without_gaps_or_repeats(
    client: TestClient, seeded: Database
) -> None:
    for _ in range(5):
        login(client, "nurse")
    admin = login(client, "admin")
    everything = events(client, admin, limit=1000)
    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 7  # the seed, six sign-ins

    paged: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if before is not None:
            params["before_seq"] = before
        reply = get(client, admin, **params).json()
        paged += [e["seq"] for e in reply["events"]]
        before = reply["next_before_seq"]
        if before is None:
            break
        assert before == reply["events"][-1]["seq"]
    assert paged == seqs
    # filters apply on every page; the last page says there is nothing older
    logins = get(client, admin, action="staff.login", limit=2).json()
    older = get(
        client, admin, action="staff.login", limit=1000, before_seq=logins["next_before_seq"]
    ).json()
    assert [e["action"] for e in older["events"]] == ["staff.login"] * 4
    assert older["next_before_seq"] is None


def test_only_admin_reads_the_filtered_log_and_the_chain(client: TestClient) -> None:
    for user in ("frontdesk", "nurse", "doctor"):
        tokens = login(client, user)
        assert get(client, tokens, break_glass="true").status_code == 403
        assert get(client, tokens, "/api/v1/audit/chain").status_code == 403
    assert client.get("/api/v1/audit/chain").status_code == 401


def test_chain_endpoint_reports_intact_then_the_first_broken_event(
    client: TestClient, seeded: Database
) -> None:
    login(client, "nurse")
    admin = login(client, "admin")
    reply = get(client, admin, "/api/v1/audit/chain")
    assert reply.status_code == 200
    chain = reply.json()
    with seeded.read() as session:
        count = session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert chain == {"intact": True, "checked": count, "first_broken_seq": None, "reason": None}

    from tests.integration.test_audit import drop_append_only_guard

    drop_append_only_guard(seeded)
    with seeded.write() as session:
        session.execute(text("UPDATE audit_events SET ip = '10.9.9.9' WHERE seq = 3"))
    broken = get(client, admin, "/api/v1/audit/chain").json()
    assert broken["intact"] is False
    assert broken["first_broken_seq"] == 3
    assert broken["checked"] == 2
    assert broken["reason"]


def test_events_appended_during_the_chain_walk_are_not_a_missing_tail(
    client: TestClient, seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live server keeps appending while the check walks the chain: the walk and the head
    it compares with come from one snapshot, so that is no break."""
    admin = login(client, "admin")
    real_verify = audit.verify

    def verify_while_others_append(session: Session, *args: Any, **kwargs: Any) -> Any:
        real_get = session.get

        def get(entity: Any, ident: Any, **options: Any) -> Any:
            if entity is AuditHead:  # the walk is done; another request commits now
                record(seeded, actor_id=None, action="staff.login_failed")
            return real_get(entity, ident, **options)

        session.get = get  # type: ignore[method-assign]
        return real_verify(session, *args, **kwargs)

    monkeypatch.setattr(audit, "verify", verify_while_others_append)
    chain = get(client, admin, "/api/v1/audit/chain").json()
    assert chain["intact"], chain
    monkeypatch.undo()
    assert get(client, admin, "/api/v1/audit/chain").json()["checked"] == chain["checked"] + 1
