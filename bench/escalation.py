"""How long the escalation job takes on a large practice.

    python bench/escalation.py [--items 50000] [--urgent 200] [--database URL]

Seeds a fresh database (SQLite in a temporary folder unless --database names an empty one),
makes `--urgent` open items urgent and unclaimed, and times the job three ways: a tick with
nothing due (what every minute costs), a tick that escalates all of them (each with its event,
audit record and two notifications), and the tick after (nothing left). Run by hand.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, update  # noqa: E402

from portal_api import schema  # noqa: E402
from portal_api.db import Database, create_db_engine  # noqa: E402
from portal_api.jobs.escalation import Escalator  # noqa: E402
from portal_api.models import Item  # noqa: E402
from portal_api.seed import seed_demo  # noqa: E402
from portal_api.urgency import PracticeRules  # noqa: E402


def timed(work) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--urgent", type=int, default=200)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-escalation-")
    url = args.database or f"sqlite:///{folder}/portal.sqlite3"
    engine = create_db_engine(url)
    schema.upgrade(engine)
    db = Database(engine)
    seconds, _ = timed(
        lambda: seed_demo(
            db, patients=max(300, args.items // 25), items=args.items, password_profile="fast"
        )
    )
    print(f"seeded {args.items:,} items in {seconds:.1f} s ({engine.dialect.name})")
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 at the demo practice
    with db.write() as session:
        # Everything already urgent counts as escalated long ago: only ours are due.
        session.execute(update(Item).values(urgent_since=None, priority="routine"))
        ids = session.scalars(
            select(Item.id).where(Item.status.in_(("new", "open"))).limit(args.urgent)
        ).all()
        session.execute(
            update(Item)
            .where(Item.id.in_(ids))
            .values(priority="urgent", assignee_id=None, urgent_since=now)
        )
    escalator = Escalator(db, PracticeRules(), ["log", "webhook"])
    quiet, _ = timed(lambda: escalator.run(now + timedelta(minutes=1)))
    busy, done = timed(lambda: escalator.run(now + timedelta(hours=1)))
    after, left = timed(lambda: escalator.run(now + timedelta(hours=2)))
    count = len(done)  # type: ignore[arg-type]
    print(f"tick with {len(ids)} urgent items not yet due: {1000 * quiet:.1f} ms")
    print(
        f"tick escalating {count}: {1000 * busy:.0f} ms ({1000 * busy / max(count, 1):.2f} ms each)"
    )
    print(f"tick after, nothing left ({len(left)} escalated): {1000 * after:.1f} ms")  # type: ignore[arg-type]
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
