"""Chart facts from the EHR: FHIR R4 bundles validated and applied whole, the refill protocol
run again on them (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from portal_api.db import Database
from portal_api.models import Patient
from tests.helpers import bearer, login, patient_by_username, patient_login

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def bundle(mrn: str, *, kind: str = "transaction") -> dict[str, Any]:
    patient_ref = "urn:uuid:5d2c1c1e-1111-4a4a-9b9b-000000000001"

    def entry(resource: dict[str, Any], full_url: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "resource": resource,
            "request": {"method": "PUT", "url": resource["resourceType"]},
        }
        if full_url:
            item["fullUrl"] = full_url
        return item

    statin = {
        "coding": [
            {"system": RXNORM, "code": "617310", "display": "Atorvastatin 20 MG Oral Tablet"}
        ],
        "text": "Atorvastatin 20 MG Oral Tablet",
    }
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            entry(
                {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:triage-desk:mrn", "value": mrn}],
                    "name": [{"use": "official", "family": "Okafor", "given": ["Ada"]}],
                    "birthDate": "1961-04-12",
                },
                patient_ref,
            ),
            entry(
                {
                    "resourceType": "MedicationRequest",
                    "identifier": [{"system": "urn:ehr:rx", "value": "rx-1"}],
                    "status": "active",
                    "intent": "order",
                    "subject": {"reference": patient_ref},
                    "medicationCodeableConcept": statin,
                    "dosageInstruction": [{"text": "Take 1 tablet by mouth at bedtime"}],
                    "dispenseRequest": {
                        "quantity": {"value": 90},
                        "expectedSupplyDuration": {
                            "value": 90,
                            "unit": "days",
                            "system": "http://unitsofmeasure.org",
                            "code": "d",
                        },
                        "numberOfRepeatsAllowed": 3,
                    },
                }
            ),
            entry(
                {
                    "resourceType": "MedicationDispense",
                    "status": "completed",
                    "subject": {"reference": patient_ref},
                    "medicationCodeableConcept": statin,
                    "whenHandedOver": days_ago(80) + "T10:00:00Z",
                }
            ),
            entry(
                {
                    "resourceType": "Encounter",
                    "status": "finished",
                    "class": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "AMB",
                    },
                    "subject": {"reference": patient_ref},
                    "period": {"start": days_ago(60) + "T09:00:00Z"},
                }
            ),
            entry(
                {
                    "resourceType": "Observation",
                    "identifier": [{"system": "urn:ehr:lab", "value": "lab-1"}],
                    "status": "final",
                    "code": {
                        "coding": [{"system": LOINC, "code": "57698-3", "display": "Lipid panel"}]
                    },
                    "subject": {"reference": patient_ref},
                    "effectiveDateTime": days_ago(60) + "T09:30:00Z",
                }
            ),
            entry(
                {
                    "resourceType": "AllergyIntolerance",
                    "patient": {"reference": patient_ref},
                    "code": {"text": "Penicillin"},
                    "reaction": [{"manifestation": [{"text": "Hives"}]}],
                }
            ),
        ],
    }


def ask_statin(client: TestClient, username: str) -> dict[str, Any]:
    """The patient asks for a refill of atorvastatin 20 mg, RxNorm-coded."""
    medication = {
        "name": "Atorvastatin",
        "strength": "20 mg",
        "form": "tablet",
        "sig": "1",
        "rxnorm": "617310",
    }
    reply = client.post(
        "/api/v1/patient/requests",
        json={
            "kind": "refill",
            "subject": "Atorvastatin",
            "body": "please",
            "details": {"medication": medication},
        },
        headers=bearer(patient_login(client, username)),
    )
    assert reply.status_code == 201, reply.text
    return dict(reply.json()["item"])


def post(client: TestClient, tokens: dict[str, Any], body: Any) -> Any:
    return client.post("/api/v1/fhir", json=body, headers=bearer(tokens))


def chart(db: Database, mrn: str) -> Patient:
    with db.read() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        session.expunge(patient)
        return patient


def test_a_bundle_brings_the_chart_and_a_refill_then_passes(
    client: TestClient, seeded: Database
) -> None:
    admin = login(client, "admin")
    reply = post(client, admin, bundle("EHR-1"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["resourceType"] == "Bundle"
    assert reply.json()["type"] == "transaction-response"
    assert reply.json()["entry"][0]["response"]["status"] == "201 Created"
    patient = chart(seeded, "EHR-1")
    assert (patient.given_name, patient.family_name) == ("Ada", "Okafor")
    [statin] = patient.medications
    assert (statin["name"], statin["strength"], statin["rxnorm"]) == (
        "Atorvastatin",
        "20 mg",
        "617310",
    )
    assert (statin["quantity"], statin["days_supply"], statin["refills"]) == (90, 90, 3)
    assert statin["last_filled_on"] == days_ago(80)
    assert patient.labs[0]["loinc"] == "57698-3"
    assert patient.allergies == [{"substance": "Penicillin", "reaction": "Hives"}]
    assert patient.last_visit_on.isoformat() == days_ago(60)

    # The same bundle again changes nothing (upserts by identifier).
    again = post(client, admin, bundle("EHR-1"))
    assert again.status_code == 200
    assert chart(seeded, "EHR-1").medications == patient.medications
    assert len(chart(seeded, "EHR-1").labs) == 1


def test_an_open_refill_is_checked_again_when_the_chart_arrives(
    client: TestClient, seeded: Database
) -> None:
    known = patient_by_username(seeded, "patient15")
    mrn = known.mrn
    with seeded.write() as session:  # the demo's own chart gone: the EHR's is the one read
        row = session.get(Patient, known.id)
        assert row is not None
        row.medications, row.labs, row.last_visit_on = [], [], None
    filed = ask_statin(client, "patient15")
    doctor = login(client, "doctor")
    before = client.get(f"/api/v1/items/{filed['id']}", headers=bearer(doctor)).json()["item"]
    document = bundle(mrn)
    document["entry"][0]["resource"].pop("name")  # an existing patient keeps their name
    assert post(client, login(client, "admin"), document).status_code == 200
    after = client.get(f"/api/v1/items/{filed['id']}", headers=bearer(doctor)).json()["item"]
    assert after["version"] > before["version"]
    assert after["details"]["protocol"]["verdict"] == "pass", after["details"]["protocol"]
    assert after["details"]["prescription"] == {
        "quantity": 90,
        "days_supply": 90,
        "refills": 3,
        "sig": "Take 1 tablet by mouth at bedtime",
    }
    # Approved as prescribed: the terms come from the active prescription.
    approved = client.post(
        f"/api/v1/items/{filed['id']}/actions",
        json={"type": "refill_decision", "outcome": "approved"},
        headers={**bearer(doctor), "Idempotency-Key": "k-approve-1"},
    )
    decision = approved.json()["item"]["details"]["decision"]
    assert (decision["quantity"], decision["days_supply"], decision["refills"]) == (90, 90, 3)


def test_an_invalid_resource_refuses_the_whole_bundle(client: TestClient, seeded: Database) -> None:
    admin = login(client, "admin")
    document = bundle("EHR-2")
    document["entry"][4]["resource"]["effectiveDateTime"] = "yesterday-ish"
    reply = post(client, admin, document)
    assert reply.status_code == 422
    outcome = reply.json()
    assert outcome["resourceType"] == "OperationOutcome"
    where = outcome["issue"][0]["expression"][0]
    assert where.startswith("Bundle.entry[4].resource (Observation)")
    assert "yesterday-ish" not in reply.text  # never the submitted value
    with seeded.read() as session:
        assert (
            session.scalar(select(func.count()).select_from(Patient).where(Patient.mrn == "EHR-2"))
            == 0
        )


def test_bundles_that_cannot_be_applied_say_why(client: TestClient) -> None:
    admin = login(client, "admin")
    searchset = bundle("EHR-3", kind="searchset")
    assert post(client, admin, searchset).status_code == 422
    orphan = bundle("EHR-3")
    orphan["entry"] = orphan["entry"][1:]  # no Patient: the prescription's patient is unknown
    reply = post(client, admin, orphan)
    assert reply.status_code == 422
    assert "MedicationRequest" in reply.json()["issue"][0]["expression"][0]
    no_mrn = copy.deepcopy(bundle("EHR-3"))
    no_mrn["entry"][0]["resource"]["identifier"] = [{"system": "urn:other", "value": "1"}]
    assert post(client, admin, no_mrn).status_code == 422
    assert post(client, login(client, "nurse"), bundle("EHR-3")).status_code == 403
    assert (
        client.post("/api/v1/fhir", content=b"{not json", headers=bearer(admin)).status_code == 400
    )


def test_decimal_quantities_are_read_as_whole_numbers(client: TestClient, seeded: Database) -> None:
    document = bundle("EHR-6")
    request = document["entry"][1]["resource"]["dispenseRequest"]
    request["quantity"] = {"value": 90.0}
    request["expectedSupplyDuration"]["value"] = 90.0
    assert post(client, login(client, "admin"), document).status_code == 200
    [statin] = chart(seeded, "EHR-6").medications
    assert (statin["quantity"], statin["days_supply"]) == (90, 90)


def test_a_stopped_prescription_leaves_the_list(client: TestClient, seeded: Database) -> None:
    admin = login(client, "admin")
    assert post(client, admin, bundle("EHR-4", kind="batch")).status_code == 200
    stopped = bundle("EHR-4", kind="batch")
    stopped["entry"][1]["resource"]["status"] = "stopped"
    reply = post(client, admin, stopped)
    assert reply.json()["type"] == "batch-response"
    assert chart(seeded, "EHR-4").medications == []


def test_decided_refills_go_back_to_the_ehr_as_medication_requests(
    client: TestClient, seeded: Database
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    admin = login(client, "admin")
    doctor = login(client, "doctor")
    started = datetime.now(UTC)
    ids = []
    for outcome in ("approved", "denied"):
        item = ask_statin(client, "patient1")
        ids.append(item["id"])
        decided = client.post(
            f"/api/v1/items/{item['id']}/actions",
            json={"type": "refill_decision", "outcome": outcome},
            headers={**bearer(doctor), "Idempotency-Key": f"k-{outcome}"},
        )
        assert decided.status_code == 200, decided.text
    since = "ge" + started.isoformat().replace("+00:00", "Z")
    reply = client.get(
        "/api/v1/fhir/MedicationRequest", params={"_lastUpdated": since}, headers=bearer(admin)
    )
    assert reply.status_code == 200, reply.text
    found = Bundle.model_validate(reply.json())  # valid FHIR, by the same models
    assert found.type == "searchset"
    resources = [entry["resource"] for entry in reply.json()["entry"]]
    assert [r["id"] for r in resources] == [ids[0]]  # the approval, not the denial
    [approved] = resources
    assert approved["medicationCodeableConcept"]["coding"][0]["code"] == "617310"
    assert approved["requester"]["display"] == doctor["user"]["display_name"]
    later = client.get(
        "/api/v1/fhir/MedicationRequest",
        params={"_lastUpdated": "gt" + approved["meta"]["lastUpdated"]},
        headers=bearer(admin),
    )
    assert later.json()["entry"] == []
    bad = client.get(
        "/api/v1/fhir/MedicationRequest", params={"_lastUpdated": "lt2026"}, headers=bearer(admin)
    )
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"
    nurse = client.get("/api/v1/fhir/MedicationRequest", headers=bearer(login(client, "nurse")))
    assert nurse.status_code == 403
