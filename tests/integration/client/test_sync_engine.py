"""portal_client against the real portal API: pulls, pushes, conflicts, refusals, tokens."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from portal_api.models import AccessToken, Item, utcnow
from portal_client.engine import Change, State, SyncEngine
from portal_client.errors import SignInRequired
from portal_client.sync import Syncer
from tests.conftest import SMALL_ITEMS
from tests.helpers import (
    find_item,
    http_act,
    http_item,
    http_login,
    http_request,
    served,
    wait_until,
)


def server_item(portal, item_id: str) -> dict:
    return http_item(portal.url, item_id)


def other_staff_acts(portal, username: str, item_id: str, body: dict) -> dict:
    return http_act(portal.url, http_login(portal.url, username), item_id, body)


def syncer(signed) -> Syncer:
    return Syncer(signed.api, signed.cache, signed.user, page_limit=7)


def test_first_sync_fills_the_cache(portal, desk) -> None:
    nurse = desk("nurse")
    result = syncer(nurse).pull()
    counts = nurse.cache.queries.counts()
    assert result.items == SMALL_ITEMS == counts["items"]
    assert result.pages >= SMALL_ITEMS // 7
    assert counts["patients"] > 0
    assert nurse.cache.cursor
    any_item = find_item(portal.db, status="open")
    cached = nurse.cache.queries.item(any_item.id)
    assert cached["version"] == any_item.version
    assert cached["entries"][0]["type"] == "patient_message"


def test_incremental_sync_brings_only_changes(portal, desk) -> None:
    nurse = desk("nurse")
    syncer(nurse).pull()
    item = find_item(portal.db, status="open")
    after = other_staff_acts(portal, "doctor", item.id, {"type": "note", "body": "see me"})
    result = syncer(nurse).pull()
    assert result.changed_ids == [item.id]
    assert nurse.cache.queries.item(item.id)["version"] == after["version"]


def test_resume_after_restart_uses_the_saved_session_and_cursor(portal, desk) -> None:
    first = desk("nurse", folder="same")
    syncer(first).pull()
    cursor = first.cache.cursor
    first.cache.close()
    again = desk("nurse", password=None, folder="same")  # refresh token from the keyring
    assert again.cache.cursor == cursor
    assert again.cache.report.integrity == "ok"
    assert syncer(again).pull().items == 0


def test_bad_cursor_resyncs_cleanly_and_keeps_the_outbox(portal, desk) -> None:
    nurse = desk("nurse")
    syncer(nurse).pull()
    item = find_item(portal.db, status="open")
    nurse.cache.outbox.enqueue(item.id, {"type": "note", "body": "kept"}, nurse.user.id)
    nurse.cache.set_meta(cursor="not-a-cursor")
    result = syncer(nurse).pull()
    assert result.resynced
    assert nurse.cache.queries.counts()["items"] == SMALL_ITEMS
    assert nurse.cache.queries.counts()["pending_actions"] == 1
    assert nurse.cache.queries.item(item.id)["entries"][-2]["body"] == "kept"  # still shown


def test_expired_access_token_is_refreshed_transparently(portal, desk) -> None:
    nurse = desk("nurse")
    before = nurse.api.tokens.refresh
    with portal.db.write() as session:
        session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert syncer(nurse).pull().items == SMALL_ITEMS
    assert nurse.api.tokens.refresh != before
    assert nurse.credentials.refresh_token("nurse") == nurse.api.tokens.refresh


def test_refresh_token_reuse_means_sign_in_again(portal, desk) -> None:
    nurse = desk("nurse")
    stolen = nurse.api.tokens.refresh
    # Someone else uses the same refresh token first: the server revokes the whole login.
    requests.post(f"{portal.url}/api/v1/auth/refresh", json={"refresh_token": stolen}, timeout=10)
    nurse.api.tokens.access = "expired"
    with pytest.raises(SignInRequired):
        syncer(nurse).pull()
    assert nurse.credentials.refresh_token("nurse") is None


def test_an_action_online_is_delivered_and_confirmed(portal, desk) -> None:
    nurse = desk("nurse")
    sync = syncer(nurse)
    sync.pull()
    item = find_item(portal.db, status="new")
    nurse.cache.outbox.enqueue(item.id, {"type": "claim"}, nurse.user.id)
    shown = nurse.cache.queries.item(item.id)
    assert shown["assignee_id"] == nurse.user.id  # optimistic, before the server answers
    assert shown["status"] == "open"
    result = sync.push()
    assert result.delivered == 1
    assert server_item(portal, item.id)["assignee_id"] == nurse.user.id
    assert nurse.cache.queries.counts()["pending_actions"] == 0
    assert nurse.cache.queries.item(item.id)["version"] == item.version + 1


def test_actions_queued_offline_are_delivered_once_when_the_server_returns(
    settings, seeded, desk, tmp_path
) -> None:
    from portal_api.app import create_app
    from portal_client.credentials import CredentialStore
    from portal_client.session import sign_in
    from tests.helpers import free_port
    from tests.support.keyrings import MemoryKeyring

    app = create_app(settings, seeded)
    port = free_port()
    backend = MemoryKeyring()
    with served(app, port) as url:
        nurse = sign_in(
            url,
            "nurse",
            "demo",
            data_dir=tmp_path / "d",
            credentials=CredentialStore(url, backend=backend),
        )
        sync = Syncer(nurse.api, nurse.cache, nurse.user)
        sync.pull()
    # The server is down now.
    items = [find_item(seeded, status="open").id, find_item(seeded, status="new").id]
    for n, item_id in enumerate(items):
        nurse.cache.outbox.enqueue(
            item_id, {"type": "note", "body": f"offline note {n}"}, nurse.user.id
        )
    result = sync.push()
    assert result.delivered == 0 and result.retry_in is not None and result.error
    row = nurse.cache.outbox.next()
    assert row["attempts"] == 1
    nurse.cache.set_meta()  # nothing lost meanwhile
    # Make the retry due now rather than wait the backoff.
    nurse.cache.write(lambda conn: conn.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0"))
    with served(app, port):
        result = sync.push()
        assert result.delivered == 2
        # A second push sends nothing: every action went exactly once.
        assert sync.push().delivered == 0
    with seeded.read() as session:
        from portal_api.models import Entry

        bodies = list(session.scalars(select(Entry.body).where(Entry.body.like("offline note%"))))
    assert sorted(bodies) == ["offline note 0", "offline note 1"]
    nurse.cache.close()


def test_two_clients_claim_one_item_and_the_loser_gets_a_notice(portal, desk) -> None:
    nurse = desk("nurse")
    other = desk("nurse2")
    for signed in (nurse, other):
        syncer(signed).pull()
    item = find_item(portal.db, status="new")
    other.cache.outbox.enqueue(item.id, {"type": "claim"}, other.user.id)
    syncer(other).push()
    nurse.cache.outbox.enqueue(item.id, {"type": "claim"}, nurse.user.id)
    assert nurse.cache.queries.item(item.id)["assignee_id"] == nurse.user.id  # optimistic
    result = syncer(nurse).push()
    assert result.refused == 1
    notices = nurse.cache.outbox.notices()
    assert notices[0]["kind"] == "conflict"
    assert notices[0]["message"].startswith("Aisha Bello, RN claimed this item at ")
    assert notices[0]["actor_id"] == other.user.id
    # Rolled back to the server's truth: the other nurse holds it.
    assert nurse.cache.queries.item(item.id)["assignee_id"] == other.user.id
    assert nurse.cache.queries.counts()["pending_actions"] == 0


def test_a_stale_if_match_keeps_the_users_reply_text(portal, desk) -> None:
    nurse = desk("nurse")
    syncer(nurse).pull()
    item = find_item(portal.db, status="open", kind="refill")
    version = nurse.cache.queries.item(item.id)["version"]
    other_staff_acts(
        portal,
        "doctor",
        item.id,
        {"type": "refill_decision", "outcome": "approved", "quantity": 30},
    )
    nurse.cache.outbox.enqueue(
        item.id,
        {"type": "reply", "body": "Your refill is on its way."},
        nurse.user.id,
        if_match=version,
    )
    result = syncer(nurse).push()
    assert result.refused == 1
    notice = nurse.cache.outbox.notices()[-1]
    assert notice["kind"] == "conflict"
    assert notice["message"].startswith("Dr. Priya Patel approved this refill at ")
    assert notice["user_text"] == "Your refill is on its way."
    assert nurse.cache.queries.item(item.id)["status"] == "done"


def test_a_forbidden_action_is_shown_as_nothing_and_recorded_as_rejected(portal, desk) -> None:
    nurse = desk("nurse")
    syncer(nurse).pull()
    item = find_item(portal.db, status="new", kind="refill")
    nurse.cache.outbox.enqueue(
        item.id, {"type": "refill_decision", "outcome": "approved"}, nurse.user.id
    )
    # The fold uses the server's own rules: a nurse's approval would be refused, so the item
    # does not look approved meanwhile.
    assert nurse.cache.queries.item(item.id)["status"] == "new"
    assert nurse.cache.queries.counts()["pending_actions"] == 1
    result = syncer(nurse).push()
    assert result.refused == 1
    notice = nurse.cache.outbox.notices()[-1]
    assert notice["kind"] == "rejected"
    assert "clinician" in notice["message"]
    assert nurse.cache.queries.item(item.id)["status"] == "new"


def test_engine_sees_a_new_patient_request_through_events(portal, desk) -> None:
    nurse = desk("nurse")
    engine = SyncEngine(nurse.api, nurse.cache, nurse.user, poll_seconds=60)
    changes: list[Change] = []
    engine.subscribe(changes.append)
    engine.start()
    try:
        assert engine.wait_for_cycle(0, timeout=20)
        assert wait_until(lambda: engine.status.events_available is True)
        patient = http_login(portal.url, "patient1", patient=True)
        created = http_request(
            portal.url,
            patient,
            {
                "kind": "message",
                "subject": "New",
                "body": "Hello",
                "details": {"category": "other"},
            },
        )
        assert wait_until(lambda: nurse.cache.queries.item(created["id"]) is not None)
        assert engine.status.state is State.ONLINE
        assert any(c.kind == "items" and created["id"] in c.ids for c in changes)
    finally:
        engine.stop()
    assert engine.status.state is State.STOPPED


def test_engine_reports_offline_with_since_and_recovers(settings, seeded, tmp_path) -> None:
    from portal_api.app import create_app
    from portal_client.credentials import CredentialStore
    from portal_client.session import sign_in
    from tests.helpers import free_port
    from tests.support.keyrings import MemoryKeyring

    app = create_app(settings, seeded)
    port = free_port()
    with served(app, port) as url:
        nurse = sign_in(
            url,
            "nurse",
            "demo",
            data_dir=tmp_path / "d",
            credentials=CredentialStore(url, backend=MemoryKeyring()),
        )
    engine = SyncEngine(nurse.api, nurse.cache, nurse.user, poll_seconds=0.2, use_events=False)
    engine.start()
    try:
        assert engine.wait_for_cycle(0, timeout=20)
        assert engine.status.state is State.OFFLINE
        assert engine.status.offline_since is not None
        with served(app, port):
            deadline = time.monotonic() + 20
            while engine.status.state is not State.ONLINE and time.monotonic() < deadline:
                engine.sync_now()
                engine.wait_for_cycle(engine.status.cycles, timeout=5)
            assert engine.status.state is State.ONLINE
            assert engine.status.offline_since is None
            assert nurse.cache.queries.counts()["items"] == SMALL_ITEMS
    finally:
        engine.stop()
        nurse.cache.close()


def test_server_item_count_matches_after_everything(portal, desk) -> None:
    nurse = desk("nurse")
    syncer(nurse).pull()
    with portal.db.read() as session:
        truth = dict(session.execute(select(Item.id, Item.version)).all())
    assert nurse.cache.queries.server_versions() == truth


def test_engine_says_sign_in_needed_when_the_session_is_revoked(portal, desk) -> None:
    nurse = desk("nurse")
    engine = SyncEngine(nurse.api, nurse.cache, nurse.user, poll_seconds=0.2, use_events=False)
    states: list[State] = []
    engine.subscribe(lambda change: states.append(engine.status.state))
    engine.start()
    try:
        assert engine.wait_for_cycle(0, timeout=20)
        assert engine.status.state is State.ONLINE
        stolen = nurse.api.tokens.refresh
        requests.post(
            f"{portal.url}/api/v1/auth/refresh", json={"refresh_token": stolen}, timeout=10
        )  # someone else used our refresh token: login revoked
        requests.post(
            f"{portal.url}/api/v1/auth/refresh", json={"refresh_token": stolen}, timeout=10
        )
        deadline = time.monotonic() + 10
        while engine.status.state is not State.SIGN_IN_NEEDED and time.monotonic() < deadline:
            engine.sync_now()
            engine.wait_for_cycle(engine.status.cycles, timeout=2)
        assert engine.status.state is State.SIGN_IN_NEEDED
        assert State.SIGN_IN_NEEDED in states
        # Signing in again resumes the same engine and cache.
        from portal_client.session import sign_in

        again = sign_in(
            portal.url,
            "nurse",
            "demo",
            data_dir=nurse.cache.path.parents[2],
            credentials=nurse.credentials,
        )
        again.cache.close()
        engine.resume(again.api)
        deadline = time.monotonic() + 10
        while engine.status.state is not State.ONLINE and time.monotonic() < deadline:
            engine.wait_for_cycle(engine.status.cycles, timeout=2)
        assert engine.status.state is State.ONLINE
    finally:
        engine.stop()
