"""Who may call what: every staff endpoint needs a staff token, every patient endpoint a
patient token; every action leaves an event, a version bump and an audit row."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
from fastapi.testclient import TestClient

from portal_api.app import create_app
from portal_api.db import Database
from tests.helpers import act, bearer, find_item, login, patient_login, served, staff_id

ANY_ID = "00000000-0000-4000-8000-000000000000"
STAFF_ENDPOINTS = [
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/staff"),
    ("GET", "/api/v1/policy"),
    ("PUT", "/api/v1/policy"),
    ("GET", "/api/v1/sync"),
    ("GET", "/api/v1/events"),
    ("GET", f"/api/v1/items/{ANY_ID}"),
    ("POST", f"/api/v1/items/{ANY_ID}/actions"),
    ("GET", "/api/v1/audit"),
]
PATIENT_ENDPOINTS = [
    ("POST", "/api/v1/patient/auth/logout"),
    ("POST", "/api/v1/patient/requests"),
    ("GET", "/api/v1/patient/requests"),
    ("GET", f"/api/v1/patient/requests/{ANY_ID}"),
    ("POST", f"/api/v1/patient/requests/{ANY_ID}/messages"),
    ("POST", f"/api/v1/patient/requests/{ANY_ID}/cancel"),
]


def test_every_protected_endpoint_needs_a_token(client: TestClient) -> None:
    for method, path in STAFF_ENDPOINTS + PATIENT_ENDPOINTS:
        reply = client.request(method, path, json={})
        assert reply.status_code == 401, (method, path)
        assert reply.json()["error"]["code"] == "unauthorized"


def test_staff_endpoints_refuse_patient_tokens(client: TestClient) -> None:
    patient = patient_login(client, "patient1")
    for method, path in STAFF_ENDPOINTS:
        reply = client.request(method, path, json={}, headers=bearer(patient))
        assert reply.status_code == 403, (method, path)


def test_patient_endpoints_refuse_staff_tokens(client: TestClient) -> None:
    staff = login(client, "admin")
    for method, path in PATIENT_ENDPOINTS:
        reply = client.request(method, path, json={"body": "x"}, headers=bearer(staff))
        assert reply.status_code == 403, (method, path)


ACTIONS = [
    ("new", "message", {"type": "claim"}),
    ("open", "message", {"type": "release"}),
    ("new", "message", {"type": "assign", "assignee_id": "<doctor>"}),
    ("new", "message", {"type": "route", "queue": "clinician"}),
    ("new", "message", {"type": "set_priority", "priority": "urgent"}),
    ("new", "message", {"type": "reply", "body": "Hello"}),
    ("new", "message", {"type": "note", "body": "Note"}),
    ("new", "message", {"type": "wait_patient"}),
    ("new", "message", {"type": "resolve"}),
    ("done", "message", {"type": "reopen"}),
    ("new", "refill", {"type": "refill_decision", "outcome": "denied", "note": "Visit first"}),
    ("new", "appointment", {"type": "appointment_decision", "outcome": "declined"}),
]


@pytest.mark.parametrize(("status", "kind", "body"), ACTIONS, ids=[a[2]["type"] for a in ACTIONS])
def test_every_action_adds_an_event_a_version_and_an_audit_row(
    client: TestClient, seeded: Database, status: str, kind: str, body: dict
) -> None:
    doctor = login(client, "doctor")
    item = find_item(seeded, status=status, kind=kind)
    if body.get("assignee_id") == "<doctor>":
        body = {**body, "assignee_id": staff_id(seeded, "doctor")}
    reply = act(client, doctor, item.id, body)
    assert reply.status_code == 200, reply.text
    after = reply.json()["item"]
    assert after["version"] == item.version + 1
    assert after["updated_at"] > item.updated_at.isoformat()[:19]
    event = after["entries"][-1]
    assert event["type"] == "event"
    assert event["data"]["action"] == body["type"]
    assert event["author"]["id"] == doctor["user"]["id"]
    admin = login(client, "admin")
    audit = client.get(
        "/api/v1/audit", params={"item_id": item.id, "limit": 1}, headers=bearer(admin)
    ).json()["events"]
    assert audit[0]["action"] == f"item.{body['type']}"
    assert audit[0]["actor"]["id"] == doctor["user"]["id"]


def test_the_same_key_sent_twice_at_once_acts_once(settings, seeded: Database) -> None:
    item = find_item(seeded, status="open")
    with served(create_app(settings, seeded)) as url:
        token = requests.post(
            f"{url}/api/v1/auth/login", json={"username": "nurse", "password": "demo"}, timeout=10
        ).json()
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        barrier = threading.Barrier(4)
        replies: list[requests.Response] = []

        def send() -> None:
            barrier.wait()
            replies.append(
                requests.post(
                    f"{url}/api/v1/items/{item.id}/actions",
                    json={"type": "note", "body": "once"},
                    headers=headers,
                    timeout=30,
                )
            )

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        current = requests.get(f"{url}/api/v1/items/{item.id}", headers=headers, timeout=10).json()[
            "item"
        ]
    assert [r.status_code for r in replies] == [200] * 4
    assert all(r.json() == replies[0].json() for r in replies)
    assert current["version"] == item.version + 1
    assert sum(e["body"] == "once" for e in current["entries"]) == 1
