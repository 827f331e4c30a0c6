"""Bad input gets a clear 4xx, never a 500, and never reaches the log (issue #10, point 7):
deep JSON, NUL characters and unpaired surrogates anywhere, odd cursors. SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from fastapi.testclient import TestClient

from tests.helpers import bearer, find_item, login, patient_login

DEEP = b"[" * 30_000 + b"]" * 30_000  # under 64 KiB, far past any parser's recursion
MARK = "ZZMARK"  # a value to look for in the log


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the service logged (the test client's own request lines left out)."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(
        formatter.format(r) for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )


def _json(client: TestClient, method: str, path: str, body: bytes, headers: dict) -> object:
    return client.request(
        method, path, content=body, headers={**headers, "content-type": "application/json"}
    )


def test_deeply_nested_json_is_400_malformed_everywhere(client: TestClient, seeded) -> None:
    nurse = login(client, "nurse")
    patient = patient_login(client, "patient1")
    item = find_item(seeded, status="open")
    nested_reply = b'{"type": "reply", "body": ' + DEEP + b"}"
    probes = [
        (
            "POST",
            f"/api/v1/items/{item.id}/actions",
            DEEP,
            {**bearer(nurse), "Idempotency-Key": "d1"},
        ),
        (
            "POST",
            f"/api/v1/items/{item.id}/actions",
            nested_reply,
            {**bearer(nurse), "Idempotency-Key": "d2"},
        ),
        ("POST", "/api/v1/auth/login", DEEP, {}),
        ("POST", "/api/v1/patient/requests", DEEP, bearer(patient)),
        ("PUT", "/api/v1/policy", DEEP, bearer(login(client, "admin"))),
    ]
    for method, path, body, headers in probes:
        reply = _json(client, method, path, body, headers)
        assert reply.status_code == 400, (path, reply.status_code)
        assert reply.json()["error"]["code"] == "malformed"


NUL_TEXT = f"{MARK} before\u0000after"
LONE_SURROGATE = '"' + MARK + ' \\ud800 alone"'  # JSON text: an unpaired high surrogate


def test_nul_characters_are_422_in_every_text_field(client: TestClient, seeded, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    nurse = login(client, "nurse")
    patient = patient_login(client, "patient1")
    item = find_item(seeded, status="open")
    own = client.post(
        "/api/v1/patient/requests",
        json={
            "kind": "message",
            "subject": "Hi",
            "body": "A question",
            "details": {"category": "other"},
        },
        headers=bearer(patient),
    ).json()["item"]
    replies = [
        client.post(
            "/api/v1/patient/requests",
            json={
                "kind": "message",
                "subject": NUL_TEXT,
                "body": "x",
                "details": {"category": "other"},
            },
            headers=bearer(patient),
        ),
        client.post(
            "/api/v1/patient/requests",
            json={
                "kind": "message",
                "subject": "Hi",
                "body": NUL_TEXT,
                "details": {"category": "other"},
            },
            headers=bearer(patient),
        ),
        client.post(
            f"/api/v1/patient/requests/{own['id']}/messages",
            json={"body": NUL_TEXT},
            headers=bearer(patient),
        ),
        client.post(
            f"/api/v1/items/{item.id}/actions",
            json={"type": "reply", "body": NUL_TEXT},
            headers={**bearer(nurse), "Idempotency-Key": "nul-reply"},
        ),
        client.post("/api/v1/auth/login", json={"username": NUL_TEXT, "password": "x"}),
        client.post("/api/v1/patient/auth/login", json={"username": NUL_TEXT, "password": "x"}),
    ]
    for reply in replies:
        assert reply.status_code == 422, reply.text
        error = reply.json()["error"]
        assert error["code"] == "invalid"
        assert error["details"]["errors"][0]["loc"][0] == "body"
        assert MARK not in reply.text
    assert MARK not in server_log(caplog)


def test_nul_in_query_parameters_and_paths_is_422(client: TestClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    admin = login(client, "admin")
    for path in (
        f"/api/v1/sync?cursor={MARK}%00",
        f"/api/v1/items/{MARK}%00",
        f"/api/v1/audit?item_id={MARK}%00",
        f"/api/v1/audit?action={MARK}%00",
    ):
        reply = client.get(path, headers=bearer(admin))
        assert reply.status_code == 422, (path, reply.text)
        assert MARK not in reply.text
    assert MARK not in server_log(caplog)


def test_unpaired_surrogates_are_422_and_real_emoji_are_fine(client: TestClient) -> None:
    patient = patient_login(client, "patient1")
    body = (
        '{"kind": "message", "subject": "Hi", "body": '
        + LONE_SURROGATE
        + ', "details": {"category": "other"}}'
    ).encode()
    reply = _json(client, "POST", "/api/v1/patient/requests", body, bearer(patient))
    assert reply.status_code == 422, reply.text
    # A paired surrogate escape is one ordinary character (requests sends emoji this way).
    emoji = client.post(
        "/api/v1/patient/requests",
        content=json.dumps(
            {
                "kind": "message",
                "subject": "Thanks \U0001f600",
                "body": "x",
                "details": {"category": "other"},
            }
        ).encode(),
        headers={**bearer(patient), "content-type": "application/json"},
    )
    assert emoji.status_code == 201, emoji.text
    assert emoji.json()["item"]["subject"] == "Thanks \U0001f600"


def _cursor(client: TestClient, nurse: dict, **changes: object) -> str:
    real = client.get("/api/v1/sync", params={"limit": 1}, headers=bearer(nurse)).json()["cursor"]
    data = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    data.update(changes)
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "changes",
    [{"t": True, "s": True}, {"v": True}, {"t": 2**70}, {"s": -1}, {"t": 1.5}],
    ids=["booleans", "true_version", "past_bigint", "negative", "float"],
)
def test_a_cursor_with_wrong_types_is_400_bad_cursor(client: TestClient, changes) -> None:
    nurse = login(client, "nurse")
    reply = client.get(
        "/api/v1/sync", params={"cursor": _cursor(client, nurse, **changes)}, headers=bearer(nurse)
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["code"] == "bad_cursor"
