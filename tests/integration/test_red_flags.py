"""Every patient message is screened: the contract of a flagged request (urgent, the flags on
the entry, the automatic safety reply from `system`), follow-ups, the response promise, the
public practice page, lowering with a reason, and the policy's safety settings."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from portal_api.db import Database
from tests.helpers import act, bearer, login, patient_login, staff_id

MESSAGE = {"kind": "message", "subject": "Question", "details": {"category": "billing"}}


def send(client: TestClient, tokens: dict, body: str, **extra: object) -> dict:
    reply = client.post(
        "/api/v1/patient/requests", json={**MESSAGE, "body": body, **extra}, headers=bearer(tokens)
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def follow_up(client: TestClient, tokens: dict, item_id: str, body: str) -> dict:
    reply = client.post(
        f"/api/v1/patient/requests/{item_id}/messages", json={"body": body}, headers=bearer(tokens)
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


def staff_view(client: TestClient, item_id: str) -> dict:
    nurse = login(client, "nurse")
    return client.get(f"/api/v1/items/{item_id}", headers=bearer(nurse)).json()["item"]


def test_a_flagged_request_is_urgent_and_answered_at_once(client: TestClient) -> None:
    tokens = patient_login(client, "patient1")
    before = datetime.now().astimezone()
    answer = send(client, tokens, "my son swallowed a button battery")
    assert set(answer) >= {"item", "expected_reply_by", "safety_message"}
    assert "1-800-222-1222" in answer["safety_message"]
    # The automatic reply is in the patient's view, from the system, before anything else.
    entries = answer["item"]["entries"]
    assert [e["type"] for e in entries] == ["patient_message", "staff_reply"]
    assert entries[1]["author"] == {"kind": "system", "id": None}
    assert entries[1]["body"] == answer["safety_message"]
    # Urgent counts clock hours: the demo promises a first reply within one hour.
    due = datetime.fromisoformat(answer["expected_reply_by"])
    assert timedelta(minutes=59) <= due - before <= timedelta(minutes=61)

    item = staff_view(client, answer["item"]["id"])
    assert item["priority"] == "urgent"
    assert item["queue"] == "nursing"  # filed as billing, but a nurse can act on it
    flags = item["entries"][0]["data"]["red_flags"]
    assert flags == [
        {
            "phrase": "swallowed a button battery",
            "category": "overdose_poisoning",
            "rule": flags[0]["rule"],
        }
    ]
    assert flags[0]["rule"].startswith("overdose_poisoning.")
    assert item["first_response_at"] is None  # the automatic reply is not a response


def test_the_reply_is_chosen_by_category(client: TestClient) -> None:
    tokens = patient_login(client, "patient2")
    chest = send(client, tokens, "crushing chest pain going down my left arm")
    assert "911" in chest["safety_message"]
    crisis = send(client, tokens, "i have been thinking about killing myself")
    assert "988" in crisis["safety_message"]
    both = send(client, tokens, "i took the whole bottle of pills, i want to die")
    assert "988" in both["safety_message"] and "1-800-222-1222" in both["safety_message"]


def test_a_routine_request_stays_routine_with_a_promise(client: TestClient) -> None:
    tokens = patient_login(client, "patient1")
    answer = send(
        client, tokens, "No chest pain or shortness of breath, can I keep taking aspirin?"
    )
    assert answer["safety_message"] is None
    assert answer["expected_reply_by"] is not None
    assert answer["reply_promise"].startswith("We expect to reply by ")
    assert "911" in answer["emergency_guidance"]
    assert [e["type"] for e in answer["item"]["entries"]] == ["patient_message"]
    item = staff_view(client, answer["item"]["id"])
    assert item["priority"] == "routine"
    assert "red_flags" not in item["entries"][0]["data"]


def test_a_flagged_follow_up_makes_the_item_urgent_again(client: TestClient) -> None:
    tokens = patient_login(client, "patient3")
    first = send(client, tokens, "Can you check my bill from October?")
    item_id = first["item"]["id"]
    quiet = follow_up(client, tokens, item_id, "Thanks, no rush.")
    assert quiet["safety_message"] is None
    answer = follow_up(client, tokens, item_id, "now my face is drooping on one side")
    assert "911" in answer["safety_message"]
    assert answer["item"]["entries"][-1]["author"] == {"kind": "system", "id": None}
    item = staff_view(client, item_id)
    assert item["priority"] == "urgent" and item["queue"] == "nursing"
    event = next(e for e in item["entries"] if e["data"].get("action") == "red_flag")
    assert event["author"] == {"kind": "system", "id": None}
    assert event["data"]["categories"] == ["stroke"]
    flagged = [e for e in item["entries"] if e["data"].get("red_flags")]
    assert [e["body"] for e in flagged] == ["now my face is drooping on one side"]


def test_a_red_flag_on_a_front_desk_item_sends_it_to_nursing_unclaimed(
    client: TestClient,
) -> None:
    tokens = patient_login(client, "patient7")
    item_id = send(client, tokens, "Can I move my physical to next week?")["item"]["id"]
    front = login(client, "frontdesk")
    assert act(client, front, item_id, {"type": "claim"}).status_code == 200
    follow_up(client, tokens, item_id, "also i have crushing chest pain right now")
    item = staff_view(client, item_id)
    assert (item["priority"], item["queue"], item["assignee_id"]) == ("urgent", "nursing", None)


def test_a_follow_up_is_screened_with_the_request_before_it(client: TestClient) -> None:
    tokens = patient_login(client, "patient6")
    first = send(client, tokens, "my son swallowed a button battery, he seems ok")
    item_id = first["item"]["id"]
    nurse = login(client, "nurse")
    reason = "Spoke with mother: it was found in the toy box, not swallowed"
    lowered = act(
        client, nurse, item_id, {"type": "set_priority", "priority": "routine", "reason": reason}
    )
    assert lowered.status_code == 200
    answer = follow_up(client, tokens, item_id, "now he is drooling and wont eat")
    assert "1-800-222-1222" in answer["safety_message"]
    assert staff_view(client, item_id)["priority"] == "urgent"


def test_a_flagged_message_on_a_closed_request_starts_a_new_urgent_one(
    client: TestClient,
) -> None:
    tokens = patient_login(client, "patient5")
    item_id = send(client, tokens, "billing question")["item"]["id"]
    client.post(f"/api/v1/patient/requests/{item_id}/cancel", headers=bearer(tokens))
    quiet = client.post(
        f"/api/v1/patient/requests/{item_id}/messages",
        json={"body": "one more thing about the bill"},
        headers=bearer(tokens),
    )
    assert quiet.status_code == 409 and quiet.json()["error"]["code"] == "closed"
    answer = follow_up(client, tokens, item_id, "i cant breathe")
    assert "911" in answer["safety_message"]
    new = answer["item"]
    assert new["id"] != item_id and new["subject"] == "Follow-up: Question"
    assert [e["type"] for e in new["entries"]] == ["patient_message", "staff_reply"]
    staff = staff_view(client, new["id"])
    assert staff["priority"] == "urgent" and staff["queue"] == "nursing"
    assert staff["details"]["follows_up_on"] == item_id


def test_an_appointment_reason_is_screened_too(client: TestClient) -> None:
    tokens = patient_login(client, "patient8")
    reply = client.post(
        "/api/v1/patient/requests",
        json={
            "kind": "appointment",
            "subject": "New appointment request",
            "body": "Please book me in.",
            "details": {
                "change": "new",
                "preferred_times": ["today please"],
                "reason": "my chest is crushing and my left arm is numb",
            },
        },
        headers=bearer(tokens),
    )
    assert reply.status_code == 201, reply.text
    assert "911" in reply.json()["safety_message"]
    assert staff_view(client, reply.json()["item"]["id"])["priority"] == "urgent"


def test_a_new_red_flag_on_a_claimed_item_is_everyones_again(
    client: TestClient, seeded: Database
) -> None:
    tokens = patient_login(client, "patient9")
    first = send(
        client, tokens, "question about my blood pressure pills", details={"category": "clinical"}
    )
    item_id = first["item"]["id"]
    nurse = login(client, "nurse")
    assert act(client, nurse, item_id, {"type": "claim"}).status_code == 200
    follow_up(client, tokens, item_id, "now i have crushing chest pain and cant breathe")
    item = staff_view(client, item_id)
    assert (item["priority"], item["assignee_id"]) == ("urgent", None)
    event = next(e for e in item["entries"] if e["data"].get("action") == "red_flag")
    assert event["body"] == "Red flag in a new message: urgent, unclaimed for the team"
    assert event["data"]["previous_assignee_id"] == staff_id(seeded, "nurse")


def test_a_screening_failure_counts_as_urgent(client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from portal_api import urgency

    def broken(*_texts: str, context: object = ()) -> object:
        raise IndexError("a bug in a rule")

    monkeypatch.setattr(urgency, "screen", broken)
    tokens = patient_login(client, "patient10")
    answer = send(client, tokens, "anything at all")
    assert "911" in answer["safety_message"]
    item = staff_view(client, answer["item"]["id"])
    assert item["priority"] == "urgent"
    assert item["entries"][0]["data"]["red_flags"][0]["rule"] == "unspecified.screening_error"


def test_lowering_a_red_flag_item_needs_a_reason_which_is_audited(client: TestClient) -> None:
    tokens = patient_login(client, "patient4")
    item_id = send(client, tokens, "chest pain since an hour ago")["item"]["id"]
    nurse = login(client, "nurse")
    refused = act(client, nurse, item_id, {"type": "set_priority", "priority": "routine"})
    assert refused.status_code == 422
    assert "reason" in refused.json()["error"]["message"]
    reason = "Spoke with patient: pain is from a known rib bruise, seen yesterday"
    lowered = act(
        client, nurse, item_id, {"type": "set_priority", "priority": "routine", "reason": reason}
    )
    assert lowered.status_code == 200, lowered.text
    assert lowered.json()["item"]["priority"] == "routine"
    admin = login(client, "admin")
    events = client.get("/api/v1/audit", params={"item_id": item_id}, headers=bearer(admin)).json()[
        "events"
    ]
    audited = [e for e in events if e["action"] == "item.set_priority"]
    assert audited and audited[-1]["detail"]["reason"] == reason
    assert audited[-1]["detail"]["to"] == "routine"


def test_the_practice_page_shows_only_the_public_policy(client: TestClient) -> None:
    tokens = patient_login(client, "patient1")
    reply = client.get("/api/v1/patient/practice", headers=bearer(tokens))
    assert reply.status_code == 200
    page = reply.json()
    assert page["name"] == "Riverside Family Medicine"
    assert page["business_hours"]["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert "988" in page["emergency_guidance"]
    words = {(t["kind"], t["priority"]): t["first_reply"] for t in page["response_targets"]}
    assert words[("message", "urgent")] == "within 1 hour"
    assert words[("message", "routine")] == "within 2 business days"
    assert words[("refill", "routine")] == "within 2 business days"  # done is the answer
    for private in ("templates", "on_call", "safety_replies", "escalation", "sla"):
        assert private not in page
    assert client.get("/api/v1/patient/practice").status_code == 401


def test_the_policy_holds_safety_replies_and_the_on_call_schedule(
    client: TestClient, seeded: Database
) -> None:
    admin = login(client, "admin")
    policy = client.get("/api/v1/policy", headers=bearer(admin)).json()
    assert policy["escalation"] == {"unclaimed_minutes": 15}
    staff = client.get("/api/v1/staff", headers=bearer(admin)).json()["staff"]
    clinicians = {s["id"] for s in staff if s["role"] == "clinician" and s["active"]}
    assert policy["on_call"]["default"] in clinicians

    def put(document: dict) -> object:
        return client.put("/api/v1/policy", json=document, headers=bearer(admin))

    bad = put({**policy, "safety_replies": {"nonsense": "x"}})
    assert bad.status_code == 422 and "safety_replies.nonsense" in bad.text
    nurse_on_call = put({**policy, "on_call": {"default": staff_id(seeded, "nurse"), "rota": []}})
    assert nurse_on_call.status_code == 422 and "not an active clinician" in nurse_on_call.text
    backwards = {
        "starts": "2026-12-02",
        "ends": "2026-12-01",
        "staff_id": staff_id(seeded, "doctor"),
    }
    assert put({**policy, "on_call": {"rota": [backwards]}}).status_code == 422

    text = "Call 911 now. This is Riverside's own emergency text."
    saved = put({**policy, "safety_replies": {**policy["safety_replies"], "emergency": text}})
    assert saved.status_code == 200, saved.text
    tokens = patient_login(client, "patient1")
    assert send(client, tokens, "i cant breathe")["safety_message"] == text
