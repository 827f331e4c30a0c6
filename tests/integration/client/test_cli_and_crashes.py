"""`portal-triage sync|status`, and the client killed with SIGKILL at random moments."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal_api.app import create_app
from portal_api.models import Entry, Item
from portal_api.seed import seed_demo
from portal_client.credentials import CredentialStore
from portal_client.session import open_cache
from tests.helpers import served
from tests.support.fault_proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[3]


def cli(*args: str, stdin: str = "", data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=dict(os.environ),
    )


def sync_args(server: str, *extra: str) -> tuple[str, ...]:
    """`portal-triage sync` as a nurse with the password on stdin (every run signs in)."""
    return ("sync", "--server", server, "--username", "nurse", "--once", "--password-stdin", *extra)


def kill_at_random(
    args: tuple[str, ...],
    data_dir: Path,
    rng: random.Random,
    runs: int,
    window: tuple[float, float],
) -> int:
    """Start the CLI `runs` times and SIGKILL it after a random delay; return the kills."""
    kills = 0
    for _ in range(runs):
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop", *args, "--data-dir", str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=dict(os.environ),
        )
        assert proc.stdin is not None
        proc.stdin.write("demo\n")
        proc.stdin.close()
        time.sleep(rng.uniform(*window))  # a random moment: the point of the test
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    return kills


def test_sync_once_and_status_print_json(portal, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli(
        "sync",
        "--server",
        portal.url,
        "--username",
        "nurse",
        "--password-stdin",
        "--once",
        stdin="demo\n",
        data_dir=data,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["items"] == summary["pulled_items"] == 60
    assert summary["integrity"] == "ok"
    assert summary["pending_actions"] == 0
    status = cli("status", "--server", portal.url, "--username", "nurse", data_dir=data)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    for key in ("items", "pending_actions", "conflicts", "cursor", "last_sync_at", "integrity"):
        assert key in state
    assert state["items"] == 60 and state["integrity"] == "ok"
    # A second sync uses the saved session (no password) and pulls nothing new.
    again = cli("sync", "--server", portal.url, "--username", "nurse", "--once", data_dir=data)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["pulled_items"] == 0
    assert "demo" not in again.stdout


def test_cli_failures_are_one_line_and_non_zero(portal, tmp_path: Path) -> None:
    data = tmp_path / "data"
    wrong = cli(
        "sync",
        "--server",
        portal.url,
        "--username",
        "nurse",
        "--password-stdin",
        "--once",
        stdin="nope\n",
        data_dir=data,
    )
    assert wrong.returncode != 0
    assert wrong.stderr.strip().splitlines()[-1] == "portal-triage sync: wrong username or password"
    insecure = cli(
        "sync",
        "--server",
        "http://portal.example.org",
        "--username",
        "nurse",
        "--once",
        data_dir=data,
    )
    assert insecure.returncode != 0 and "plain http" in insecure.stderr
    unknown = cli("status", "--server", portal.url, "--username", "ghost", data_dir=data)
    assert unknown.returncode != 0 and "sign in first" in unknown.stderr
    down = cli(
        "sync",
        "--server",
        "http://127.0.0.1:9",
        "--username",
        "nurse",
        "--password-stdin",
        "--once",
        stdin="demo\n",
        data_dir=data,
    )
    assert down.returncode != 0 and "cannot be reached" in down.stderr


@pytest.fixture
def big_portal(settings, db):
    seed_demo(db, random_seed=5, patients=200, items=3000, password_profile="fast")
    app = create_app(settings, db)
    with served(app) as url:
        yield url, db


def server_truth(db) -> dict[str, int]:
    with db.read() as session:
        return {row.id: row.version for row in session.execute(select(Item.id, Item.version))}


def test_killed_during_a_large_sync_recovers_to_the_exact_state(big_portal, tmp_path: Path) -> None:
    url, db = big_portal
    data = tmp_path / "data"
    rng = random.Random(1234)
    # A password each run: a kill between the server rotating the refresh token and the client
    # saving the new one would (rightly) end the session; that is not what this tests.
    args = sync_args(url, "--page-limit", "50")
    first = cli(*args, stdin="demo\n", data_dir=data)  # signs in and syncs fully once
    assert first.returncode == 0, first.stderr
    # Make everything change again so the next syncs have a lot to do, then kill them.
    with db.write() as session:
        session.execute(Item.__table__.update().values(version=Item.version + 1))
        from portal_api import changes

        for item_id in list(session.scalars(select(Item.id))):
            position = changes.stamp(session)
            session.execute(
                Item.__table__.update()
                .where(Item.id == item_id)
                .values(change_txid=position.txid, change_seq=position.seq)
            )
    kills = kill_at_random(args, data, rng, runs=4, window=(0.3, 1.5))
    assert kills >= 1
    final = cli(*args, stdin="demo\n", data_dir=data)
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["integrity"] == "ok"
    credentials = CredentialStore(url)
    cache = open_cache(url, "nurse", credentials, data, create_key=False)
    try:
        assert cache.report.integrity == "ok"
        assert cache.queries.server_versions() == server_truth(db)
    finally:
        cache.close()


def test_killed_during_outbox_delivery_applies_each_action_exactly_once(
    big_portal, tmp_path: Path
) -> None:
    url, db = big_portal
    proxy = FaultProxy(url)
    data = tmp_path / "data"
    try:
        first = cli(*sync_args(proxy.url), stdin="demo\n", data_dir=data)
        assert first.returncode == 0, first.stderr
        cache = open_cache(proxy.url, "nurse", CredentialStore(proxy.url), data, create_key=False)
        with db.read() as session:
            targets = list(session.scalars(select(Item.id).where(Item.status == "open").limit(30)))
        user_id = cache.meta("user_id")
        assert user_id
        for n, item_id in enumerate(targets):
            cache.outbox.enqueue(item_id, {"type": "note", "body": f"crash-test note {n}"}, user_id)
        cache.close()
        # Each action answers slowly, so kills land mid-delivery (before, during, after).
        proxy.fail("/api/v1/items/", *["slow:0.15"] * 200)
        rng = random.Random(99)
        kill_at_random(sync_args(proxy.url), data, rng, runs=6, window=(0.2, 1.2))
        proxy.heal()
        final = cli(*sync_args(proxy.url), stdin="demo\n", data_dir=data)
        assert final.returncode == 0, final.stderr
        summary = json.loads(final.stdout)
        assert summary["pending_actions"] == 0
        assert summary["integrity"] == "ok"
    finally:
        proxy.close()
    with db.read() as session:
        bodies = list(
            session.scalars(select(Entry.body).where(Entry.body.like("crash-test note %")))
        )
        events = session.scalar(
            select(func.count())
            .select_from(Entry)
            .where(Entry.type == "internal_note", Entry.body.like("crash-test note %"))
        )
    assert sorted(bodies) == sorted(f"crash-test note {n}" for n in range(len(targets)))
    assert events == len(targets)
