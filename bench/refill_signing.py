"""A clinician signs 20 refills, 15 of which pass protocol: one by one, then in a batch.

    QT_QPA_PLATFORM=offscreen python bench/refill_signing.py [--refills 20] [--passing 15]

Each run starts `portal-api serve` on a fresh seeded SQLite practice, files the refills (the
passing ones for charts that meet every rule, the others for statins without a lipid panel on
file), signs in a clinician's desktop (the real app, offscreen) and works the clinician queue
the way a person would, through the same slots the keys and clicks reach:

- one by one: for each refill, select the row (J) and press Approve (the 5 that need review are
  read and approved the same way);
- batch: choose every refill (a click on the first row, Shift+click on the last),
  Ctrl+Shift+A, Approve N; then the ones left out, one by one.

It prints the inputs (keys and clicks) each way, the seconds until the server has every
decision (the machine's share of the time), and an estimate of a person's time by the
keystroke-level model (Card, Moran and Newell: 0.28 s a keystroke, 1.1 s to point, 1.35 s to
think before each decision). Run by hand; not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QItemSelectionModel, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.app import DesktopApp, open_session  # noqa: E402
from portal_api import schema  # noqa: E402
from portal_api.db import Database, create_db_engine  # noqa: E402
from portal_api.seed import seed_demo  # noqa: E402
from portal_client.credentials import CredentialStore  # noqa: E402
from portal_client.session import sign_in  # noqa: E402
from tests.helpers import portal_process  # noqa: E402
from tests.support.keyrings import MemoryKeyring  # noqa: E402
from tests.support.refills import http_refill, prescribed, set_chart  # noqa: E402

KEY, POINT, THINK = 0.28, 1.1, 1.35


def wait(qapp: QApplication, condition: Any, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the desktop did not get there in time")
        qapp.processEvents()
        time.sleep(0.01)


def practice(
    folder: Path, refills: int, passing: int
) -> tuple[str, Database, list[tuple[str, str, str]]]:
    url = f"sqlite:///{folder}/bench.sqlite3"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    db = Database(engine)
    seed_demo(db, random_seed=3, patients=60, items=40, password_profile="fast")
    plans = []
    for n in range(refills):
        name, strength = ("Amlodipine", "5 mg") if n < passing else ("Atorvastatin", "20 mg")
        username = f"patient{n + 21}"
        set_chart(db, username, **prescribed(name, strength))
        plans.append((username, name, strength))
    return url, db, plans


def file_refills(base: str, plans: list[tuple[str, str, str]]) -> list[str]:
    return [http_refill(base, *plan) for plan in plans]


def all_done(base: str, ids: list[str]) -> bool:
    token = requests.post(
        f"{base}/api/v1/auth/login", json={"username": "doctor", "password": "demo"}, timeout=10
    ).json()["access_token"]
    for item_id in ids:
        item = requests.get(
            f"{base}/api/v1/items/{item_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()["item"]
        if item["status"] != "done":
            return False
    return True


def desk(qapp: QApplication, base: str, folder: Path) -> DesktopApp:
    backend = MemoryKeyring()
    app = DesktopApp(
        qapp,
        data_dir=folder / "desk",
        settings=QSettings(str(folder / "desk.ini"), QSettings.Format.IniFormat),
        credentials_backend=backend,
    )
    signed = sign_in(
        base,
        "doctor",
        "demo",
        data_dir=app.data_dir,
        credentials=CredentialStore(base, backend=backend),
    )
    app._signed_in(open_session(signed))
    wait(qapp, lambda: app.services.engine.status.cycles >= 1)
    wait(qapp, lambda: bool(app.services.reference.policy))
    window = app.window
    window.queues.select("nursing")
    wait(qapp, window.controller.idle)
    return app


def one_by_one(qapp: QApplication, app: DesktopApp, ids: list[str]) -> tuple[int, int, int]:
    """(keys, points, decisions) for approving each refill on its own."""
    window = app.window
    keys = points = 0
    for item_id in ids:
        window.inbox.select_id(item_id)  # J (the rows come in order)
        window.controller.open_item(item_id)  # (what selecting the row opens)
        keys += 1
        wait(qapp, lambda i=item_id: window.detail.item and window.detail.item["id"] == i)
        wait(qapp, lambda: window.detail.approve.isEnabled())
        window.detail.approve.click()  # point and click Approve
        points += 1
        wait(qapp, window.controller.idle)
    return keys, points, len(ids)


def batch(qapp: QApplication, app: DesktopApp, ids: list[str]) -> tuple[int, int, int]:
    window = app.window
    selection = window.inbox.table.selectionModel()
    for item_id in ids:  # a click on the first row, Shift+click on the last
        row = window.model.row_of(item_id)
        selection.select(
            window.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    points = 2
    window.sign_batch()  # Ctrl+Shift+A
    keys = 1
    wait(qapp, lambda: window.batch_dialog is not None and window.batch_dialog.isVisible())
    dialog = window.batch_dialog
    assert dialog is not None
    left_out = [chosen.item_id for chosen in dialog.plan.left_out]
    dialog.approve_button.click()  # Enter
    keys += 1
    more_keys, more_points, decisions = one_by_one(qapp, app, left_out)
    return keys + more_keys, points + more_points, 1 + decisions


def run(way: str, refills: int, passing: int, qapp: QApplication) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url, _db, plans = practice(folder, refills, passing)
        with portal_process(url) as base:
            ids = file_refills(base, plans)
            app = desk(qapp, base, folder)
            app.services.engine.sync_now()
            wait(qapp, lambda: all(app.window.model.row_of(i) >= 0 for i in ids))
            started = time.perf_counter()
            keys, points, decisions = (one_by_one if way == "one by one" else batch)(qapp, app, ids)
            app.services.engine.sync_now()
            wait(qapp, lambda: all_done(base, ids), timeout=120)
            seconds = time.perf_counter() - started
            app.shutdown()
    human = keys * KEY + points * POINT + decisions * THINK
    return {
        "keys": keys,
        "points": points,
        "decisions": decisions,
        "seconds": seconds,
        "human": human,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refills", type=int, default=20)
    parser.add_argument("--passing", type=int, default=15)
    args = parser.parse_args()
    qapp = QApplication.instance() or QApplication([])
    results = {way: run(way, args.refills, args.passing, qapp) for way in ("one by one", "batch")}
    for way, r in results.items():
        print(
            f"{way:>10}: {r['keys']:.0f} keys + {r['points']:.0f} clicks = "
            f"{r['keys'] + r['points']:.0f} inputs, {r['decisions']:.0f} decisions; "
            f"{r['seconds']:.1f} s until the server has them all; "
            f"a person's estimate {r['human']:.0f} s (keystroke-level model)"
        )
    single, together = results["one by one"], results["batch"]
    inputs = (together["keys"] + together["points"]) / (single["keys"] + single["points"])
    print(
        f"batch / one by one: inputs {inputs:.2f}, "
        f"person's time {together['human'] / single['human']:.2f}, "
        f"machine time {together['seconds'] / single['seconds']:.2f}"
    )


if __name__ == "__main__":
    main()
