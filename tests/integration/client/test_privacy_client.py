"""The client side of privacy: views recorded offline and delivered once, headers in the
cache (real portal on loopback, real SQLCipher files)."""

from __future__ import annotations

from sqlalchemy import select

from portal_api.app import create_app
from portal_api.models import AuditEvent
from portal_client.cache import Cache
from portal_client.credentials import CredentialStore
from portal_client.session import sign_in
from portal_client.sync import Syncer
from tests.helpers import find_item, free_port, served
from tests.support.keyrings import MemoryKeyring


def desktop_views(db) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.view"))
        return [e for e in rows if e.detail.get("source") == "desktop"]


def test_views_recorded_offline_survive_a_restart_and_go_once(settings, seeded, tmp_path) -> None:
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
        Syncer(nurse.api, nurse.cache, nurse.user).pull()
    # Offline: two openings of one item within a minute, one of another.
    first, second = find_item(seeded, status="open").id, find_item(seeded, status="new").id
    views = nurse.cache.views
    assert views.record(first, now=1000.0) is not None
    assert views.record(first, now=1030.0) is None  # the same view
    assert views.record(second, now=1031.0) is not None
    assert views.record(first, now=1061.0) is not None  # a minute later: a new view
    assert Syncer(nurse.api, nurse.cache, nurse.user).deliver_views() == 0  # still offline
    # A restart: the cache closed and opened again with its key from the keyring.
    folder = nurse.cache.path.parent
    nurse.cache.close()
    key = nurse.credentials.cache_key("nurse", create=False)
    assert key is not None
    cache = Cache.open(folder, key)
    assert cache.views.pending_count() == 3
    with served(app, port):
        sync = Syncer(nurse.api, cache, nurse.user)
        assert sync.deliver_views() == 3
        assert sync.deliver_views() == 0
        # Delivered again (a reply lost on the way): the server records each id once.
        nurse.api.record_views(
            [
                {
                    "id": e.detail["view_id"],
                    "item_id": e.item_id,
                    "viewed_at": e.detail["viewed_at"],
                }
                for e in desktop_views(seeded)
            ]
        )
    recorded = desktop_views(seeded)
    assert len(recorded) == 3
    assert sorted(e.item_id for e in recorded) == sorted([first, first, second])
    cache.close()


def test_the_front_desk_cache_holds_headers_with_the_same_clocks(portal, desk) -> None:
    clinical = find_item(portal.db, kind="message", queue="nursing", status="new")
    clocks = {}
    for name in ("frontdesk", "nurse"):
        signed = desk(name)
        sync = Syncer(signed.api, signed.cache, signed.user)
        sync.refresh_reference()
        sync.pull()
        shown = signed.cache.queries.item(clinical.id)
        assert shown["restricted"] is (name == "frontdesk")
        assert bool(shown["entries"]) is (name == "nurse")
        with signed.cache.read() as conn:
            clocks[name] = conn.exec_driver_sql(
                "SELECT clock, due_at, risk_at FROM items WHERE id = ?", (clinical.id,)
            ).one()
    # A header's clock (from its marks) is the one the full item gives.
    assert clocks["frontdesk"] == clocks["nurse"]
    assert clocks["nurse"][0] == "first_response" and clocks["nurse"][1]
