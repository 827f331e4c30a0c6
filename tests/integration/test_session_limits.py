"""How long a staff login lasts, over HTTP against the real service: a refresh token unused
for the policy's `session_idle_hours` ends the login at its next refresh (`401
session_idle`), and no login outlives the refresh token's life since the password was given
(`401 session_expired`), however often it rotates. The policy's unattended-PC fields have
defaults, so older policy documents stay valid."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from portal_api.db import Database
from portal_api.models import AuditEvent, AuthSession, RefreshToken, utcnow
from portal_api.policy import validate_policy
from portal_api.seed.data import demo_policy
from tests.helpers import bearer, login, patient_login

REFRESH = "/api/v1/auth/refresh"


def age_login(db: Database, hours: float) -> None:
    """Move every login and every refresh-token use back in time (as if nobody used them)."""
    back = timedelta(hours=hours)
    with db.write() as session:
        for login_row in session.scalars(select(AuthSession)):
            login_row.created_at -= back
        for token in session.scalars(select(RefreshToken).where(RefreshToken.used_at.is_not(None))):
            assert token.used_at is not None
            token.used_at -= back


def put_policy(client: TestClient, **changes: object) -> dict:
    admin = login(client, "admin")
    policy = client.get("/api/v1/policy", headers=bearer(admin)).json()
    reply = client.put("/api/v1/policy", json={**policy, **changes}, headers=bearer(admin))
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_a_login_unused_for_twelve_hours_ends_at_its_next_refresh(
    client: TestClient, seeded: Database
) -> None:
    tokens = login(client, "nurse")
    age_login(seeded, 12.5)
    reply = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["code"] == "session_idle"
    assert error["message"] == "The session ended after 12 hours without use. Sign in again."
    assert error["details"] == {"hours": 12}
    # The whole login is over: its access token too, and the token does not work twice.
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401
    again = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "unauthorized"
    with seeded.read() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
        reason = session.scalar(select(AuthSession.revoked_reason))
    assert "staff.session_idle" in actions
    assert reason == "session_idle"
    assert login(client, "nurse")["access_token"]  # the password starts a new one


def test_idle_time_counts_from_the_last_refresh_not_from_the_sign_in(
    client: TestClient, seeded: Database
) -> None:
    first = login(client, "nurse")
    age_login(seeded, 11)
    second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()
    age_login(seeded, 11)  # 22 hours since the sign-in, 11 since the last refresh
    third = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200, third.text
    assert client.get("/api/v1/me", headers=bearer(third.json())).status_code == 200


def test_the_policy_sets_the_idle_hours(client: TestClient, seeded: Database) -> None:
    saved = put_policy(client, session_idle_hours=2)
    assert saved["session_idle_hours"] == 2
    tokens = login(client, "doctor")
    age_login(seeded, 1)
    tokens = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}).json()
    age_login(seeded, 2.1)
    reply = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "session_idle"
    assert reply.json()["error"]["details"] == {"hours": 2}


def test_a_rotating_login_still_ends_after_the_refresh_tokens_life(
    client: TestClient, seeded: Database
) -> None:
    tokens = login(client, "nurse")
    with seeded.write() as session:  # signed in 15 days ago, refreshed a minute ago
        session.execute(update(AuthSession).values(created_at=utcnow() - timedelta(days=15)))
    reply = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "session_expired"
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401


def test_patient_logins_are_not_held_to_the_staff_idle_limit(
    client: TestClient, seeded: Database
) -> None:
    tokens = patient_login(client, "patient1")
    age_login(seeded, 13)
    reply = client.post(
        "/api/v1/patient/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reply.status_code == 200, reply.text


def test_older_policies_get_the_defaults_and_the_limits_are_checked(
    client: TestClient,
) -> None:
    old = demo_policy()
    old.pop("idle_lock_minutes", None)
    old.pop("session_idle_hours", None)
    normalised = validate_policy(old)
    assert normalised["idle_lock_minutes"] == 10
    assert normalised["session_idle_hours"] == 12
    admin = login(client, "admin")
    current = client.get("/api/v1/policy", headers=bearer(admin)).json()
    for bad in ({"idle_lock_minutes": 0}, {"idle_lock_minutes": 31}, {"session_idle_hours": 0}):
        reply = client.put("/api/v1/policy", json={**current, **bad}, headers=bearer(admin))
        assert reply.status_code == 422, bad
    assert put_policy(client, idle_lock_minutes=30)["idle_lock_minutes"] == 30
