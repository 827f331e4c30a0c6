"""`/events`: a `changed` event with the newest cursor after each commit, and heartbeats."""

from __future__ import annotations

import json
from dataclasses import replace

import requests

from portal_api.app import create_app
from tests.helpers import SseReader, find_item, http_login, served


def _login(url: str, user: str) -> dict:
    reply = requests.post(
        f"{url}/api/v1/auth/login", json={"username": user, "password": "demo"}, timeout=10
    )
    reply.raise_for_status()
    return reply.json()


def test_a_change_is_announced_with_the_newest_cursor(settings, seeded) -> None:
    with served(create_app(settings, seeded)) as url:
        nurse = _login(url, "nurse")
        headers = {"Authorization": f"Bearer {nurse['access_token']}"}
        reader = SseReader(url, nurse["access_token"])
        reader.start()
        try:
            assert reader.next_event("comment") == "connected"
            item = find_item(seeded, status="open")
            reply = requests.post(
                f"{url}/api/v1/items/{item.id}/actions",
                json={"type": "note", "body": "x"},
                headers={**headers, "Idempotency-Key": "sse-1"},
                timeout=10,
            )
            assert reply.status_code == 200
            everything = requests.get(
                f"{url}/api/v1/sync", params={"limit": 1000}, headers=headers, timeout=10
            ).json()
            assert everything["items"][-1]["id"] == item.id
            # An event announces the cursor that includes the change (the end of the feed).
            announced = [json.loads(reader.next_event("changed"))["cursor"]]
            while announced[-1] != everything["cursor"]:
                announced.append(json.loads(reader.next_event("changed"))["cursor"])
            page = requests.get(
                f"{url}/api/v1/sync", params={"cursor": announced[-1]}, headers=headers, timeout=10
            ).json()
            assert page["items"] == []
        finally:
            reader.close()


def test_patient_requests_are_announced_too(settings, seeded) -> None:
    with served(create_app(settings, seeded)) as url:
        nurse = _login(url, "nurse")
        reader = SseReader(url, nurse["access_token"])
        reader.start()
        try:
            reader.next_event("comment")
            patient = http_login(url, "patient1", patient=True)
            requests.post(
                f"{url}/api/v1/patient/requests",
                json={
                    "kind": "message",
                    "subject": "Hi",
                    "body": "Question",
                    "details": {"category": "other"},
                },
                headers={"Authorization": f"Bearer {patient['access_token']}"},
                timeout=10,
            ).raise_for_status()
            assert "cursor" in json.loads(reader.next_event("changed"))
        finally:
            reader.close()


def test_heartbeats_keep_the_stream_alive(settings, seeded) -> None:
    quick = replace(settings, heartbeat_seconds=0.2)
    with served(create_app(quick, seeded)) as url:
        nurse = _login(url, "nurse")
        reader = SseReader(url, nurse["access_token"])
        reader.start()
        try:
            assert reader.next_event("comment") == "connected"
            assert reader.next_event("comment") == "heartbeat"
            assert reader.next_event("comment") == "heartbeat"
        finally:
            reader.close()


def test_events_need_a_staff_token(settings, seeded) -> None:
    with served(create_app(settings, seeded)) as url:
        assert requests.get(f"{url}/api/v1/events", timeout=10).status_code == 401
        patient = http_login(url, "patient1", patient=True)
        reply = requests.get(
            f"{url}/api/v1/events",
            timeout=10,
            headers={"Authorization": f"Bearer {patient['access_token']}"},
        )
        assert reply.status_code == 403
