"""Privacy against the real service: what reaches the patient, what each role receives, break
the glass, views recorded once, and the patient's own access log (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_api.db import Database
from portal_api.models import AuditEvent, Item
from tests.helpers import act, bearer, login, patient_login, staff_id

CLINICAL = {
    "kind": "message",
    "subject": "Rash after the new cream",
    "body": "The rash spread to my arms since Tuesday.",
    "details": {"category": "clinical"},
}
BILLING = {
    "kind": "message",
    "subject": "Invoice question",
    "body": "Was my copay charged twice?",
    "details": {"category": "billing"},
}
REFILL = {
    "kind": "refill",
    "subject": "Lisinopril refill",
    "body": "Running low",
    "details": {
        "medication": {"name": "Lisinopril", "strength": "10 mg", "form": "tablet", "sig": "1"}
    },
}
APPOINTMENT = {
    "kind": "appointment",
    "subject": "Annual visit",
    "body": "Any morning next week",
    "details": {"change": "new", "preferred_times": ["Mon am"]},
}


def file(client: TestClient, patient: dict[str, Any], body: dict[str, Any]) -> str:
    reply = client.post("/api/v1/patient/requests", json=body, headers=bearer(patient))
    assert reply.status_code == 201, reply.text
    return str(reply.json()["item"]["id"])


def full_sync(client: TestClient, tokens: dict[str, Any]) -> dict[str, Any]:
    items: dict[str, Any] = {}
    patients: dict[str, Any] = {}
    cursor = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = client.get("/api/v1/sync", params=params, headers=bearer(tokens)).json()
        items.update({i["id"]: i for i in page["items"]})
        patients.update({p["id"]: p for p in page["patients"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            return {"items": items, "patients": patients, "cursor": cursor}


def audit_events(db: Database, action: str) -> list[AuditEvent]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


# ---- what reaches the patient -------------------------------------------------------------------


def test_a_decision_sends_its_message_and_keeps_its_note_internal(client: TestClient) -> None:
    patient = patient_login(client, "patient1")
    item_id = file(client, patient, REFILL)
    doctor = login(client, "doctor")
    decided = act(
        client,
        doctor,
        item_id,
        {
            "type": "refill_decision",
            "outcome": "denied",
            "message_to_patient": "Please book a visit before we renew this.",
            "note": "Internal: suspect early refill, check PDMP",
        },
    )
    assert decided.status_code == 200, decided.text
    staff_view = decided.json()["item"]
    new = staff_view["entries"][-3:]
    assert [(e["type"], e["body"]) for e in new[:2]] == [
        ("staff_reply", "Please book a visit before we renew this."),
        ("internal_note", "Internal: suspect early refill, check PDMP"),
    ]
    assert new[2]["data"]["entry_ids"] == [new[0]["id"], new[1]["id"]]
    assert staff_view["first_response_at"] is not None

    seen = client.get(f"/api/v1/patient/requests/{item_id}", headers=bearer(patient))
    text = seen.text
    assert "PDMP" not in text and "internal_note" not in text
    assert staff_id_of(client, "doctor") not in text  # no staff ids reach the patient
    item = seen.json()["item"]
    reply = item["entries"][-1]
    assert reply["body"] == "Please book a visit before we renew this."
    assert reply["author"] == {"kind": "staff", "id": None, "display_name": display_name(doctor)}
    assert item["details"]["decision"]["outcome"] == "denied"
    assert item["details"]["decision"]["decided_by_name"] == display_name(doctor)
    assert "note" not in item["details"]["decision"]
    assert "decided_by" not in item["details"]["decision"]


def test_an_older_decision_note_stays_internal(client: TestClient, seeded: Database) -> None:
    patient = patient_login(client, "patient1")
    item_id = file(client, patient, REFILL)
    with seeded.write() as session:  # as decisions were stored before notes became entries
        item = session.get(Item, item_id)
        assert item is not None
        item.details = {
            **item.details,
            "decision": {
                "outcome": "approved",
                "quantity": 30,
                "refills": 1,
                "note": "Internal: patient on watch list",
                "decided_by": staff_id(seeded, "doctor"),
                "decided_at": "2026-11-20T10:00:00Z",
            },
        }
    seen = client.get(f"/api/v1/patient/requests/{item_id}", headers=bearer(patient)).json()
    assert "watch list" not in str(seen)
    assert seen["item"]["details"]["decision"]["quantity"] == 30
    listed = client.get("/api/v1/patient/requests", headers=bearer(patient)).json()
    assert "watch list" not in str(listed)


def test_an_appointment_confirmation_carries_its_message(client: TestClient) -> None:
    patient = patient_login(client, "patient2")
    item_id = file(client, patient, APPOINTMENT)
    front = login(client, "frontdesk")
    reply = act(
        client,
        front,
        item_id,
        {
            "type": "appointment_decision",
            "outcome": "confirmed",
            "starts_at": "2026-12-03T14:30:00Z",
            "message_to_patient": "Your visit is on Thu 3 Dec at 09:30.",
        },
    )
    assert reply.status_code == 200, reply.text
    seen = client.get(f"/api/v1/patient/requests/{item_id}", headers=bearer(patient)).json()
    assert seen["item"]["entries"][-1]["body"] == "Your visit is on Thu 3 Dec at 09:30."
    assert seen["item"]["status"] == "done"


# ---- minimum necessary ------------------------------------------------------------------------


def test_each_role_receives_what_its_work_needs(client: TestClient) -> None:
    patient = patient_login(client, "patient3")
    clinical = file(client, patient, CLINICAL)
    billing = file(client, patient, BILLING)
    refill = file(client, patient, REFILL)
    visit = file(client, patient, APPOINTMENT)

    front = full_sync(client, login(client, "frontdesk"))
    for restricted in (clinical, refill):
        header = front["items"][restricted]
        assert header["restricted"] is True
        assert header["entries"] == []
        assert header["subject"] and header["status"] and header["queue"]
        assert "medication" not in header["details"]
    for open_ in (billing, visit):
        assert front["items"][open_]["restricted"] is False
        assert front["items"][open_]["entries"]
    # Charts (medications, allergies) go to the clinical roles only.
    assert front["patients"]
    for patient_row in front["patients"].values():
        assert "medications" not in patient_row and "allergies" not in patient_row
        assert patient_row["given_name"] and patient_row["mrn"]

    nurse = full_sync(client, login(client, "nurse"))
    assert not any(i["restricted"] for i in nurse["items"].values())
    assert all("medications" in p for p in nurse["patients"].values())

    admin = full_sync(client, login(client, "admin"))
    assert all(i["restricted"] for i in admin["items"].values())
    assert not any(i["entries"] for i in admin["items"].values())
    assert "The rash spread" not in str(admin)
    assert not any("medications" in p for p in admin["patients"].values())


def test_a_header_keeps_its_red_flags_without_the_words(client: TestClient) -> None:
    patient = patient_login(client, "patient11")
    flagged = file(
        client,
        patient,
        {**CLINICAL, "subject": "Chest", "body": "Crushing chest pain spreading to my left arm"},
    )
    front = login(client, "frontdesk")
    header = full_sync(client, front)["items"][flagged]
    assert header["restricted"] and header["priority"] == "urgent"
    assert header["red_flag_categories"]
    assert "Crushing" not in str(header)
    # As for the full item, lowering it takes a reason: the desktop and the server agree.
    lowered = act(client, front, flagged, {"type": "set_priority", "priority": "routine"})
    assert lowered.status_code == 422


def test_a_header_keeps_what_the_response_clocks_need(client: TestClient) -> None:
    patient = patient_login(client, "patient4")
    clinical = file(client, patient, CLINICAL)
    nurse = login(client, "nurse")
    answered = act(client, nurse, clinical, {"type": "reply", "body": "Send a photo please"})
    assert act(client, nurse, clinical, {"type": "wait_patient"}).status_code == 200
    header = full_sync(client, login(client, "admin"))["items"][clinical]
    assert header["first_response_at"] is not None
    assert [m["kind"] for m in header["clock_marks"]] == ["response", "pause"]
    assert header["clock_marks"][0]["at"] == answered.json()["item"]["entries"][-2]["created_at"]


def test_an_item_in_a_persons_hands_arrives_in_full(client: TestClient) -> None:
    patient = patient_login(client, "patient5")
    clinical = file(client, patient, CLINICAL)
    front = login(client, "frontdesk")
    first = full_sync(client, front)
    assert first["items"][clinical]["restricted"] is True
    claimed = act(client, front, clinical, {"type": "claim"})
    assert claimed.status_code == 200  # the role rules for actions are unchanged
    assert claimed.json()["item"]["restricted"] is False
    page = client.get(
        "/api/v1/sync", params={"cursor": first["cursor"]}, headers=bearer(front)
    ).json()
    again = {i["id"]: i for i in page["items"]}[clinical]
    assert again["restricted"] is False and again["entries"]
    # Routed on to nursing, it is no longer the front desk's: the answer is a header.
    routed = act(client, front, clinical, {"type": "route", "queue": "nursing"})
    assert routed.json()["item"]["restricted"] is True
    assert routed.json()["item"]["entries"] == []


def test_breaking_the_glass_needs_a_reason_and_is_recorded_apart(
    client: TestClient, seeded: Database
) -> None:
    patient = patient_login(client, "patient6")
    clinical = file(client, patient, CLINICAL)
    front = login(client, "frontdesk")
    refused = client.get(f"/api/v1/items/{clinical}", headers=bearer(front))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "restricted"
    blank = client.get(f"/api/v1/items/{clinical}", params={"reason": "  "}, headers=bearer(front))
    assert blank.status_code == 403
    opened = client.get(
        f"/api/v1/items/{clinical}",
        params={"reason": "Patient on the phone asking about it"},
        headers=bearer(front),
    )
    assert opened.status_code == 200
    assert opened.json()["item"]["entries"][0]["body"] == CLINICAL["body"]
    [event] = audit_events(seeded, "item.break_glass")
    assert event.actor_id == staff_id(seeded, "frontdesk")
    assert event.item_id == clinical
    assert event.detail == {"reason": "Patient on the phone asking about it"}
    nurse_view = client.get(f"/api/v1/items/{clinical}", headers=bearer(login(client, "nurse")))
    assert nurse_view.status_code == 200
    assert len(audit_events(seeded, "item.break_glass")) == 1  # a nurse's view is a plain view


# ---- every view recorded ----------------------------------------------------------------------


def test_views_are_recorded_once_per_view_id(client: TestClient, seeded: Database) -> None:
    patient = patient_login(client, "patient7")
    clinical = file(client, patient, CLINICAL)
    nurse = login(client, "nurse")
    at = datetime.now(UTC) - timedelta(minutes=5)
    views = [
        {"id": str(uuid.uuid4()), "item_id": clinical, "viewed_at": at.isoformat()},
        {
            "id": str(uuid.uuid4()),
            "item_id": clinical,
            "viewed_at": (at + timedelta(minutes=2)).isoformat(),
        },
    ]
    first = client.post("/api/v1/audit/views", json={"views": views}, headers=bearer(nurse))
    assert first.status_code == 202
    assert first.json() == {"recorded": 2, "already_recorded": 0}
    again = client.post("/api/v1/audit/views", json={"views": views}, headers=bearer(nurse))
    assert again.status_code == 202
    assert again.json() == {"recorded": 0, "already_recorded": 2}
    recorded = [e for e in audit_events(seeded, "item.view") if e.detail.get("source") == "desktop"]
    assert sorted(e.detail["view_id"] for e in recorded) == sorted(v["id"] for v in views)
    assert {e.patient_id for e in recorded} == {patient["user"]["id"]}


def test_bad_view_batches_are_refused_whole(client: TestClient) -> None:
    nurse = login(client, "nurse")
    for body in (
        {"views": []},
        {"views": [{"id": "not-a-uuid", "item_id": "x", "viewed_at": "2026-11-27T10:00:00Z"}]},
        {"views": [{"id": str(uuid.uuid4()), "item_id": "x", "viewed_at": "2026-11-27T10:00"}]},
    ):
        reply = client.post("/api/v1/audit/views", json=body, headers=bearer(nurse))
        assert reply.status_code == 422, body
    patient = patient_login(client, "patient1")
    as_patient = client.post(
        "/api/v1/audit/views",
        json={
            "views": [
                {"id": str(uuid.uuid4()), "item_id": "x", "viewed_at": "2026-11-27T10:00:00Z"}
            ]
        },
        headers=bearer(patient),
    )
    assert as_patient.status_code == 403


def test_a_sync_page_is_one_disclosure_with_its_count(client: TestClient, seeded: Database) -> None:
    front = login(client, "frontdesk")
    page = client.get("/api/v1/sync", params={"limit": 7}, headers=bearer(front)).json()
    [event] = audit_events(seeded, "sync.page")
    assert event.actor_id == staff_id(seeded, "frontdesk")
    assert event.detail["items"] == 7 == len(page["items"])
    assert event.detail["restricted"] == sum(i["restricted"] for i in page["items"])
    # Nothing new, nothing disclosed: an empty page is not recorded.
    latest = full_sync(client, front)["cursor"]
    before = len(audit_events(seeded, "sync.page"))
    empty = client.get("/api/v1/sync", params={"cursor": latest}, headers=bearer(front)).json()
    assert empty["items"] == []
    assert len(audit_events(seeded, "sync.page")) == before


# ---- the patient's access log ----------------------------------------------------------------


def test_a_patient_sees_who_looked_at_their_record(client: TestClient) -> None:
    patient = patient_login(client, "patient8")
    other = patient_login(client, "patient9")
    mine = file(client, patient, CLINICAL)
    theirs = file(client, other, CLINICAL)
    nurse = login(client, "nurse")
    front = login(client, "frontdesk")
    assert client.get(f"/api/v1/items/{mine}", headers=bearer(nurse)).status_code == 200
    assert act(client, nurse, mine, {"type": "claim"}).status_code == 200
    client.get(f"/api/v1/items/{mine}", params={"reason": "Caller asked"}, headers=bearer(front))
    client.get(f"/api/v1/items/{theirs}", headers=bearer(nurse))

    log = client.get("/api/v1/patient/access-log", headers=bearer(patient))
    assert log.status_code == 200
    events = log.json()["events"]
    assert [e["action"] for e in events] == ["break_the_glass", "acted", "viewed"]
    assert events[0]["staff"] == {"display_name": display_name(front), "role": "front_desk"}
    assert events[2]["staff"] == {"display_name": display_name(nurse), "role": "nurse"}
    times = [e["at"] for e in events]
    assert times == sorted(times, reverse=True)
    assert "id" not in str(events)  # names and roles, never staff ids
    theirs_log = client.get("/api/v1/patient/access-log", headers=bearer(other)).json()
    assert [e["action"] for e in theirs_log["events"]] == ["viewed"]
    staff_call = client.get("/api/v1/patient/access-log", headers=bearer(nurse))
    assert staff_call.status_code == 403


def display_name(tokens: dict[str, Any]) -> str:
    return str(tokens["user"]["display_name"])


def staff_id_of(client: TestClient, username: str) -> str:
    return str(login(client, username)["user"]["id"])


def test_a_view_delivered_late_is_dated_when_it_happened(client: TestClient) -> None:
    patient = patient_login(client, "patient10")
    mine = file(client, patient, CLINICAL)
    nurse = login(client, "nurse")
    assert act(client, nurse, mine, {"type": "claim"}).status_code == 200
    days_ago = datetime.now(UTC) - timedelta(days=2)
    future = datetime.now(UTC) + timedelta(days=1)
    views = [
        {"id": str(uuid.uuid4()), "item_id": mine, "viewed_at": days_ago.isoformat()},
        {"id": str(uuid.uuid4()), "item_id": mine, "viewed_at": future.isoformat()},
    ]
    assert (
        client.post("/api/v1/audit/views", json={"views": views}, headers=bearer(nurse)).status_code
        == 202
    )
    events = client.get("/api/v1/patient/access-log", headers=bearer(patient)).json()["events"]
    assert [e["action"] for e in events] == ["viewed", "acted", "viewed"]
    # The offline view sits two days back, not at its delivery; a desktop clock running
    # ahead is held to the server's time.
    assert events[-1]["at"].startswith(days_ago.date().isoformat())
    assert events[0]["at"] <= datetime.now(UTC).isoformat().replace("+00:00", "Z")
