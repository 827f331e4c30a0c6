"""The inbox with 100,000 cached items, offscreen: ours beside a plain Qt baseline.

    QT_QPA_PLATFORM=offscreen python bench/inbox_100k.py [--items 100000]

Ours: the encrypted cache answers queue, filter, search (FTS5) and order in SQL; a keystroke costs
the view's size, its first window of 500 ids and the rows of the first screen (what the app's
read worker runs), then the model and a paint; further ids and rows are fetched as the view
scrolls. Baseline: the same rows in a QStandardItemModel behind
a QSortFilterProxyModel (filter and sort per row in Qt). Prints time to first painted rows, the
median and worst time to apply a filter or a search keystroke, a sort, and peak memory (RSS,
measured in a separate process for each side). Run by hand; not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

KEY = "ab" * 32
KEYSTROKES = ["s", "sm", "smi", "smit", "smith", "smit", "smi", "sm", "s", ""]


def make_cache(folder: Path, count: int) -> None:
    """A cache holding `count` items (most of them unassigned and open), built page by page."""
    from portal_api.seed import data
    from portal_client.cache import Cache

    rng = random.Random(7)
    cache = Cache.open(folder, KEY)
    patients = [
        {
            "id": str(uuid.uuid4()),
            "mrn": f"M{n:07d}",
            "given_name": rng.choice(data.GIVEN_NAMES),
            "family_name": rng.choice(data.FAMILY_NAMES),
            "birth_date": "1970-01-01",
            "phone": None,
            "email": None,
            "medications": [],
            "allergies": [],
            "last_visit_on": None,
            "pcp_id": None,
        }
        for n in range(max(1000, count // 20))
    ]
    for start in range(0, count, 1000):
        items = []
        for _n in range(start, min(count, start + 1000)):
            patient = rng.choice(patients)
            kind = rng.choice(("refill", "appointment", "message"))
            subject, body = rng.choice(data.MESSAGES["clinical"])
            created = f"2026-11-{rng.randint(1, 26):02d}T{rng.randint(0, 23):02d}:00:00Z"
            items.append(
                {
                    "id": str(uuid.uuid4()),
                    "kind": kind,
                    "status": rng.choice(("new", "new", "open", "waiting_patient", "done")),
                    "priority": "urgent" if rng.random() < 0.05 else "routine",
                    "queue": rng.choice(("front_desk", "nursing", "clinician")),
                    "subject": subject,
                    "patient_id": patient["id"],
                    "assignee_id": None,
                    "created_at": created,
                    "updated_at": created,
                    "first_response_at": None,
                    "resolved_at": None,
                    "version": 1,
                    "details": {"category": "clinical"},
                    "entries": [
                        {
                            "id": str(uuid.uuid4()),
                            "type": "patient_message",
                            "author": {"kind": "patient", "id": patient["id"]},
                            "body": body.replace("{med}", "lisinopril"),
                            "created_at": created,
                            "data": {},
                        }
                    ],
                }
            )
        used = {i["patient_id"] for i in items}
        cache.feed.apply_page(
            {
                "items": items,
                "patients": [p for p in patients if p["id"] in used],
                "cursor": f"c{start}",
                "has_more": True,
            }
        )
    cache.close()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def ours(folder: Path) -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from desktop.services import view_answer
    from portal_client.cache import Cache
    from portal_client.inbox import Inbox, InboxFilter
    from ui.inbox_model import InboxModel
    from ui.inbox_pane import InboxPane

    app = QApplication.instance() or QApplication([])
    started = time.perf_counter()
    cache = Cache.open(folder, KEY)
    inbox = Inbox(cache, "me")
    names = cache.queries.staff_names()

    def rows(ids, done) -> None:  # type: ignore[no-untyped-def]
        done(inbox.rows(ids))  # the app does this on a read worker

    model = InboxModel(rows, lambda: names)
    pane = InboxPane(model)
    pane.resize(1000, 800)
    pane.show()

    def apply(filter_: InboxFilter) -> None:
        """One keystroke: the worker's query (size, first window, first rows), then the model
        and a paint of the visible rows."""
        answer = view_answer(inbox, filter_)

        def window(offset, done) -> None:  # type: ignore[no-untyped-def]
            done(inbox.page(filter_, offset))

        model.set_view(answer.page, answer.rows, window)
        pane.table.viewport().grab()

    apply(InboxFilter(queue="unassigned"))
    app.processEvents()
    first = (time.perf_counter() - started) * 1000
    total = model.rowCount()
    keystrokes = [
        measure(lambda t=text: apply(InboxFilter(queue="unassigned", search=t)))
        for text in KEYSTROKES
    ]
    chips = [
        measure(lambda f=f: apply(InboxFilter(queue="unassigned", kinds=frozenset(f))))
        for f in (("refill",), ("message",), ("refill", "appointment"), ())
    ]
    sort = measure(lambda: apply(InboxFilter(queue="unassigned", sort="patient")))
    # Scrolling to the end of a huge view: the last window of ids and its rows, then a paint.
    scroll = measure(
        lambda: (
            pane.table.scrollToBottom(),
            pane.table.viewport().grab(),
        )
    )
    cache.close()
    steps = keystrokes + chips
    return {
        "rows": total,
        "first_paint_ms": first,
        "median_ms": statistics.median(steps),
        "worst_ms": max(steps),
        "sort_ms": sort,
        "scroll_end_ms": scroll,
        "peak_rss_mb": rss_mb(),
    }


def baseline(folder: Path) -> dict[str, float]:
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QTableView

    from portal_client.cache import Cache
    from portal_client.inbox import Inbox, InboxFilter

    app = QApplication.instance() or QApplication([])
    started = time.perf_counter()
    cache = Cache.open(folder, KEY)
    inbox = Inbox(cache, "me")
    ids = inbox.ids(InboxFilter(queue="unassigned"))
    rows = inbox.rows(ids)  # the baseline holds every row in Qt items
    model = QStandardItemModel(0, 8)
    for item_id in ids:
        row = rows[item_id]
        model.appendRow(
            [
                QStandardItem(str(v))
                for v in (
                    row.kind,
                    row.priority,
                    row.patient,
                    row.subject,
                    row.queue,
                    row.assignee_id or "",
                    row.status,
                    row.created_at,
                )
            ]
        )
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    view = QTableView()
    view.setModel(proxy)
    view.resize(1000, 800)
    view.show()
    view.viewport().grab()
    app.processEvents()
    first = (time.perf_counter() - started) * 1000

    def search(text: str) -> None:
        proxy.setFilterFixedString(text)
        view.viewport().grab()

    keystrokes = [measure(lambda t=text: search(t)) for text in KEYSTROKES]
    chips = []
    for word in ("refill", "message", "appointment", ""):
        chips.append(measure(lambda w=word: search(w)))
    sort = measure(lambda: (proxy.sort(2), view.viewport().grab()))
    scroll = measure(lambda: (view.scrollToBottom(), view.viewport().grab()))
    cache.close()
    steps = keystrokes + chips
    return {
        "rows": proxy.sourceModel().rowCount(),
        "first_paint_ms": first,
        "median_ms": statistics.median(steps),
        "worst_ms": max(steps),
        "sort_ms": sort,
        "scroll_end_ms": scroll,
        "peak_rss_mb": rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--side", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        result = ours(args.folder) if args.side == "ours" else baseline(args.folder)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        make_cache(folder, args.items)
        print(f"built a cache of {args.items} items in {time.perf_counter() - started:.1f} s")
        results = {}
        for side in ("ours", "baseline"):
            out = (
                subprocess.run(
                    [sys.executable, __file__, "--side", side, "--folder", str(folder)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            results[side] = json.loads(out)
        ours_r, base = results["ours"], results["baseline"]
        print(f"rows in the queue: {ours_r['rows']:,}")
        print(f"{'measure':<34}{'ours':>10}{'baseline':>12}{'baseline/ours':>15}")
        for key, label in (
            ("first_paint_ms", "cache open to first rows (ms)"),
            ("median_ms", "filter/search keystroke median (ms)"),
            ("worst_ms", "filter/search keystroke worst (ms)"),
            ("sort_ms", "sort by patient (ms)"),
            ("scroll_end_ms", "scroll to the last row (ms)"),
            ("peak_rss_mb", "peak memory (MB)"),
        ):
            print(
                f"{label:<34}{ours_r[key]:>10.1f}{base[key]:>12.1f}"
                f"{base[key] / max(ours_r[key], 1e-9):>15.1f}"
            )


if __name__ == "__main__":
    main()
