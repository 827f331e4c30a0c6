"""Faults between the desktop and the server: every one is a typed error and loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_client.api import Timeouts
from portal_client.credentials import CredentialStore
from portal_client.errors import MalformedReply, Offline, ServerError
from portal_client.session import SignedIn, sign_in
from portal_client.sync import Syncer
from tests.conftest import SMALL_ITEMS
from tests.helpers import find_item, wait_until
from tests.support.fault_proxy import FaultProxy
from tests.support.keyrings import MemoryKeyring

SYNC = "/api/v1/sync"


@pytest.fixture
def proxy(portal) -> Iterator[FaultProxy]:
    proxied = FaultProxy(portal.url)
    yield proxied
    proxied.close()


@pytest.fixture
def nurse(proxy: FaultProxy, tmp_path: Path) -> Iterator[SignedIn]:
    signed = sign_in(
        proxy.url,
        "nurse",
        "demo",
        data_dir=tmp_path / "desk",
        credentials=CredentialStore(proxy.url, backend=MemoryKeyring()),
        timeouts=Timeouts(connect=2, read=1.0),
    )
    yield signed
    signed.cache.close()
    signed.api.close()


def syncer(signed: SignedIn) -> Syncer:
    return Syncer(signed.api, signed.cache, signed.user, page_limit=10)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", ServerError),
        ("html", MalformedReply),
        ("truncated", MalformedReply),
        ("shape", MalformedReply),
        ("reset", Offline),
        ("slow:2.5", Offline),
    ],
)
def test_each_fault_is_a_typed_error_and_the_next_sync_completes(
    proxy: FaultProxy, nurse: SignedIn, fault: str, error: type
) -> None:
    proxy.fail(SYNC, fault)
    with pytest.raises(error) as caught:
        syncer(nurse).pull()
    assert caught.value.message  # something to show staff
    assert nurse.cache.queries.counts()["items"] == 0
    result = syncer(nurse).pull()
    assert result.items == SMALL_ITEMS
    assert nurse.cache.queries.counts()["items"] == SMALL_ITEMS


def test_server_gone_mid_sync_keeps_finished_pages_and_resumes(
    proxy: FaultProxy, nurse: SignedIn, portal
) -> None:
    proxy.fail(SYNC, "after:3")
    with pytest.raises(Offline):
        syncer(nurse).pull()
    assert nurse.cache.queries.counts()["items"] == 30  # three pages of ten, each with its cursor
    cursor = nurse.cache.cursor
    assert cursor
    proxy.heal()
    result = syncer(nurse).pull()
    assert result.items == SMALL_ITEMS - 30
    from sqlalchemy import select

    from portal_api.models import Item

    with portal.db.read() as session:
        truth = {row.id: row.version for row in session.execute(select(Item.id, Item.version))}
    assert nurse.cache.queries.server_versions() == truth


def test_a_lost_action_reply_is_retried_with_the_same_key_and_applied_once(
    proxy: FaultProxy, nurse: SignedIn, portal
) -> None:
    syncer(nurse).pull()
    item = find_item(portal.db, status="open")
    nurse.cache.outbox.enqueue(item.id, {"type": "note", "body": "exactly once"}, nurse.user.id)
    key = nurse.cache.outbox.next()["idem_key"]
    # The server applies the action, but the reply never arrives.
    proxy.fail(f"/api/v1/items/{item.id}/actions", "truncated")
    result = syncer(nurse).push()
    assert result.delivered == 0 and result.retry_in is not None
    assert nurse.cache.outbox.next()["idem_key"] == key  # same key for the retry
    nurse.cache.write(lambda conn: conn.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0"))
    assert syncer(nurse).push().delivered == 1
    from sqlalchemy import func, select

    from portal_api.models import Entry

    with portal.db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(Entry).where(Entry.body == "exactly once")
        )
    assert count == 1


def test_a_500_on_an_action_is_retried_later(proxy: FaultProxy, nurse: SignedIn, portal) -> None:
    syncer(nurse).pull()
    item = find_item(portal.db, status="open")
    nurse.cache.outbox.enqueue(item.id, {"type": "note", "body": "later"}, nurse.user.id)
    proxy.fail("/api/v1/items/", "500")
    result = syncer(nurse).push()
    assert result.delivered == 0 and result.error
    row = nurse.cache.outbox.next()
    assert row["attempts"] == 1 and row["last_error"]


def test_a_refusal_the_engine_cannot_retry_is_said_and_cleared_by_a_good_cycle(
    proxy: FaultProxy, nurse: SignedIn
) -> None:
    from portal_client.engine import Change, State, SyncEngine

    engine = SyncEngine(nurse.api, nurse.cache, nurse.user, poll_seconds=0.2, use_events=False)
    changes: list[Change] = []
    engine.subscribe(changes.append)
    proxy.fail(SYNC, "forbidden")
    engine.start()
    try:
        assert wait_until(lambda: engine.status.problem == "Not for you.", timeout=15)
        assert engine.status.state is not State.OFFLINE  # a refusal, not a lost network
        assert any(c.kind == "state" for c in changes)
        assert wait_until(lambda: engine.status.problem is None, timeout=15)
    finally:
        engine.stop()
