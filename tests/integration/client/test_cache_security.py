"""The cache at rest: encrypted, private, no tokens on disk; broken caches set aside."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from portal_client.cache import CACHE_FILE, Cache
from portal_client.cache.files import set_aside
from portal_client.credentials import CredentialStore, backend_status
from portal_client.errors import InsecureServerUrl
from portal_client.sync import Syncer
from portal_client.urls import normalise_server_url
from tests.helpers import find_item
from tests.support.keyrings import MemoryKeyring


def every_file(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_cache_holds_no_patient_text_or_tokens_in_the_clear(portal, desk, tmp_path, caplog) -> None:
    caplog.set_level("DEBUG")
    nurse = desk("nurse")
    Syncer(nurse.api, nurse.cache, nurse.user).pull()
    item = find_item(portal.db, status="open")
    nurse.cache.outbox.enqueue(
        item.id, {"type": "reply", "body": "Zanzibar-unique-reply-text"}, nurse.user.id
    )
    patient = nurse.cache.queries.item(item.id)
    with portal.db.read() as session:
        from portal_api.models import Patient

        person = session.get(Patient, item.patient_id)
        names = [person.family_name, person.mrn]
    message = patient["entries"][0]["body"]
    secrets = [nurse.api.tokens.refresh, nurse.api.tokens.access]
    nurse.cache.close()
    files = every_file(tmp_path / "desks")
    assert any(p.name == CACHE_FILE for p in files)
    for path in files:
        raw = path.read_bytes()
        for text in [*names, message[:40], "Zanzibar-unique-reply-text", *secrets]:
            assert text.encode() not in raw, f"{text!r} in the clear in {path.name}"
    log_text = caplog.text
    assert all(secret not in log_text for secret in secrets)
    assert message[:40] not in log_text


def test_cache_files_are_private(portal, desk, tmp_path) -> None:
    nurse = desk("nurse")
    Syncer(nurse.api, nurse.cache, nurse.user).pull()
    mode = stat.S_IMODE(os.stat(nurse.cache.path).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(nurse.cache.path.parent).st_mode) == 0o700


def test_wrong_key_sets_the_cache_aside_and_starts_fresh(tmp_path) -> None:
    folder = tmp_path / "cache"
    cache = Cache.open(folder, "11" * 32)
    cache.outbox.enqueue("item-1", {"type": "note", "body": "unsent"}, "me")
    cache.close()
    reopened = Cache.open(folder, "22" * 32)
    assert reopened.report.integrity.startswith("cannot be decrypted")
    assert reopened.report.set_aside is not None and reopened.report.set_aside.exists()
    assert reopened.queries.counts()["pending_actions"] == 0
    reopened.close()
    # The set-aside file still holds the unsent action for whoever has the old key.
    rescued = Cache.open(tmp_path / "rescue", "11" * 32)
    rescued.close()
    os.replace(reopened.report.set_aside, tmp_path / "rescue" / CACHE_FILE)
    old = Cache.open(tmp_path / "rescue", "11" * 32)
    assert old.queries.counts()["pending_actions"] == 1
    old.close()


def test_set_aside_caches_no_key_opens_do_not_pile_up(tmp_path) -> None:
    """Each start with a lost key sets one aside: only the newest three such stay, every
    reason note is private, and a set-aside cache the key still opens is never removed."""
    folder = tmp_path / "cache"
    Cache.open(folder, "44" * 32).close()
    damaged = set_aside(folder / CACHE_FILE, "integrity check failed: page 7")
    for n in range(5):
        Cache.open(folder, f"{50 + n:02d}" * 32).close()  # another key each time
    notes = sorted(folder.glob(f"{CACHE_FILE}.set-aside-*.reason.txt"))
    unreadable = [n for n in notes if n.read_text().startswith("cannot be decrypted")]
    assert len(unreadable) == 3
    assert damaged.exists()  # may hold unsent actions: kept
    for note in notes:
        assert stat.S_IMODE(os.stat(note).st_mode) == 0o600
    kept = {Path(str(n)[: -len(".reason.txt")]) for n in notes}
    on_disk = {p for p in folder.glob(f"{CACHE_FILE}.set-aside-*") if not p.name.endswith(".txt")}
    assert on_disk == kept  # no cache left behind without its note, nor a note without it


def test_a_corrupted_cache_fails_its_check_and_is_set_aside(tmp_path) -> None:
    folder = tmp_path / "cache"
    cache = Cache.open(folder, "33" * 32)
    cache.set_meta(cursor="abc")
    for n in range(200):
        cache.outbox.enqueue(f"item-{n}", {"type": "note", "body": "x" * 200}, "me")
    cache.close()
    path = folder / CACHE_FILE
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = os.urandom(64)
    path.write_bytes(bytes(data))
    reopened = Cache.open(folder, "33" * 32)
    assert reopened.report.integrity != "ok"
    assert reopened.report.set_aside is not None
    assert (
        reopened.report.set_aside.parent / f"{reopened.report.set_aside.name}.reason.txt"
    ).exists()
    assert reopened.cursor is None  # a fresh cache: a full sync will fill it
    reopened.close()


def test_a_cache_from_a_newer_version_is_set_aside(tmp_path) -> None:
    folder = tmp_path / "cache"
    cache = Cache.open(folder, "44" * 32)
    cache.write(lambda conn: conn.exec_driver_sql("PRAGMA user_version = 99"))
    cache.close()
    reopened = Cache.open(folder, "44" * 32)
    assert "newer" in reopened.report.integrity
    reopened.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://portal.example.org/", "https://portal.example.org"),
        ("portal.example.org", "https://portal.example.org"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:8765/", "http://localhost:8765"),
        ("http://[::1]:8765", "http://[::1]:8765"),
    ],
)
def test_server_addresses(url: str, expected: str) -> None:
    assert normalise_server_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://portal.example.org", "http://10.0.0.5", "ftp://x", "https://user:pw@x.org", ""]
)
def test_insecure_or_odd_addresses_are_refused(url: str) -> None:
    with pytest.raises(InsecureServerUrl):
        normalise_server_url(url)


def test_no_keyring_backend_means_memory_only_with_a_plain_message() -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    store = CredentialStore("https://portal.example.org", backend=FailKeyring())
    assert not store.persistent
    assert "no secure password store" in (store.status.problem or "")
    store.set_refresh_token("nurse", "tok")
    assert store.refresh_token("nurse") == "tok"  # for this session only
    assert (
        CredentialStore("https://portal.example.org", backend=FailKeyring()).refresh_token("nurse")
        is None
    )


def test_plaintext_keyrings_are_refused() -> None:
    class PlaintextKeyring(MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    status = backend_status(PlaintextKeyring())
    assert not status.secure


def test_secrets_live_under_a_per_server_service_name() -> None:
    backend = MemoryKeyring()
    store = CredentialStore("https://a.example.org", backend=backend)
    store.set_refresh_token("Nurse", "r1")
    key = store.cache_key("nurse")
    assert key is not None and len(key) == 64
    assert backend.secrets[("triage-desk:https://a.example.org", "nurse:refresh_token")] == "r1"
    other = CredentialStore("https://b.example.org", backend=backend)
    assert other.refresh_token("nurse") is None
    assert other.cache_key("nurse") != key


def test_background_verification_flags_damage_for_the_next_start(tmp_path) -> None:
    folder = tmp_path / "cache"
    cache = Cache.open(folder, "55" * 32)
    assert cache.verify() == "ok"
    cache.set_meta(integrity_problem="*** in database main *** Page 7: btreeInitPage() error")
    cache.close()
    reopened = Cache.open(folder, "55" * 32)
    assert reopened.report.integrity.startswith("an earlier check found damage")
    assert reopened.report.set_aside is not None
    assert reopened.verify() == "ok"
    reopened.close()


def test_a_version_1_cache_is_migrated_in_place(tmp_path) -> None:
    """Caches made by the first release (JSON inside `items`) upgrade on open, keeping the
    outbox; the full-text index is rebuilt by the next full sync."""
    import json

    from portal_client.cache import schema as cache_schema

    folder = tmp_path / "cache"
    cache = Cache.open(folder, "66" * 32)
    cache.close()
    path = folder / CACHE_FILE
    path.unlink()
    from portal_client.cache.files import _engine

    old = _engine(path, "66" * 32)
    with old.connect() as conn:
        conn = conn.execution_options(cache_write=True)
        with conn.begin():
            cache_schema._create_v1(conn)
            conn.exec_driver_sql("PRAGMA user_version = 1")
            item = {
                "id": "i1",
                "kind": "message",
                "status": "new",
                "priority": "routine",
                "queue": "front_desk",
                "subject": "Hello",
                "patient_id": "p1",
                "assignee_id": None,
                "created_at": "2026-11-27T10:00:00Z",
                "updated_at": "2026-11-27T10:00:00Z",
                "first_response_at": None,
                "resolved_at": None,
                "version": 4,
                "details": {},
                "entries": [],
            }
            conn.exec_driver_sql(
                "INSERT INTO items VALUES ('i1', 'message', 'new', 'routine', 'front_desk', "
                "'Hello', 'p1', NULL, '2026-11-27T10:00:00Z', '2026-11-27T10:00:00Z', NULL, "
                "NULL, 4, ?, NULL, 0)",
                (json.dumps(item),),
            )
            conn.exec_driver_sql(
                "INSERT INTO patients VALUES ('p1', 'M1', 'Ada', 'Lovelace', '1815-12-10', '{}')"
            )
            conn.exec_driver_sql(
                "INSERT INTO outbox (item_id, action_json, idem_key, if_match, actor_id, "
                "created_at, attempts, next_attempt_at) VALUES ('i1', '{\"type\": \"claim\"}', "
                "'k1', NULL, 'me', '2026-11-27T10:01:00Z', 0, 0)"
            )
            conn.exec_driver_sql("INSERT INTO meta VALUES ('cursor', 'old-cursor')")
    old.dispose()
    upgraded = Cache.open(folder, "66" * 32)
    with upgraded.read() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar_one() == 4
        assert (
            conn.exec_driver_sql("SELECT patient_name FROM items WHERE id = 'i1'").scalar_one()
            == "Ada Lovelace"
        )
    assert upgraded.queries.item("i1")["version"] == 4
    assert upgraded.queries.counts()["pending_actions"] == 1
    assert upgraded.cursor is None  # the next sync refills every row and the search index
    upgraded.close()


def test_a_renamed_patient_is_renamed_on_their_items(tmp_path) -> None:
    cache = Cache.open(tmp_path / "cache", "77" * 32)
    patient = {
        "id": "p1",
        "mrn": "M1",
        "given_name": "Ada",
        "family_name": "Byron",
        "birth_date": "1815-12-10",
    }
    item = {
        "id": "i1",
        "kind": "message",
        "status": "new",
        "priority": "routine",
        "queue": "front_desk",
        "subject": "Hi",
        "patient_id": "p1",
        "assignee_id": None,
        "created_at": "2026-11-27T10:00:00Z",
        "updated_at": "2026-11-27T10:00:00Z",
        "first_response_at": None,
        "resolved_at": None,
        "version": 1,
        "details": {},
        "entries": [],
    }
    cache.feed.apply_page(
        {"items": [item], "patients": [patient], "cursor": "c1", "has_more": False}
    )
    renamed = {**patient, "family_name": "Lovelace"}
    cache.feed.apply_page({"items": [], "patients": [renamed], "cursor": "c2", "has_more": False})
    with cache.read() as conn:
        name = conn.exec_driver_sql("SELECT patient_name FROM items WHERE id = 'i1'").scalar()
    assert name == "Ada Lovelace"
    cache.close()
