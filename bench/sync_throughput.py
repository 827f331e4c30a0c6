"""Full-sync throughput of `/sync`: one client, loopback, a seeded database of N items.

    python bench/sync_throughput.py [--items 50000] [--limit 500] [--database URL]
                                    [--as nurse frontdesk admin]

Seeds a fresh database (SQLite in a temporary folder unless --database names an empty one),
starts `portal-api serve` in its own process, follows `/sync` from the start to the end with
one keep-alive client, and prints items/s, pages/s and MB/s for each account given (a nurse
receives everything in full; the front desk and an administrator receive headers for work that
is not theirs, see docs/privacy.md), and the ratio of each to the first. Run by hand; not part
of the tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal_api import schema  # noqa: E402
from portal_api.db import Database, create_db_engine  # noqa: E402
from portal_api.seed import seed_demo  # noqa: E402
from tests.helpers import portal_process  # noqa: E402


def seed(url: str, items: int) -> float:
    engine = create_db_engine(url)
    schema.upgrade(engine)
    started = time.perf_counter()
    seed_demo(
        Database(engine), patients=max(300, items // 25), items=items, password_profile="fast"
    )
    engine.dispose()
    return time.perf_counter() - started


def full_sync(base: str, limit: int, username: str) -> tuple[int, int, int, float]:
    http = requests.Session()
    token = http.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": "demo"}, timeout=30
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    cursor = None
    items = pages = size = 0
    started = time.perf_counter()
    while True:
        params: dict[str, object] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        reply = http.get(f"{base}/api/v1/sync", params=params, headers=headers, timeout=120)
        reply.raise_for_status()
        size += len(reply.content)
        page = reply.json()
        items += len(page["items"])
        pages += 1
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    return items, pages, size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--database", help="an EMPTY database URL (default: temp SQLite)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as", dest="accounts", nargs="+", default=["nurse"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/bench.sqlite3"
        seconds = seed(url, args.items)
        print(f"seeded {args.items} items in {seconds:.1f} s ({url.split(':')[0]})")
        with portal_process(url, capture=False) as base:
            first: float | None = None
            for username in args.accounts:
                rates = []
                for run in range(1, args.runs + 1):
                    items, pages, size, elapsed = full_sync(base, args.limit, username)
                    rates.append(items / elapsed)
                    print(
                        f"{username} run {run}: full sync of {items} items in {pages} pages "
                        f"of {args.limit}: {elapsed:.2f} s = {items / elapsed:,.0f} items/s, "
                        f"{pages / elapsed:.1f} pages/s, {size / elapsed / 1e6:.1f} MB/s "
                        f"({size / items:,.0f} bytes/item)"
                    )
                best = max(rates)
                first = first or best
                print(f"{username}: best {best:,.0f} items/s, {best / first:.2f}x the first")


if __name__ == "__main__":
    main()
