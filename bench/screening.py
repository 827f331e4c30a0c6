"""Red-flag screening measured on labelled sets of patient messages.

    python bench/screening.py [FILE.jsonl ...] [--misses]

Each line of a set is {"id", "text", "label": "emergency"|"routine", "category", "variant"}.
Prints, per file, sensitivity (emergencies flagged) and specificity (routine messages left
routine), by category and by variant; `--misses` lists what was missed or wrongly flagged
(do not use it on a held-out set while tuning). Defaults to the tuning set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage_core.screening import screen  # noqa: E402

DATA = ROOT / "tests" / "data" / "screening"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def measure(records: list[dict], show_misses: bool) -> dict[str, float]:
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_variant: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tp = fn = tn = fp = 0
    misses: list[str] = []
    started = time.perf_counter()
    for record in records:
        result = screen(record["text"])
        emergency = record["label"] == "emergency"
        right = result.flagged == emergency
        if emergency:
            tp, fn = tp + right, fn + (not right)
        else:
            tn, fp = tn + right, fp + (not right)
        for table, key in ((by_category, record["category"]), (by_variant, record["variant"])):
            table[key][0] += right
            table[key][1] += 1
        if not right:
            why = ", ".join(f"{f.rule}: {f.phrase!r}" for f in result.flags) or "nothing found"
            misses.append(
                f"  {'MISSED' if emergency else 'FLAGGED'} {record['id']}: {why}\n"
                f"      {record['text'][:230]}"
            )
    elapsed = time.perf_counter() - started
    sensitivity = tp / (tp + fn) if tp + fn else 1.0
    specificity = tn / (tn + fp) if tn + fp else 1.0
    print(f"  emergencies flagged (sensitivity): {tp}/{tp + fn} = {100 * sensitivity:.1f} %")
    print(f"  routine left routine (specificity): {tn}/{tn + fp} = {100 * specificity:.1f} %")
    print(
        f"  {len(records) / elapsed:,.0f} messages/s ({1000 * elapsed / len(records):.2f} ms each)"
    )
    print(
        "  by category (right / all): "
        + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_category.items()))
    )
    print("  by variant: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_variant.items())))
    if show_misses and misses:
        print("\n".join(misses))
    return {
        "sensitivity": sensitivity,
        "specificity": specificity,
        "tp": tp,
        "fn": fn,
        "tn": tn,
        "fp": fp,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[DATA / "tune.jsonl"])
    parser.add_argument("--misses", action="store_true", help="list every wrong answer")
    args = parser.parse_args()
    screen("warm the lexicons up")
    worst_sensitivity = 1.0
    totals = dict.fromkeys(("tp", "fn", "tn", "fp"), 0)
    for path in args.files:
        print(f"{path.name}: {len(load(path))} messages")
        figures = measure(load(path), args.misses)
        worst_sensitivity = min(worst_sensitivity, figures["sensitivity"])
        for key in totals:
            totals[key] += int(figures[key])
    if len(args.files) > 1:
        emergencies, routine = totals["tp"] + totals["fn"], totals["tn"] + totals["fp"]
        print(
            f"all {len(args.files)} sets: {totals['tp']}/{emergencies} emergencies flagged "
            f"({100 * totals['tp'] / max(emergencies, 1):.1f} %), {totals['tn']}/{routine} "
            f"routine left routine ({100 * totals['tn'] / max(routine, 1):.1f} %)"
        )
    return 0 if worst_sensitivity == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
