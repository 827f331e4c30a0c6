"""The refill protocol pre-check in the service: computed when a request arrives, staff only,
controlled substances to the clinician (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from portal_api.db import Database
from tests.helpers import bearer, login, patient_login
from tests.support.refills import set_chart


def ask_refill(client: TestClient, username: str, name: str, strength: str) -> dict[str, Any]:
    tokens = patient_login(client, username)
    reply = client.post(
        "/api/v1/patient/requests",
        json={
            "kind": "refill",
            "subject": f"{name} refill",
            "body": "Running low",
            "details": {
                "medication": {"name": name, "strength": strength, "form": "tablet", "sig": "1"}
            },
        },
        headers=bearer(tokens),
    )
    assert reply.status_code == 201, reply.text
    item = reply.json()["item"]
    assert "protocol" not in item["details"]  # never in the patient view
    assert "duplicate_of" not in item["details"] and "prescription" not in item["details"]
    seen = client.get(f"/api/v1/patient/requests/{item['id']}", headers=bearer(tokens)).json()
    assert "protocol" not in seen["item"]["details"]
    staff = client.get(f"/api/v1/items/{item['id']}", headers=bearer(login(client, "doctor")))
    return dict(staff.json()["item"])


def recent(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def test_a_refill_is_checked_on_arrival_and_names_what_is_missing(
    client: TestClient, seeded: Database
) -> None:
    set_chart(
        seeded,
        "patient12",
        medications=[
            {
                "name": "Atorvastatin",
                "strength": "20 mg",
                "sig": "Take 1 tablet by mouth at bedtime",
                "quantity": 90,
                "last_filled_on": recent(80),
            }
        ],
        allergies=[],
        last_visit_on=datetime.now(UTC).date() - timedelta(days=60),
    )
    item = ask_refill(client, "patient12", "Atorvastatin", "20 mg")
    protocol = item["details"]["protocol"]
    # The seed's charts have no labs yet: a statin without a lipid panel goes to review.
    assert protocol["verdict"] == "review"
    failed = [r["rule"] for r in protocol["reasons"] if not r["ok"]]
    assert failed == ["lab:Lipid panel"]
    assert protocol["checked_at"].endswith("Z")
    assert item["queue"] == "nursing"


def test_a_controlled_refill_goes_to_the_clinician_and_never_passes(
    client: TestClient, seeded: Database
) -> None:
    set_chart(
        seeded,
        "patient13",
        medications=[
            {
                "name": "Tramadol",
                "strength": "50 mg",
                "sig": "Take 1 tablet every 6 hours as needed for pain",
                "quantity": 60,
                "last_filled_on": recent(40),
            },
            {
                "name": "Lorazepam",
                "strength": "1 mg",
                "sig": "Take 1 tablet at bedtime",
                "quantity": 30,
                "last_filled_on": recent(40),
            },
        ],
        allergies=[],
        last_visit_on=datetime.now(UTC).date() - timedelta(days=30),
    )
    item = ask_refill(client, "patient13", "Tramadol", "50 mg")
    assert item["queue"] == "clinician"
    assert item["details"]["controlled"] is True
    reasons = {r["rule"]: r for r in item["details"]["protocol"]["reasons"]}
    assert item["details"]["protocol"]["verdict"] == "review"
    assert "check the state PDMP" in reasons["controlled"]["text"]
    assert "Lorazepam (opioid with benzodiazepine)" in reasons["combination"]["text"]


def test_a_drug_not_on_the_list_is_reviewed(client: TestClient, seeded: Database) -> None:
    set_chart(seeded, "patient14", medications=[], allergies=[], last_visit_on=None)
    item = ask_refill(client, "patient14", "Warfarin", "5 mg")
    reasons = {r["rule"]: r for r in item["details"]["protocol"]["reasons"]}
    assert item["details"]["protocol"]["verdict"] == "review"
    assert not reasons["on_list"]["ok"] and not reasons["last_visit"]["ok"]


def test_a_refill_denied_for_a_visit_opens_an_appointment_request(
    client: TestClient, seeded: Database
) -> None:
    from sqlalchemy import select

    from portal_api.models import Item

    item = ask_refill(client, "patient19", "Lisinopril", "10 mg")
    doctor = login(client, "doctor")
    denied = client.post(
        f"/api/v1/items/{item['id']}/actions",
        json={
            "type": "refill_decision",
            "outcome": "denied",
            "reason": "needs_visit",
            "message_to_patient": "Please book a visit; the front desk will call you.",
        },
        headers={**bearer(doctor), "Idempotency-Key": "deny-visit-1"},
    )
    assert denied.status_code == 200, denied.text
    assert denied.json()["item"]["details"]["decision"]["reason"] == "needs_visit"
    with seeded.read() as session:
        visits = session.scalars(
            select(Item).where(Item.kind == "appointment", Item.patient_id == item["patient_id"])
        ).all()
        opened = [v for v in visits if (v.details or {}).get("follows_up_on") == item["id"]]
    [visit] = opened
    assert visit.queue == "front_desk" and visit.status == "new"
    assert visit.subject == "Visit needed: Lisinopril 10 mg"
    # A denial for another reason opens nothing.
    other = ask_refill(client, "patient19", "Lisinopril", "10 mg")
    client.post(
        f"/api/v1/items/{other['id']}/actions",
        json={"type": "refill_decision", "outcome": "denied", "reason": "too_early"},
        headers={**bearer(doctor), "Idempotency-Key": "deny-early-1"},
    )
    with seeded.read() as session:
        follow_ups = [
            v
            for v in session.scalars(select(Item).where(Item.kind == "appointment")).all()
            if (v.details or {}).get("follows_up_on") == other["id"]
        ]
    assert follow_ups == []


def test_a_second_request_for_the_same_medication_is_marked_a_duplicate(
    client: TestClient, seeded: Database
) -> None:
    first = ask_refill(client, "patient22", "Metformin", "500 mg")
    second = ask_refill(client, "patient22", "Metformin", "500 mg")  # (patient view: checked)
    other = ask_refill(client, "patient22", "Metformin", "1000 mg")
    assert first["details"].get("duplicate_of") is None
    assert second["details"]["duplicate_of"] == first["id"]
    assert other["details"].get("duplicate_of") is None
