"""The sync feed's no-missed-change guarantee, proven on PostgreSQL with concurrent writers.

A naive cursor (the change sequence number, as an autoincrement or `updated_at` cursor would
be) is run beside the real `/sync` on the same database and the same traffic: it loses changes
that commit after a later-numbered one; `/sync` loses none.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from sqlalchemy import event, select, text

from portal_api.app import create_app
from portal_api.auth import Principal
from portal_api.config import Settings
from portal_api.db import Database, create_db_engine
from portal_api.items import mark_changed
from portal_api.models import Item, Staff, utcnow
from portal_api.seed import seed_demo
from tests.conftest import PostgresServer
from tests.helpers import served

pytestmark = pytest.mark.postgres


class NaiveReader:
    """The classic mistake: remember the highest sequence number seen, ask for anything above."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.cursor = 0
        self.seen: dict[str, int] = {}

    def follow(self) -> None:
        while True:
            with self.db.read() as session:
                rows = session.execute(
                    text(
                        "SELECT id, version, change_seq FROM items WHERE change_seq > :c "
                        "ORDER BY change_seq LIMIT 500"
                    ),
                    {"c": self.cursor},
                ).all()
            for item_id, version, seq in rows:
                self.seen[item_id] = version
                self.cursor = max(self.cursor, seq)
            if len(rows) < 500:
                return


class FeedReader:
    """A desktop following `/sync` over HTTP, exactly as the contract says."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cursor: str | None = None
        self.seen: dict[str, int] = {}
        self.http = requests.Session()

    def follow(self) -> None:
        while True:
            params: dict[str, object] = {"limit": 200}
            if self.cursor:
                params["cursor"] = self.cursor
            reply = self.http.get(
                f"{self.base_url}/api/v1/sync", params=params, headers=self.headers, timeout=30
            )
            reply.raise_for_status()
            page = reply.json()
            for item in page["items"]:
                self.seen[item["id"]] = item["version"]
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[tuple[Settings, Database]]:
    url = postgres_server.new_database()
    settings = Settings(database_url=url, password_profile="fast")
    engine = create_db_engine(url, pool_size=20)
    db = Database(engine)
    seed_demo(db, random_seed=3, patients=30, items=240, password_profile="fast")
    yield settings, db
    engine.dispose()


def current_versions(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            item_id: version for item_id, version in session.execute(select(Item.id, Item.version))
        }


def nurse(db: Database) -> Principal:
    with db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.username == "nurse")).one()
        return Principal("staff", staff.id, "test-session", staff.role)


def test_a_late_commit_with_an_early_number_is_not_skipped(pg) -> None:
    settings, db = pg
    with served(create_app(settings, db)) as url:
        token = requests.post(
            f"{url}/api/v1/auth/login", json={"username": "nurse", "password": "demo"}, timeout=10
        ).json()
        feed = FeedReader(url, token["access_token"])
        naive = NaiveReader(db)
        feed.follow()
        naive.follow()
        ids = list(current_versions(db))
        slow_id, fast_id = ids[0], ids[1]

        # Transaction A takes its place in the feed first and holds it open.
        with db.write() as slow:
            item = slow.get(Item, slow_id, with_for_update=True)
            assert item is not None
            mark_changed(slow, item, utcnow())
            slow.flush()
            # Transaction B changes another item and commits first.
            reply = requests.post(
                f"{url}/api/v1/items/{fast_id}/actions",
                json={"type": "note", "body": "quick"},
                headers={**feed.headers, "Idempotency-Key": str(uuid.uuid4())},
                timeout=10,
            )
            assert reply.status_code == 200
            feed.follow()
            naive.follow()
            assert naive.seen[fast_id] == reply.json()["item"]["version"]  # naive saw B
        # A commits now, with a lower sequence number than B.
        feed.follow()
        naive.follow()
    truth = current_versions(db)
    assert feed.seen[slow_id] == truth[slow_id]
    assert feed.seen[fast_id] == truth[fast_id]
    assert naive.seen.get(slow_id) != truth[slow_id], "the naive cursor should have skipped A"


def test_concurrent_writers_and_a_cursor_follower_miss_nothing(pg) -> None:
    settings, db = pg
    principal = nurse(db)
    rng = random.Random(11)

    # Widen the window between taking a feed position and committing, as a busy server would.
    @event.listens_for(db._sessions, "before_commit")
    def _slow_commit(_session) -> None:
        time.sleep(rng.uniform(0, 0.015))

    app = create_app(replace(settings), db)
    with served(app) as url:
        token = requests.post(
            f"{url}/api/v1/auth/login", json={"username": "nurse", "password": "demo"}, timeout=10
        ).json()
        feed = FeedReader(url, token["access_token"])
        naive = NaiveReader(db)
        feed.follow()
        naive.follow()
        targets = [i for i, _ in sorted(current_versions(db).items())]
        rng.shuffle(targets)
        writers = 6
        per_writer = targets[: writers * 25]
        stop = threading.Event()
        errors: list[BaseException] = []

        def write(chunk: list[str]) -> None:
            try:
                for item_id in chunk:
                    result = app.state.services.actions.perform(
                        principal,
                        item_id,
                        str(uuid.uuid4()),
                        b'{"type": "note", "body": "concurrent"}',
                        None,
                        None,
                    )
                    assert result.status == 200
            except BaseException as exc:  # report in the main thread
                errors.append(exc)

        def read() -> None:
            while not stop.is_set():
                feed.follow()
                naive.follow()

        reader = threading.Thread(target=read)
        threads = [
            threading.Thread(target=write, args=(per_writer[i::writers],)) for i in range(writers)
        ]
        reader.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        reader.join()
        assert not errors, errors
        # One last look, as a desktop would on its next sync.
        feed.follow()
        naive.follow()
    truth = current_versions(db)
    feed_stale = {i for i, v in truth.items() if feed.seen.get(i) != v}
    naive_stale = {i for i, v in truth.items() if naive.seen.get(i) != v}
    assert feed_stale == set(), f"/sync missed {len(feed_stale)} changes"
    assert naive_stale, "the naive cursor should have missed late commits under this load"
