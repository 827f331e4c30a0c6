"""SLA state for 100,000 items: business-time due dates and clock states from each item's
history, with the demo practice's policy (New York hours, NY holidays, cut-offs).

    python bench/sla_100k.py [--items 100000]

Run by hand; not part of the tests.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal_api.seed.data import demo_policy  # noqa: E402
from triage_core.calendar import BusinessCalendar  # noqa: E402
from triage_core.clocks import item_clocks  # noqa: E402


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_items(count: int, now: datetime) -> list[dict]:
    rng = random.Random(3)
    items = []
    for _ in range(count):
        created = now - timedelta(minutes=rng.randint(5, 60 * 24 * 40))
        entries = [{"type": "patient_message", "created_at": iso(created), "data": {}}]
        if rng.random() < 0.5:
            replied = created + timedelta(minutes=rng.randint(10, 60 * 24 * 4))
            if replied < now:
                entries.append({"type": "staff_reply", "created_at": iso(replied), "data": {}})
                if rng.random() < 0.3:
                    entries.append(
                        {
                            "type": "event",
                            "created_at": iso(replied),
                            "data": {"action": "reply", "then": "waiting_patient"},
                        }
                    )
                elif rng.random() < 0.5:
                    entries.append(
                        {"type": "event", "created_at": iso(replied), "data": {"action": "resolve"}}
                    )
        items.append(
            {
                "kind": rng.choice(("refill", "appointment", "message")),
                "priority": "urgent" if rng.random() < 0.08 else "routine",
                "created_at": iso(created),
                "entries": entries,
            }
        )
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    policy = demo_policy()
    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    items = make_items(args.items, now)
    started = time.perf_counter()
    calendar = BusinessCalendar.from_policy(policy)
    states: Counter[str] = Counter()
    for item in items:
        for clock in item_clocks(item, policy, calendar, now):
            states[f"{clock.name}:{clock.state}"] += 1
    elapsed = time.perf_counter() - started
    print(
        f"SLA state for {args.items:,} items ({sum(states.values()):,} clocks) in "
        f"{elapsed:.2f} s = {args.items / elapsed:,.0f} items/s "
        f"({elapsed / args.items * 1e6:.1f} µs per item)"
    )
    for key, value in sorted(states.items()):
        print(f"  {key:<28}{value:>8,}")


if __name__ == "__main__":
    main()
