"""Cross-cutting HTTP rules: the error shape, 413, malformed input, health and OpenAPI."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from portal_api.app import create_app
from portal_api.db import Database
from tests.helpers import bearer, find_item, login, served


def test_every_error_has_the_one_shape(client: TestClient) -> None:
    replies = [
        client.get("/api/v1/me"),
        client.get("/api/v1/nowhere"),
        client.delete("/api/v1/me"),
        client.post("/api/v1/auth/login", json={}),
        client.post(
            "/api/v1/auth/login", content=b"[", headers={"content-type": "application/json"}
        ),
    ]
    for reply in replies:
        error = reply.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"].islower()
    assert [r.status_code for r in replies] == [401, 404, 405, 422, 400]


def test_validation_errors_do_not_echo_input(client: TestClient) -> None:
    reply = client.post("/api/v1/auth/login", json={"username": "n", "password": 12345678})
    assert reply.status_code == 422
    assert "12345678" not in reply.text


def test_bodies_over_64_kib_are_413_before_parsing(client: TestClient, seeded) -> None:
    nurse = login(client, "nurse")
    item = find_item(seeded, status="open")
    big = json.dumps({"type": "note", "body": "x" * (64 * 1024)})
    reply = client.post(
        f"/api/v1/items/{item.id}/actions",
        content=big,
        headers={**bearer(nurse), "Idempotency-Key": "big", "content-type": "application/json"},
    )
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"
    # Not even valid JSON is looked at: still 413, not 400.
    junk = client.post(
        "/api/v1/auth/login",
        content=b"{" * (70 * 1024),
        headers={"content-type": "application/json"},
    )
    assert junk.status_code == 413
    # Just under the limit is fine.
    fits = json.dumps({"type": "note", "body": "y" * (45 * 1024)})
    ok = client.post(
        f"/api/v1/items/{item.id}/actions",
        content=fits,
        headers={**bearer(nurse), "Idempotency-Key": "fits", "content-type": "application/json"},
    )
    assert ok.status_code == 200


def test_chunked_body_over_the_limit_is_413(settings, seeded) -> None:
    """Without Content-Length the limit still holds (counted while reading)."""
    with served(create_app(settings, seeded)) as url:
        parsed = urlparse(url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        chunks = (b"x" * 8192 for _ in range(10))
        conn.request(
            "POST",
            "/api/v1/auth/login",
            body=chunks,
            headers={"content-type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.status == 413
        conn.close()


def test_wrong_types_in_queries_and_bodies_never_500(client: TestClient, seeded) -> None:
    nurse = login(client, "nurse")
    item = find_item(seeded, status="open")
    probes = [
        client.get("/api/v1/sync", params={"cursor": "\x00\x01"}, headers=bearer(nurse)),
        client.get("/api/v1/sync", params={"cursor": "x" * 600}, headers=bearer(nurse)),
        client.post(
            f"/api/v1/items/{item.id}/actions",
            content=b"\xff\xfe",
            headers={**bearer(nurse), "Idempotency-Key": "bin"},
        ),
        client.post(
            f"/api/v1/items/{item.id}/actions",
            json=[1, 2],
            headers={**bearer(nurse), "Idempotency-Key": "list"},
        ),
        client.post(
            f"/api/v1/items/{item.id}/actions",
            json={"type": "reply", "body": 5},
            headers={**bearer(nurse), "Idempotency-Key": "int"},
        ),
        client.post(
            f"/api/v1/items/{item.id}/actions",
            json={"type": "claim"},
            headers={**bearer(nurse), "Idempotency-Key": "k" * 300},
        ),
        client.put("/api/v1/policy", json=[], headers=bearer(nurse)),
    ]
    for reply in probes:
        assert 400 <= reply.status_code < 500, reply.text


def test_healthz_ok_and_503_when_the_database_is_gone(settings, seeded, tmp_path) -> None:
    app = create_app(settings, seeded)
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        # The service's database handle now points at a file that cannot be opened.
        app.state.services.db = Database(create_engine(f"sqlite:///{tmp_path}/gone/dir/x.db"))
        reply = client.get("/healthz")
        assert reply.status_code == 503
        assert reply.json() == {"status": "unavailable"}


def test_openapi_describes_every_endpoint_and_error(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/me"),
        ("get", "/api/v1/staff"),
        ("get", "/api/v1/policy"),
        ("put", "/api/v1/policy"),
        ("get", "/api/v1/sync"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/items/{item_id}"),
        ("post", "/api/v1/items/{item_id}/actions"),
        ("post", "/api/v1/patient/auth/login"),
        ("post", "/api/v1/patient/auth/refresh"),
        ("post", "/api/v1/patient/auth/logout"),
        ("post", "/api/v1/patient/requests"),
        ("get", "/api/v1/patient/requests"),
        ("get", "/api/v1/patient/requests/{item_id}"),
        ("post", "/api/v1/patient/requests/{item_id}/messages"),
        ("get", "/api/v1/audit"),
        ("get", "/healthz"),
    }
    present = {(method, path) for path, ops in paths.items() for method in ops}
    assert expected <= present
    for method, path in expected - {("get", "/healthz")}:
        responses = paths[path][method]["responses"]
        assert "413" in responses, (method, path)
        assert any(code.startswith("4") for code in responses if code != "413"), (method, path)
    actions = paths["/api/v1/items/{item_id}/actions"]["post"]
    assert {"409", "412", "422", "403", "404", "400"} <= set(actions["responses"])
    assert actions["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "Action"
    )
    assert "Action" in spec["components"]["schemas"]
    assert "ErrorResponse" in spec["components"]["schemas"]
    sync_schema = paths["/api/v1/sync"]["get"]["responses"]["200"]["content"]["application/json"]
    assert sync_schema["schema"]["$ref"].endswith("SyncPage")
