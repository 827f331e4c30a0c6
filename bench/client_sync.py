"""Client-side sync figures for portal_client, against a local `portal-api`.

    python bench/client_sync.py [--items 50000] [--database URL]

Prints:
  1. apply rate: /sync pages (fetched once, held in memory) parsed and applied to the
     encrypted cache, beside the floor of stdlib json + sqlite3.executemany of the same rows
     into a plain SQLite file (same WAL/synchronous settings, one transaction per page);
  2. end-to-end full sync from the server: items/s and peak memory (RSS) of this process;
  3. an incremental sync of 100 changed items on top of the full cache: milliseconds.
Run by hand; not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal_client.cache import Cache  # noqa: E402
from portal_client.credentials import CredentialStore  # noqa: E402
from portal_client.engine import SyncEngine  # noqa: E402
from portal_client.session import sign_in  # noqa: E402
from tests.helpers import portal_process  # noqa: E402
from tests.support.keyrings import MemoryKeyring  # noqa: E402


def seed_elsewhere(url: str, items: int) -> float:
    """Seed in another process, so this one's peak memory is the client's alone."""
    import os
    import subprocess

    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "portal_api",
            "seed",
            "--database",
            url,
            "--items",
            str(items),
            "--patients",
            str(max(300, items // 25)),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PORTAL_API_PASSWORD_PROFILE": "fast"},
    )
    return time.perf_counter() - started


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fetch_pages(base: str, limit: int) -> list[bytes]:
    http = requests.Session()
    token = http.post(
        f"{base}/api/v1/auth/login", json={"username": "nurse", "password": "demo"}, timeout=30
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    pages, cursor = [], None
    while True:
        params: dict[str, object] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        reply = http.get(f"{base}/api/v1/sync", params=params, headers=headers, timeout=120)
        reply.raise_for_status()
        pages.append(reply.content)
        page = json.loads(reply.content)
        cursor = page["cursor"]
        if not page["has_more"]:
            return pages


def apply_ours(pages: list[bytes], folder: Path) -> tuple[int, float]:
    cache = Cache.open(folder, uuid.uuid4().hex * 2)
    items = 0
    started = time.perf_counter()
    for raw in pages:
        items += len(cache.feed.apply_page(json.loads(raw)))
    elapsed = time.perf_counter() - started
    cache.close()
    return items, elapsed


def apply_floor(pages: list[bytes], path: Path) -> tuple[int, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE items (id TEXT PRIMARY KEY, kind, status, priority, queue, "
        "subject, patient_id, assignee_id, created_at, updated_at, version, json TEXT)"
    )
    conn.execute("CREATE TABLE patients (id TEXT PRIMARY KEY, given_name, family_name, json)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value)")
    items = 0
    started = time.perf_counter()
    for raw in pages:
        page = json.loads(raw)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT OR REPLACE INTO patients VALUES (?, ?, ?, ?)",
            [(p["id"], p["given_name"], p["family_name"], json.dumps(p)) for p in page["patients"]],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i["id"],
                    i["kind"],
                    i["status"],
                    i["priority"],
                    i["queue"],
                    i["subject"],
                    i["patient_id"],
                    i["assignee_id"],
                    i["created_at"],
                    i["updated_at"],
                    i["version"],
                    json.dumps(i),
                )
                for i in page["items"]
            ],
        )
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (page["cursor"],))
        conn.execute("COMMIT")
        items += len(page["items"])
    elapsed = time.perf_counter() - started
    conn.close()
    return items, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--database", help="an EMPTY database URL (default: temp SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        url = args.database or f"sqlite:///{folder}/server.sqlite3"
        print(f"seeded {args.items} items in {seed_elsewhere(url, args.items):.1f} s")
        with portal_process(url, capture=False) as base:
            # Full and incremental sync first, in a fresh process, so peak RSS is theirs.
            before = rss_mb()
            signed = sign_in(
                base,
                "nurse",
                "demo",
                data_dir=folder / "desk",
                credentials=CredentialStore(base, backend=MemoryKeyring()),
            )
            engine = SyncEngine(
                signed.api, signed.cache, signed.user, use_events=False, page_limit=args.limit
            )
            started = time.perf_counter()
            summary = engine.run_once()
            elapsed = time.perf_counter() - started
            print(
                f"2. full sync: {summary['pulled_items']} items in {elapsed:.2f} s = "
                f"{summary['pulled_items'] / elapsed:,.0f} items/s; peak RSS {rss_mb():.0f} MB "
                f"(was {before:.0f} MB before the sync)"
            )

            token = requests.post(
                f"{base}/api/v1/auth/login",
                json={"username": "doctor", "password": "demo"},
                timeout=30,
            ).json()["access_token"]
            ids = list(signed.cache.queries.server_versions())[:100]
            http = requests.Session()
            for item_id in ids:
                http.post(
                    f"{base}/api/v1/items/{item_id}/actions",
                    json={"type": "note", "body": "bench"},
                    timeout=30,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                ).raise_for_status()
            started = time.perf_counter()
            summary = engine.run_once()
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"3. incremental sync: {summary['pulled_items']} changed items on top of "
                f"{signed.cache.queries.counts()['items']} in {elapsed:.0f} ms"
            )
            signed.cache.close()
            pages = fetch_pages(base, args.limit)
            print(f"fetched {len(pages)} pages ({sum(map(len, pages)) / 1e6:.0f} MB of JSON)")
            n, ours = apply_ours(pages, folder / "ours")
            _, floor = apply_floor(pages, folder / "floor.sqlite3")
            print(
                f"1. apply: {n / ours:,.0f} items/s into the encrypted cache (with FTS); "
                f"floor json+sqlite3.executemany {n / floor:,.0f} items/s; "
                f"ours runs at {floor / ours:.2f} of the floor's speed"
            )
            del pages


if __name__ == "__main__":
    main()
