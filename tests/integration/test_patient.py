"""The patient side: requests, the patient view, isolation, messages and cancelling."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from portal_api.db import Database
from tests.helpers import act, bearer, find_item, login, patient_by_username, patient_login

MESSAGE = {
    "kind": "message",
    "subject": "Question",
    "body": "Is it OK to take ibuprofen?",
    "details": {"category": "clinical"},
}


def create(client: TestClient, tokens: dict, body: dict) -> dict:
    reply = client.post("/api/v1/patient/requests", json=body, headers=bearer(tokens))
    assert reply.status_code == 201, reply.text
    return reply.json()["item"]


def test_patient_files_a_message_and_sees_the_patient_view(client: TestClient) -> None:
    tokens = patient_login(client, "patient1")
    item = create(client, tokens, MESSAGE)
    assert item["status"] == "new"
    assert item["kind"] == "message"
    for hidden in ("assignee_id", "queue", "priority", "version"):
        assert hidden not in item
    assert [e["type"] for e in item["entries"]] == ["patient_message"]
    assert item["entries"][0]["body"] == MESSAGE["body"]


def test_clinical_message_goes_to_nursing_and_red_flags_are_urgent(
    client: TestClient, seeded: Database
) -> None:
    tokens = patient_login(client, "patient1")
    routine = create(client, tokens, MESSAGE)
    urgent = create(
        client,
        tokens,
        {**MESSAGE, "subject": "Chest pain", "body": "I have chest pain and my arm hurts"},
    )
    billing = create(client, tokens, {**MESSAGE, "details": {"category": "billing"}})
    nurse = login(client, "nurse")
    get = lambda i: client.get(f"/api/v1/items/{i['id']}", headers=bearer(nurse)).json()["item"]  # noqa: E731
    assert get(routine)["queue"] == "nursing" and get(routine)["priority"] == "routine"
    assert get(urgent)["priority"] == "urgent"
    assert get(billing)["queue"] == "front_desk"


def test_refill_request_takes_facts_from_the_medication_list(
    client: TestClient, seeded: Database
) -> None:
    patient = next(
        patient_by_username(seeded, f"patient{n}")
        for n in range(1, 26)
        if patient_by_username(seeded, f"patient{n}").medications
    )
    med = patient.medications[0]
    tokens = patient_login(client, patient.username)
    item = create(
        client,
        tokens,
        {
            "kind": "refill",
            "subject": f"Refill {med['name']}",
            "body": "Almost out",
            "details": {
                "medication": {k: med[k] for k in ("name", "strength", "form", "sig")},
                "quantity_requested": 30,
                "pharmacy": "CVS",
            },
        },
    )
    assert item["details"]["controlled"] == med["controlled"]
    assert item["details"]["last_filled_on"] == med["last_filled_on"]
    assert item["details"]["decision"] is None


def test_appointment_request(client: TestClient) -> None:
    tokens = patient_login(client, "patient2")
    item = create(
        client,
        tokens,
        {
            "kind": "appointment",
            "subject": "Reschedule",
            "body": "Work conflict",
            "details": {
                "change": "reschedule",
                "preferred_times": ["Mon am"],
                "current_appointment": {
                    "starts_at": "2026-12-03T14:00:00Z",
                    "provider": "Dr. Kim",
                    "type": "Follow-up",
                },
            },
        },
    )
    assert item["details"]["change"] == "reschedule"


def test_invalid_request_details_are_422(client: TestClient) -> None:
    tokens = patient_login(client, "patient2")
    for body in (
        {**MESSAGE, "kind": "refill", "details": {}},
        {**MESSAGE, "kind": "appointment", "details": {"change": "sometime"}},
        {**MESSAGE, "details": {"category": "gossip"}},
        {**MESSAGE, "kind": "lab"},
        {**MESSAGE, "body": ""},
        {**MESSAGE, "subject": "x" * 301},
    ):
        reply = client.post("/api/v1/patient/requests", json=body, headers=bearer(tokens))
        assert reply.status_code == 422, body


def test_patients_see_only_their_own_items(client: TestClient, seeded: Database) -> None:
    alice = patient_login(client, "patient1")
    bob = patient_login(client, "patient2")
    mine = create(client, alice, MESSAGE)
    listed = client.get("/api/v1/patient/requests", headers=bearer(bob)).json()["items"]
    assert mine["id"] not in {i["id"] for i in listed}
    assert all(i["id"] != mine["id"] for i in listed)
    for method, path, body in (
        ("GET", f"/api/v1/patient/requests/{mine['id']}", None),
        ("POST", f"/api/v1/patient/requests/{mine['id']}/messages", {"body": "hi"}),
        ("POST", f"/api/v1/patient/requests/{mine['id']}/cancel", None),
    ):
        reply = client.request(method, path, json=body, headers=bearer(bob))
        assert reply.status_code == 404, path  # no existence leak
    unknown = client.get(f"/api/v1/patient/requests/{uuid.uuid4()}", headers=bearer(bob))
    assert unknown.status_code == 404
    # A seeded item of someone else, too.
    other = find_item(seeded, status="open")
    own = patient_by_username(seeded, "patient2")
    if other.patient_id != own.id:
        assert (
            client.get(f"/api/v1/patient/requests/{other.id}", headers=bearer(bob)).status_code
            == 404
        )


def test_patient_never_sees_notes_events_or_staff_fields(client: TestClient) -> None:
    tokens = patient_login(client, "patient3")
    item = create(client, tokens, MESSAGE)
    nurse = login(client, "nurse")
    act(client, nurse, item["id"], {"type": "note", "body": "internal only"})
    act(client, nurse, item["id"], {"type": "reply", "body": "Yes, with food."})
    seen = client.get(f"/api/v1/patient/requests/{item['id']}", headers=bearer(tokens)).json()
    types = [e["type"] for e in seen["item"]["entries"]]
    assert types == ["patient_message", "staff_reply"]
    assert "internal only" not in str(seen)


def test_patient_reply_reopens_a_waiting_item(client: TestClient) -> None:
    tokens = patient_login(client, "patient3")
    item = create(client, tokens, MESSAGE)
    nurse = login(client, "nurse")
    act(
        client,
        nurse,
        item["id"],
        {"type": "reply", "body": "Which pharmacy?", "then": "waiting_patient"},
    )
    reply = client.post(
        f"/api/v1/patient/requests/{item['id']}/messages",
        json={"body": "CVS please"},
        headers=bearer(tokens),
    )
    assert reply.status_code == 201
    assert reply.json()["item"]["status"] == "open"
    staff_view = client.get(f"/api/v1/items/{item['id']}", headers=bearer(nurse)).json()["item"]
    assert staff_view["entries"][-1]["body"] == "CVS please"


def test_patient_cannot_message_a_closed_item_and_can_cancel(client: TestClient) -> None:
    tokens = patient_login(client, "patient5")
    item = create(client, tokens, MESSAGE)
    cancelled = client.post(f"/api/v1/patient/requests/{item['id']}/cancel", headers=bearer(tokens))
    assert cancelled.status_code == 200
    assert cancelled.json()["item"]["status"] == "cancelled"
    again = client.post(
        f"/api/v1/patient/requests/{item['id']}/messages",
        json={"body": "one more"},
        headers=bearer(tokens),
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "closed"
