"""Staff and patient sign-in, rotation, reuse detection, logout and lockout, over HTTP."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from portal_api.db import Database
from portal_api.models import AccessToken, RefreshToken, utcnow
from tests.helpers import bearer, login, patient_login

LOGIN = "/api/v1/auth/login"


def test_login_returns_tokens_and_the_user(client: TestClient) -> None:
    tokens = login(client, "doctor")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["user"]["role"] == "clinician"
    assert tokens["user"]["username"] == "doctor"
    assert tokens["access_token"] != tokens["refresh_token"]
    me = client.get("/api/v1/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json() == tokens["user"]


def test_usernames_are_case_insensitive(client: TestClient) -> None:
    assert login(client, "NURSE")["user"]["username"] == "nurse"


def test_wrong_user_and_wrong_password_look_the_same(client: TestClient) -> None:
    wrong_password = client.post(LOGIN, json={"username": "nurse", "password": "nope"})
    no_such_user = client.post(LOGIN, json={"username": "ghost", "password": "demo"})
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json() == no_such_user.json()
    assert wrong_password.json()["error"]["code"] == "unauthorized"


def test_only_hashes_of_tokens_are_stored(client: TestClient, seeded: Database) -> None:
    tokens = login(client, "nurse")
    with seeded.read() as session:
        stored = set(session.scalars(select(RefreshToken.token_hash))) | set(
            session.scalars(select(AccessToken.token_hash))
        )
    assert tokens["refresh_token"] not in stored
    assert tokens["access_token"] not in stored
    assert all(len(h) == 64 for h in stored)


def test_refresh_rotates_and_the_old_access_token_keeps_working(client: TestClient) -> None:
    first = login(client, "nurse")
    reply = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reply.status_code == 200
    second = reply.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_reusing_a_refresh_token_revokes_the_whole_login(client: TestClient) -> None:
    first = login(client, "nurse")
    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).json()
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # Every token from that login is dead at once, access tokens included.
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 401
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status_code == 401


def test_reuse_does_not_touch_other_logins(client: TestClient) -> None:
    mine = login(client, "nurse")
    other_desk = login(client, "nurse")
    client.post("/api/v1/auth/refresh", json={"refresh_token": mine["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": mine["refresh_token"]})
    assert client.get("/api/v1/me", headers=bearer(other_desk)).status_code == 200


def test_unknown_refresh_token_is_401(client: TestClient) -> None:
    reply = client.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-token"})
    assert reply.status_code == 401


def test_expired_access_token_is_401_and_refresh_recovers(
    client: TestClient, seeded: Database
) -> None:
    tokens = login(client, "nurse")
    with seeded.write() as session:
        session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(hours=1)))
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(fresh.json())).status_code == 200


def test_expired_refresh_token_is_401(client: TestClient, seeded: Database) -> None:
    tokens = login(client, "nurse")
    with seeded.write() as session:
        session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(days=1)))
    reply = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reply.status_code == 401


def test_logout_revokes_access_and_refresh_tokens(client: TestClient) -> None:
    tokens = login(client, "frontdesk")
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_missing_or_malformed_bearer_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    reply = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_lockout_after_five_failures_even_with_the_right_password(client: TestClient) -> None:
    for _ in range(5):
        assert client.post(LOGIN, json={"username": "nurse", "password": "x"}).status_code == 401
    locked = client.post(LOGIN, json={"username": "nurse", "password": "demo"})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "throttled"
    assert int(locked.headers["retry-after"]) > 0
    # Other accounts are not affected.
    assert client.post(LOGIN, json={"username": "doctor", "password": "demo"}).status_code == 200


def test_lockout_applies_to_unknown_usernames_too(client: TestClient) -> None:
    for _ in range(5):
        client.post(LOGIN, json={"username": "nobody", "password": "x"})
    assert client.post(LOGIN, json={"username": "nobody", "password": "x"}).status_code == 429


def test_lockout_window_slides(client: TestClient, seeded: Database) -> None:
    from portal_api.models import LoginFailure

    for _ in range(5):
        client.post(LOGIN, json={"username": "nurse", "password": "x"})
    # Move the failures 16 minutes into the past: the window has passed.
    with seeded.write() as session:
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    assert client.post(LOGIN, json={"username": "nurse", "password": "demo"}).status_code == 200


def test_successful_login_resets_the_failure_count(client: TestClient) -> None:
    for _ in range(4):
        client.post(LOGIN, json={"username": "nurse", "password": "x"})
    login(client, "nurse")
    for _ in range(4):
        client.post(LOGIN, json={"username": "nurse", "password": "x"})
    assert client.post(LOGIN, json={"username": "nurse", "password": "demo"}).status_code == 200


def test_deactivated_staff_cannot_sign_in_or_use_tokens(
    client: TestClient, seeded: Database
) -> None:
    from portal_api.models import Staff

    tokens = login(client, "frontdesk")
    with seeded.write() as session:
        session.execute(update(Staff).where(Staff.username == "frontdesk").values(active=False))
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401
    assert client.post(LOGIN, json={"username": "frontdesk", "password": "demo"}).status_code == 401


def test_patient_and_staff_tokens_do_not_cross(client: TestClient) -> None:
    patient = patient_login(client, "patient1")
    staff = login(client, "nurse")
    assert client.get("/api/v1/me", headers=bearer(patient)).status_code == 403
    assert client.get("/api/v1/sync", headers=bearer(patient)).status_code == 403
    assert client.get("/api/v1/patient/requests", headers=bearer(staff)).status_code == 403
    # A staff refresh token is no good at the patient refresh endpoint, and back.
    cross = client.post(
        "/api/v1/patient/auth/refresh", json={"refresh_token": staff["refresh_token"]}
    )
    assert cross.status_code == 401


def test_patient_refresh_logout_and_lockout(client: TestClient) -> None:
    tokens = patient_login(client, "patient2")
    rotated = client.post(
        "/api/v1/patient/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    reuse = client.post(
        "/api/v1/patient/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reuse.status_code == 401
    fresh = patient_login(client, "patient2")
    assert client.post("/api/v1/patient/auth/logout", headers=bearer(fresh)).status_code == 204
    assert client.get("/api/v1/patient/requests", headers=bearer(fresh)).status_code == 401
    for _ in range(5):
        client.post("/api/v1/patient/auth/login", json={"username": "patient3", "password": "x"})
    locked = client.post(
        "/api/v1/patient/auth/login", json={"username": "patient3", "password": "demo"}
    )
    assert locked.status_code == 429


def test_login_body_is_validated(client: TestClient) -> None:
    assert client.post(LOGIN, json={"username": "nurse"}).status_code == 422
    bad_json = client.post(
        LOGIN, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "malformed"
