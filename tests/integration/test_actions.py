"""Item actions: every type, roles, If-Match, state rules, idempotency and the check order."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from portal_api.db import Database
from tests.helpers import act, bearer, find_item, login, staff_id


@pytest.fixture
def nurse(client: TestClient) -> dict:
    return login(client, "nurse")


@pytest.fixture
def doctor(client: TestClient) -> dict:
    return login(client, "doctor")


def test_get_item_returns_the_full_item(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    reply = client.get(f"/api/v1/items/{item.id}", headers=bearer(nurse))
    assert reply.status_code == 200
    body = reply.json()["item"]
    assert body["id"] == item.id
    assert body["version"] == item.version
    assert body["entries"][0]["type"] == "patient_message"
    assert body["created_at"].endswith("Z")


def test_unknown_item_is_404(client: TestClient, nurse: dict) -> None:
    reply = client.get(f"/api/v1/items/{uuid.uuid4()}", headers=bearer(nurse))
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"


def test_claim_sets_assignee_opens_and_records_an_event(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="new")
    reply = act(client, nurse, item.id, {"type": "claim"})
    assert reply.status_code == 200, reply.text
    body = reply.json()["item"]
    assert body["assignee_id"] == nurse["user"]["id"]
    assert body["status"] == "open"
    assert body["version"] == item.version + 1
    event = body["entries"][-1]
    assert event["type"] == "event"
    assert event["data"]["action"] == "claim"
    assert event["author"] == {"kind": "staff", "id": nurse["user"]["id"]}


def test_claim_held_by_someone_else_is_409_unless_forced(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="new")
    other = login(client, "nurse2")
    assert act(client, other, item.id, {"type": "claim"}).status_code == 200
    refused = act(client, nurse, item.id, {"type": "claim"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "claimed"
    assert refused.json()["error"]["details"]["assignee_id"] == other["user"]["id"]
    forced = act(client, nurse, item.id, {"type": "claim", "force": True})
    assert forced.status_code == 200
    assert forced.json()["item"]["assignee_id"] == nurse["user"]["id"]


def test_release_assign_route_and_priority(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="new")
    act(client, nurse, item.id, {"type": "claim"})
    released = act(client, nurse, item.id, {"type": "release"}).json()["item"]
    assert released["assignee_id"] is None
    doctor_id = staff_id(seeded, "doctor")
    assigned = act(client, nurse, item.id, {"type": "assign", "assignee_id": doctor_id})
    assert assigned.json()["item"]["assignee_id"] == doctor_id
    routed = act(client, nurse, item.id, {"type": "route", "queue": "clinician", "note": "Dr?"})
    routed_item = routed.json()["item"]
    assert routed_item["queue"] == "clinician"
    assert routed_item["assignee_id"] is None  # route clears the assignee
    assert routed_item["entries"][-1]["data"]["note"] == "Dr?"
    urgent = act(client, nurse, item.id, {"type": "set_priority", "priority": "urgent"})
    assert urgent.json()["item"]["priority"] == "urgent"


def test_assign_to_unknown_or_inactive_staff_is_422(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="new")
    reply = act(client, nurse, item.id, {"type": "assign", "assignee_id": str(uuid.uuid4())})
    assert reply.status_code == 422


def test_reply_is_patient_visible_sets_first_response_and_then(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="new", kind="message")
    reply = act(client, nurse, item.id, {"type": "reply", "body": "We'll call you today."})
    body = reply.json()["item"]
    assert body["status"] == "open"
    assert body["first_response_at"] is not None
    assert [e["type"] for e in body["entries"][-2:]] == ["staff_reply", "event"]
    first = body["first_response_at"]
    waiting = act(
        client, nurse, item.id, {"type": "reply", "body": "Any update?", "then": "waiting_patient"}
    ).json()["item"]
    assert waiting["status"] == "waiting_patient"
    assert waiting["first_response_at"] == first  # only the first reply sets it
    done = act(client, nurse, item.id, {"type": "reply", "body": "Closing.", "then": "done"})
    assert done.json()["item"]["status"] == "done"
    assert done.json()["item"]["resolved_at"] is not None


def test_note_is_internal_and_allowed_on_closed_items(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="done")
    reply = act(client, nurse, item.id, {"type": "note", "body": "Called pharmacy."})
    assert reply.status_code == 200
    assert reply.json()["item"]["entries"][-2]["type"] == "internal_note"
    assert reply.json()["item"]["status"] == "done"


def test_wait_resolve_reopen(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    assert act(client, nurse, item.id, {"type": "wait_patient"}).json()["item"]["status"] == (
        "waiting_patient"
    )
    done = act(client, nurse, item.id, {"type": "resolve", "resolution": "Answered by phone"})
    assert done.json()["item"]["status"] == "done"
    reopened = act(client, nurse, item.id, {"type": "reopen"}).json()["item"]
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None


def test_acting_on_a_closed_item_is_409_closed(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="done")
    reply = act(client, nurse, item.id, {"type": "claim"})
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "closed"
    cancelled = find_item(seeded, status="cancelled")
    assert act(client, nurse, cancelled.id, {"type": "reply", "body": "x"}).status_code == 409


def test_reopen_of_an_open_item_is_409(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    reply = act(client, nurse, item.id, {"type": "reopen"})
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "not_closed"


def test_refill_decision_is_for_clinicians_only(
    client: TestClient, seeded: Database, nurse: dict, doctor: dict
) -> None:
    item = find_item(seeded, status="new", kind="refill")
    refused = act(client, nurse, item.id, {"type": "refill_decision", "outcome": "approved"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    admin = login(client, "admin")
    assert (
        act(client, admin, item.id, {"type": "refill_decision", "outcome": "approved"}).status_code
        == 403
    )
    approved = act(
        client,
        doctor,
        item.id,
        {"type": "refill_decision", "outcome": "approved", "quantity": 90, "refills": 1},
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()["item"]
    assert body["status"] == "done"
    assert body["details"]["decision"]["outcome"] == "approved"
    assert body["details"]["decision"]["decided_by"] == doctor["user"]["id"]
    assert body["details"]["decision"]["decided_at"].endswith("Z")
    assert body["first_response_at"] is not None


def test_refill_decision_on_a_message_is_422(
    client: TestClient, seeded: Database, doctor: dict
) -> None:
    item = find_item(seeded, status="new", kind="message")
    reply = act(client, doctor, item.id, {"type": "refill_decision", "outcome": "approved"})
    assert reply.status_code == 422


def test_modified_refill_needs_quantity_or_refills(
    client: TestClient, seeded: Database, doctor: dict
) -> None:
    item = find_item(seeded, status="new", kind="refill")
    reply = act(client, doctor, item.id, {"type": "refill_decision", "outcome": "modified"})
    assert reply.status_code == 422
    ok = act(
        client,
        doctor,
        item.id,
        {"type": "refill_decision", "outcome": "modified", "quantity": 30, "note": "30 days"},
    )
    assert ok.json()["item"]["details"]["decision"]["quantity"] == 30


def test_appointment_decision(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="new", kind="appointment")
    wrong_kind = find_item(seeded, status="new", kind="message")
    assert (
        act(
            client, nurse, wrong_kind.id, {"type": "appointment_decision", "outcome": "declined"}
        ).status_code
        == 422
    )
    if item.details["change"] != "cancel":
        missing_time = act(
            client, nurse, item.id, {"type": "appointment_decision", "outcome": "confirmed"}
        )
        assert missing_time.status_code == 422
    confirmed = act(
        client,
        nurse,
        item.id,
        {
            "type": "appointment_decision",
            "outcome": "confirmed",
            "starts_at": "2026-12-02T15:20:00Z",
        },
    )
    assert confirmed.status_code == 200, confirmed.text
    decision = confirmed.json()["item"]["details"]["decision"]
    assert decision["outcome"] == "confirmed"
    assert decision["starts_at"] == "2026-12-02T15:20:00Z"
    assert confirmed.json()["item"]["status"] == "done"


def test_unknown_action_type_and_bad_fields_are_422(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="open")
    assert act(client, nurse, item.id, {"type": "explode"}).status_code == 422
    assert act(client, nurse, item.id, {"type": "reply"}).status_code == 422
    assert act(client, nurse, item.id, {"type": "reply", "body": ""}).status_code == 422
    assert act(client, nurse, item.id, {"type": "route", "queue": "nowhere"}).status_code == 422
    assert act(client, nurse, item.id, {"no": "type"}).status_code == 422
    assert act(client, nurse, item.id, {"type": "claim", "extra": 1}).status_code == 422


def test_malformed_json_is_400(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    reply = client.post(
        f"/api/v1/items/{item.id}/actions",
        content=b'{"type": "claim"',
        headers={**bearer(nurse), "Idempotency-Key": "k1", "content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "malformed"


def test_missing_idempotency_key_is_400(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    reply = client.post(
        f"/api/v1/items/{item.id}/actions", json={"type": "claim"}, headers=bearer(nurse)
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "idempotency_key_missing"


def test_stale_if_match_is_412_with_the_current_item(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="open")
    current = f'"{item.version}"'
    assert (
        act(client, nurse, item.id, {"type": "note", "body": "a"}, if_match=current).status_code
        == 200
    )
    stale = act(client, nurse, item.id, {"type": "claim"}, if_match=current)
    assert stale.status_code == 412
    error = stale.json()["error"]
    assert error["code"] == "precondition_failed"
    assert error["details"]["item"]["version"] == item.version + 1
    fresh = act(
        client,
        nurse,
        item.id,
        {"type": "set_priority", "priority": "urgent"},
        if_match=f'"{item.version + 1}"',
    )
    assert fresh.status_code == 200
    garbage = act(client, nurse, item.id, {"type": "release"}, if_match="banana")
    assert garbage.status_code == 400


def test_replay_returns_the_first_response_and_changes_nothing(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="open")
    key = str(uuid.uuid4())
    body = {"type": "reply", "body": "Sent to your pharmacy."}
    first = act(client, nurse, item.id, body, key=key)
    second = act(client, nurse, item.id, body, key=key)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    now = client.get(f"/api/v1/items/{item.id}", headers=bearer(nurse)).json()["item"]
    assert now["version"] == item.version + 1
    replies = [e for e in now["entries"] if e["type"] == "staff_reply"]
    assert sum(e["body"] == "Sent to your pharmacy." for e in replies) == 1


def test_replay_of_a_refusal_returns_the_same_refusal(
    client: TestClient, seeded: Database, nurse: dict, doctor: dict
) -> None:
    item = find_item(seeded, status="new", kind="refill")
    key = str(uuid.uuid4())
    body = {"type": "refill_decision", "outcome": "approved"}
    first = act(client, nurse, item.id, body, key=key)
    assert first.status_code == 403
    again = act(client, nurse, item.id, body, key=key)
    assert again.status_code == 403
    assert again.json() == first.json()


def test_same_key_other_body_or_item_is_422_mismatch(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="open")
    other = find_item(seeded, status="new")
    key = str(uuid.uuid4())
    assert act(client, nurse, item.id, {"type": "note", "body": "a"}, key=key).status_code == 200
    body_changed = act(client, nurse, item.id, {"type": "note", "body": "b"}, key=key)
    assert body_changed.status_code == 422
    assert body_changed.json()["error"]["code"] == "idempotency_mismatch"
    item_changed = act(client, nurse, other.id, {"type": "note", "body": "a"}, key=key)
    assert item_changed.status_code == 422


def test_keys_belong_to_their_caller(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    key = "shared-key-1"
    mine = act(client, nurse, item.id, {"type": "note", "body": "mine"}, key=key)
    other = login(client, "nurse2")
    theirs = act(client, other, item.id, {"type": "note", "body": "mine"}, key=key)
    assert theirs.status_code == 200
    assert theirs.headers.get("idempotent-replayed") is None
    assert theirs.json()["item"]["version"] == mine.json()["item"]["version"] + 1
    assert theirs.json()["item"]["entries"][-1]["author"]["id"] == other["user"]["id"]


def test_json_key_order_does_not_break_a_replay(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    item = find_item(seeded, status="open")
    headers = {**bearer(nurse), "Idempotency-Key": "order-1", "content-type": "application/json"}
    url = f"/api/v1/items/{item.id}/actions"
    first = client.post(url, content=b'{"type": "note", "body": "x"}', headers=headers)
    second = client.post(url, content=b'{"body":"x","type":"note"}', headers=headers)
    assert first.status_code == 200
    assert second.json() == first.json()


def test_check_order_404_before_key_and_key_before_body(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    missing = client.post(
        f"/api/v1/items/{uuid.uuid4()}/actions", json={"type": "nonsense"}, headers=bearer(nurse)
    )
    assert missing.status_code == 404
    item = find_item(seeded, status="done")
    no_key = client.post(
        f"/api/v1/items/{item.id}/actions", json={"type": "nonsense"}, headers=bearer(nurse)
    )
    assert no_key.status_code == 400
    # body (422) before role (403) before If-Match (412) before state (409)
    refill_done = find_item(seeded, status="done", kind="refill")
    invalid = act(
        client,
        nurse,
        refill_done.id,
        {"type": "refill_decision", "outcome": "maybe"},
        if_match='"0"',
    )
    assert invalid.status_code == 422
    role = act(
        client,
        nurse,
        refill_done.id,
        {"type": "refill_decision", "outcome": "denied"},
        if_match='"0"',
    )
    assert role.status_code == 403
    stale = act(client, nurse, refill_done.id, {"type": "claim"}, if_match='"0"')
    assert stale.status_code == 412
    state = act(client, nurse, refill_done.id, {"type": "claim"})
    assert state.status_code == 409


def test_patient_text_is_stored_exactly(client: TestClient, seeded: Database, nurse: dict) -> None:
    item = find_item(seeded, status="open")
    text = "<b>hi</b><img src=x onerror=alert(1)> &amp; \u00e9\u200b\n\ttabs  spaces  "
    reply = act(client, nurse, item.id, {"type": "note", "body": text})
    assert reply.json()["item"]["entries"][-2]["body"] == text


def test_keys_are_kept_for_seven_days_then_purged(
    client: TestClient, seeded: Database, nurse: dict
) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from portal_api.models import IdempotencyRecord, utcnow

    item = find_item(seeded, status="open")
    act(client, nurse, item.id, {"type": "note", "body": "old"}, key="old-key")
    act(client, nurse, item.id, {"type": "note", "body": "week"}, key="week-key")
    with seeded.write() as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "old-key")
            .values(created_at=utcnow() - timedelta(days=9))
        )
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "week-key")
            .values(created_at=utcnow() - timedelta(days=7, hours=12))
        )
    client.app.state.services.actions.purge()
    with seeded.read() as session:
        keys = set(session.scalars(select(IdempotencyRecord.key)))
    assert "week-key" in keys
    assert "old-key" not in keys
    replay = act(client, nurse, item.id, {"type": "note", "body": "week"}, key="week-key")
    assert replay.headers.get("idempotent-replayed") == "true"
