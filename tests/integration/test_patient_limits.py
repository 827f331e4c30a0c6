"""How much one patient may send (issue #10, point 7): a sliding minute and day over new
requests and messages together, 429 with Retry-After beyond, never a message dropped within.
SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import timedelta

import requests
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from portal_api.app import create_app
from portal_api.db import Database
from portal_api.models import Entry, Item, utcnow
from portal_api.simulate import Simulator
from tests.helpers import bearer, http_login, patient_by_username, patient_login, served

MESSAGE = {
    "kind": "message",
    "subject": "Question",
    "body": "Is it OK to take ibuprofen?",
    "details": {"category": "clinical"},
}
RED_FLAG = {**MESSAGE, "subject": "Chest pain", "body": "I have chest pain and my arm hurts"}


def _quiet_past(db: Database, username: str) -> str:
    """Move what the seed wrote for this patient two days back: the count starts at zero."""
    patient_id = patient_by_username(db, username).id
    with db.write() as session:
        item_ids = select(Item.id).where(Item.patient_id == patient_id)
        session.execute(
            update(Entry)
            .where(Entry.item_id.in_(item_ids))
            .values(created_at=utcnow() - timedelta(days=2))
        )
    return patient_id


def _limited(settings, seeded, *, per_minute: int, per_day: int = 0) -> TestClient:
    limits = replace(
        settings, patient_messages_per_minute=per_minute, patient_messages_per_day=per_day
    )
    return TestClient(create_app(limits, seeded))


def _file(client: TestClient, tokens: dict, body: dict = MESSAGE) -> requests.Response:
    return client.post("/api/v1/patient/requests", json=body, headers=bearer(tokens))


def test_past_the_minute_limit_a_patient_gets_429_with_retry_after(settings, seeded) -> None:
    _quiet_past(seeded, "patient1")
    with _limited(settings, seeded, per_minute=3) as client:
        tokens = patient_login(client, "patient1")
        for _ in range(3):
            assert _file(client, tokens).status_code == 201
        refused = _file(client, tokens)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "too_many_messages"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert error["details"]["retry_after"] == int(refused.headers["retry-after"])
    assert error["details"]["limit"] == "minute"
    # Plain words, and what to do if it cannot wait.
    assert "3 messages in the last minute" in error["message"]
    assert "911" in error["message"]


def test_messages_on_an_existing_request_count_too(settings, seeded) -> None:
    _quiet_past(seeded, "patient1")
    with _limited(settings, seeded, per_minute=3) as client:
        tokens = patient_login(client, "patient1")
        item = _file(client, tokens).json()["item"]
        path = f"/api/v1/patient/requests/{item['id']}/messages"
        for _ in range(2):
            reply = client.post(path, json={"body": "One more thing"}, headers=bearer(tokens))
            assert reply.status_code == 201
        assert client.post(path, json={"body": "And"}, headers=bearer(tokens)).status_code == 429
        assert _file(client, tokens).status_code == 429
        # Another patient is not affected.
        other = patient_login(client, "patient2")
        _quiet_past(seeded, "patient2")
        assert _file(client, other).status_code == 201


def test_the_day_limit_counts_a_sliding_day(settings, seeded) -> None:
    patient_id = _quiet_past(seeded, "patient1")
    with _limited(settings, seeded, per_minute=0, per_day=2) as client:
        tokens = patient_login(client, "patient1")
        assert _file(client, tokens).status_code == 201
        assert _file(client, tokens).status_code == 201
        refused = _file(client, tokens)
        assert refused.status_code == 429
        assert refused.json()["error"]["details"]["limit"] == "day"
        assert int(refused.headers["retry-after"]) > 23 * 3600
        # A day later the first two have left the window.
        with seeded.write() as session:
            item_ids = select(Item.id).where(Item.patient_id == patient_id)
            session.execute(
                update(Entry)
                .where(Entry.item_id.in_(item_ids))
                .values(created_at=utcnow() - timedelta(days=1, minutes=1))
            )
        assert _file(client, tokens).status_code == 201


def test_an_urgent_message_within_the_limit_is_taken_and_nothing_is_dropped(
    settings, seeded
) -> None:
    patient_id = _quiet_past(seeded, "patient1")
    with seeded.read() as session:
        before = session.scalar(select(func.count()).where(Item.patient_id == patient_id))
    with _limited(settings, seeded, per_minute=3) as client:
        tokens = patient_login(client, "patient1")
        assert _file(client, tokens).status_code == 201
        assert _file(client, tokens).status_code == 201
        urgent = _file(client, tokens, RED_FLAG)
        assert urgent.status_code == 201
        assert urgent.json()["safety_message"]
        refused = _file(client, tokens, RED_FLAG)
        assert refused.status_code == 429
        assert "911" in refused.json()["error"]["message"]
    with seeded.read() as session:
        items = session.scalars(
            select(Item).where(Item.patient_id == patient_id).order_by(Item.created_at)
        ).all()
    assert len(items) == before + 3
    assert items[-1].priority == "urgent"


def test_a_parallel_burst_from_one_patient_gets_exactly_the_limit(settings, seeded) -> None:
    _quiet_past(seeded, "patient1")
    limits = replace(settings, patient_messages_per_minute=10, patient_messages_per_day=60)
    statuses: list[int] = []
    lock = threading.Lock()
    with served(create_app(limits, seeded)) as url:
        tokens = http_login(url, "patient1", patient=True)
        start = threading.Barrier(30)

        def send() -> None:
            start.wait()
            reply = requests.post(
                f"{url}/api/v1/patient/requests",
                json=MESSAGE,
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                timeout=60,
            )
            with lock:
                statuses.append(reply.status_code)

        threads = [threading.Thread(target=send) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sorted(statuses) == [201] * 10 + [429] * 20


def test_the_demo_simulator_rests_a_patient_at_the_limit_instead_of_failing(
    settings, seeded
) -> None:
    for n in (1, 2):
        _quiet_past(seeded, f"patient{n}")
    limits = replace(settings, patient_messages_per_minute=2, patient_messages_per_day=0)
    with served(create_app(limits, seeded)) as url:
        sim = Simulator(base_url=url, rate_per_second=100, patients=2, rng=random.Random(4))
        lines = [sim.step() for _ in range(8)]
    assert any("sending limit" in line for line in lines)
    assert sim.failed == 0
