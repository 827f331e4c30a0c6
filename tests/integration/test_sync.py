"""`/sync`: full and incremental pages, patients, cursors, bad cursors and limits."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from portal_api.db import Database
from portal_api.models import Item
from tests.conftest import SMALL_ITEMS
from tests.helpers import act, bearer, find_item, login, patient_login


def follow(client: TestClient, tokens: dict, cursor: str | None = None, limit: int = 7):
    """Follow the feed to its end; return (items by id, patients by id, pages, cursor)."""
    items: dict[str, dict] = {}
    patients: dict[str, dict] = {}
    pages = 0
    while True:
        params = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        reply = client.get("/api/v1/sync", params=params, headers=bearer(tokens))
        assert reply.status_code == 200, reply.text
        page = reply.json()
        pages += 1
        ids = [i["id"] for i in page["items"]]
        assert len(ids) == len(set(ids)), "an item twice in one page"
        assert len(ids) <= limit
        items.update({i["id"]: i for i in page["items"]})
        patients.update({p["id"]: p for p in page["patients"]})
        for item in page["items"]:
            assert item["patient_id"] in {p["id"] for p in page["patients"]}
        cursor = page["cursor"]
        if not page["has_more"]:
            return items, patients, pages, cursor


def test_full_sync_returns_every_item_with_its_patients(
    client: TestClient, seeded: Database
) -> None:
    nurse = login(client, "nurse")
    items, patients, pages, _ = follow(client, nurse)
    assert len(items) == SMALL_ITEMS
    assert pages >= SMALL_ITEMS // 7
    with seeded.read() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == len(items)
    sample = next(iter(items.values()))
    assert set(sample) >= {
        "id",
        "kind",
        "status",
        "priority",
        "queue",
        "subject",
        "patient_id",
        "assignee_id",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "version",
        "details",
        "entries",
    }
    patient = next(iter(patients.values()))
    assert set(patient) >= {
        "id",
        "mrn",
        "given_name",
        "family_name",
        "birth_date",
        "phone",
        "email",
        "medications",
        "allergies",
        "last_visit_on",
        "pcp_id",
    }


def test_items_come_in_the_order_of_their_last_change(client: TestClient, seeded: Database) -> None:
    nurse = login(client, "nurse")
    first = find_item(seeded, status="open")
    act(client, nurse, first.id, {"type": "note", "body": "later"})
    page = client.get("/api/v1/sync", params={"limit": 1000}, headers=bearer(nurse)).json()
    assert page["items"][-1]["id"] == first.id


def test_incremental_sync_returns_only_changed_items(client: TestClient, seeded: Database) -> None:
    nurse = login(client, "nurse")
    _, _, _, cursor = follow(client, nurse)
    nothing, _, _, same_cursor = follow(client, nurse, cursor)
    assert nothing == {}
    assert same_cursor == cursor
    a = find_item(seeded, status="open")
    b = find_item(seeded, status="new")
    act(client, nurse, a.id, {"type": "note", "body": "1"})
    act(client, nurse, b.id, {"type": "claim"})
    act(client, nurse, a.id, {"type": "note", "body": "2"})
    changed, _, _, _ = follow(client, nurse, cursor)
    assert set(changed) == {a.id, b.id}
    assert changed[a.id]["version"] == a.version + 2  # latest state, once


def test_new_patient_request_appears_in_the_feed(client: TestClient) -> None:
    nurse = login(client, "nurse")
    _, _, _, cursor = follow(client, nurse)
    patient = patient_login(client, "patient4")
    created = client.post(
        "/api/v1/patient/requests",
        json={
            "kind": "message",
            "subject": "Hello",
            "body": "Question",
            "details": {"category": "other"},
        },
        headers=bearer(patient),
    ).json()["item"]
    changed, patients, _, _ = follow(client, nurse, cursor)
    assert list(changed) == [created["id"]]
    assert changed[created["id"]]["patient_id"] in patients


def test_malformed_cursor_is_400_bad_cursor(client: TestClient) -> None:
    nurse = login(client, "nurse")
    for cursor in ("garbage", "!!!", base64.urlsafe_b64encode(b"[1,2]").decode(), "e30"):
        reply = client.get("/api/v1/sync", params={"cursor": cursor}, headers=bearer(nurse))
        assert reply.status_code == 400, cursor
        assert reply.json()["error"]["code"] == "bad_cursor"


def test_cursor_from_another_database_is_bad(client: TestClient) -> None:
    nurse = login(client, "nurse")
    raw = json.dumps({"v": 1, "db": "another-instance", "t": 1, "s": 1}).encode()
    foreign = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    reply = client.get("/api/v1/sync", params={"cursor": foreign}, headers=bearer(nurse))
    assert reply.json()["error"]["code"] == "bad_cursor"


def test_cursor_beyond_anything_committed_is_bad(client: TestClient) -> None:
    nurse = login(client, "nurse")
    _, _, _, cursor = follow(client, nurse)
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data["t"] += 1000
    data["s"] += 1000
    ahead = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    reply = client.get("/api/v1/sync", params={"cursor": ahead}, headers=bearer(nurse))
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "bad_cursor"


def test_limit_out_of_range_is_422(client: TestClient) -> None:
    nurse = login(client, "nurse")
    for limit in (0, 1001, -5):
        reply = client.get("/api/v1/sync", params={"limit": limit}, headers=bearer(nurse))
        assert reply.status_code == 422
    assert (
        client.get("/api/v1/sync", params={"limit": "x"}, headers=bearer(nurse)).status_code == 422
    )


def test_default_limit_is_500(client: TestClient) -> None:
    nurse = login(client, "nurse")
    page = client.get("/api/v1/sync", headers=bearer(nurse)).json()
    assert len(page["items"]) == SMALL_ITEMS
    assert page["has_more"] is False


def test_empty_database_gives_a_usable_cursor(settings, db: Database) -> None:
    from portal_api.app import create_app
    from portal_api.seed import seed_demo

    seed_demo(db, patients=3, items=0, password_profile="fast")
    with TestClient(create_app(settings, db)) as empty_client:
        nurse = login(empty_client, "nurse")
        page = empty_client.get("/api/v1/sync", headers=bearer(nurse)).json()
        assert page["items"] == [] and page["has_more"] is False
        again = empty_client.get(
            "/api/v1/sync", params={"cursor": page["cursor"]}, headers=bearer(nurse)
        )
        assert again.status_code == 200
