"""Several server processes on one PostgreSQL database: every one announces every change."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import requests

from portal_api.db import Database, create_db_engine
from portal_api.seed import seed_demo
from tests.conftest import PostgresServer
from tests.helpers import SseReader, portal_process

pytestmark = pytest.mark.postgres


def test_a_change_through_one_process_is_announced_by_the_others(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()
    engine = create_db_engine(url)
    seed_demo(Database(engine), patients=10, items=20, password_profile="fast")
    engine.dispose()
    with portal_process(url) as first, portal_process(url) as second:
        token = requests.post(
            f"{second}/api/v1/auth/login",
            json={"username": "nurse", "password": "demo"},
            timeout=10,
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        readers = [SseReader(base, token["access_token"]) for base in (first, second)]
        for reader in readers:
            reader.start()
            assert reader.next_event("comment", timeout=10) == "connected"
        try:
            page = requests.get(
                f"{first}/api/v1/sync", params={"limit": 1}, headers=headers, timeout=10
            ).json()
            item_id = page["items"][0]["id"]
            reply = requests.post(
                f"{first}/api/v1/items/{item_id}/actions",
                json={"type": "note", "body": "hi"},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                timeout=10,
            )
            assert reply.status_code == 200
            end = requests.get(
                f"{second}/api/v1/sync", params={"limit": 1000}, headers=headers, timeout=10
            ).json()["cursor"]
            for reader in readers:  # the process that did not handle the write announces too
                cursor = json.loads(reader.next_event("changed", timeout=10))["cursor"]
                while cursor != end:
                    cursor = json.loads(reader.next_event("changed", timeout=10))["cursor"]
        finally:
            for reader in readers:
                reader.close()


def test_serve_refuses_an_unmigrated_foreign_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database(migrated=False)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE unrelated (id int)")
    engine.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "portal_api", "serve", "--database", url, "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no portal-api schema version" in result.stderr
