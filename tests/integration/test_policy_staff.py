"""`/staff` and `/policy`: reading, admin-only replacement and validation."""

from __future__ import annotations

import copy

from fastapi.testclient import TestClient

from tests.helpers import bearer, login


def test_staff_list_has_roles_and_active_flags(client: TestClient) -> None:
    nurse = login(client, "nurse")
    staff = client.get("/api/v1/staff", headers=bearer(nurse)).json()["staff"]
    by_name = {s["username"]: s for s in staff}
    assert {"frontdesk", "nurse", "doctor", "admin"} <= set(by_name)
    assert by_name["doctor"]["role"] == "clinician"
    assert all(s["active"] is True for s in staff)
    assert "password_hash" not in str(staff)


def test_policy_has_the_contract_shape(client: TestClient) -> None:
    nurse = login(client, "nurse")
    reply = client.get("/api/v1/policy", headers=bearer(nurse))
    assert reply.status_code == 200
    policy = reply.json()
    assert policy["timezone"] == "America/New_York"
    assert policy["business_hours"]["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert policy["business_hours"]["sun"] == []
    assert policy["holidays"]["country"] == "US"
    assert policy["sla"]["refill"]["routine"]["resolution"] == {"hours": 16.0, "business": True}
    assert 0 < policy["at_risk_ratio"] < 1
    assert any("{patient_first_name}" in t["body"] for t in policy["templates"])
    assert reply.headers["etag"] == '"1"'


def test_only_admin_may_put_policy(client: TestClient) -> None:
    nurse = login(client, "nurse")
    admin = login(client, "admin")
    policy = client.get("/api/v1/policy", headers=bearer(nurse)).json()
    policy["at_risk_ratio"] = 0.8
    assert client.put("/api/v1/policy", json=policy, headers=bearer(nurse)).status_code == 403
    saved = client.put("/api/v1/policy", json=policy, headers=bearer(admin))
    assert saved.status_code == 200
    assert saved.headers["etag"] == '"2"'
    assert client.get("/api/v1/policy", headers=bearer(nurse)).json()["at_risk_ratio"] == 0.8


def test_invalid_policies_are_422_with_reasons(client: TestClient) -> None:
    admin = login(client, "admin")
    good = client.get("/api/v1/policy", headers=bearer(admin)).json()

    def broken(change) -> dict:
        policy = copy.deepcopy(good)
        change(policy)
        return policy

    cases = {
        "timezone": lambda p: p.update(timezone="Mars/Olympus_Mons"),
        "hours order": lambda p: p["business_hours"].update(mon=[["17:00", "08:00"]]),
        "overlap": lambda p: p["business_hours"].update(
            mon=[["08:00", "12:00"], ["11:00", "13:00"]]
        ),
        "bad time": lambda p: p["business_hours"].update(mon=[["8am", "5pm"]]),
        "never open": lambda p: p.update(business_hours={d: [] for d in p["business_hours"]}),
        "country": lambda p: p["holidays"].update(country="XX"),
        "subdivision": lambda p: p["holidays"].update(subdivision="ZZ"),
        "ratio": lambda p: p.update(at_risk_ratio=1.5),
        "target": lambda p: p["sla"]["message"]["routine"].update(
            first_response={"hours": -1, "business": True}
        ),
        "template ids": lambda p: p["templates"].append(dict(p["templates"][0])),
        "unknown kind": lambda p: p["sla"].update(lab={}),
        "unknown field": lambda p: p.update(surprise=True),
    }
    for name, change in cases.items():
        reply = client.put("/api/v1/policy", json=broken(change), headers=bearer(admin))
        assert reply.status_code == 422, name
        assert reply.json()["error"]["code"] == "invalid"
    # Nothing was saved.
    assert client.get("/api/v1/policy", headers=bearer(admin)).headers["etag"] == '"1"'


def test_policy_put_requires_json(client: TestClient) -> None:
    admin = login(client, "admin")
    reply = client.put(
        "/api/v1/policy",
        content=b"nope",
        headers={**bearer(admin), "content-type": "application/json"},
    )
    assert reply.status_code == 400


def test_policy_etag_gives_304_until_it_changes(client: TestClient) -> None:
    admin = login(client, "admin")
    first = client.get("/api/v1/policy", headers=bearer(admin))
    etag = first.headers["etag"]
    same = client.get("/api/v1/policy", headers={**bearer(admin), "If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    policy = first.json()
    policy["at_risk_ratio"] = 0.7
    assert client.put("/api/v1/policy", json=policy, headers=bearer(admin)).status_code == 200
    changed = client.get("/api/v1/policy", headers={**bearer(admin), "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["at_risk_ratio"] == 0.7
