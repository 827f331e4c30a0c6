"""The SLA report against a fixture computed by hand (demo policy: New York, Mon-Thu
08-12 and 13-17, Fri 08-12 and 13-16; messages answered in 16 and closed in 24 business
hours; routine refills closed in 16)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

from portal_api.seed.data import demo_policy
from portal_client.sla_report import build_report
from triage_core.calendar import BusinessCalendar

NY = ZoneInfo("America/New_York")
POLICY = demo_policy()
CAL = BusinessCalendar.from_policy(POLICY)


def at(day: int, hour: int) -> str:
    return datetime(2026, 11, day, hour, 0, tzinfo=NY).isoformat()


def item(item_id, kind, queue, created, status, assignee, *entries):  # type: ignore[no-untyped-def]
    return {
        "id": item_id,
        "kind": kind,
        "priority": "routine",
        "queue": queue,
        "status": status,
        "subject": f"Subject {item_id}",
        "created_at": created,
        "assignee_id": assignee,
        "entries": [{"type": "patient_message", "created_at": created, "data": {}}, *entries],
    }


def reply(when, who="s1"):  # type: ignore[no-untyped-def]
    return {
        "type": "staff_reply",
        "created_at": when,
        "author": {"kind": "staff", "id": who},
        "data": {},
    }


def event(when, action, who="s1"):  # type: ignore[no-untyped-def]
    return {
        "type": "event",
        "created_at": when,
        "author": {"kind": "staff", "id": who},
        "data": {"action": action},
    }


ITEMS = [
    # A: answered after 2 business hours, closed after 9 (Mon 9-17 less lunch = 7, Tue 8-10 = 2)
    item(
        "A",
        "message",
        "front_desk",
        at(16, 9),
        "done",
        "s1",
        reply(at(16, 11)),
        event(at(17, 10), "resolve"),
    ),
    # B: answered and closed Thursday 10:00: 7 + 8 + 8 + 2 = 25 business hours: both missed
    item(
        "B",
        "message",
        "front_desk",
        at(16, 9),
        "done",
        "s2",
        reply(at(19, 10), "s2"),
        event(at(19, 10), "resolve", "s2"),
    ),
    # C: a refill decided after 2 business hours (no first-response target for refills)
    item("C", "refill", "nursing", at(17, 13), "done", None, event(at(17, 15), "refill_decision")),
    # D: still open at Monday 23rd 12:00: Wed 8 + Thu 8 + Fri 7 + Mon 4 = 27 h used
    item("D", "message", "nursing", at(18, 8), "open", None),
    # E: received on Saturday, outside the range
    item("E", "message", "nursing", at(21, 10), "open", None),
]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=NY)


def report(grouping: str):  # type: ignore[no-untyped-def]
    return build_report(
        ITEMS,
        POLICY,
        CAL,
        start=date(2026, 11, 16),
        end=date(2026, 11, 20),
        grouping=grouping,
        now=NOW,
        staff_names={"s1": "Maria", "s2": "Kevin"},
    )


def test_by_kind_matches_the_hand_computation() -> None:
    result = report("kind")
    rows = {r.group: r.summary() for r in result.rows}
    assert rows["Message"] == {
        "group": "Message",
        "handled": 2,
        "met_percent": 50.0,
        "first_response_median_h": 13.5,
        "first_response_p90_h": 25.0,
        "resolution_median_h": 17.0,
        "resolution_p90_h": 25.0,
    }
    assert rows["Refill"] == {
        "group": "Refill",
        "handled": 1,
        "met_percent": 100.0,
        "first_response_median_h": None,
        "first_response_p90_h": None,
        "resolution_median_h": 2.0,
        "resolution_p90_h": 2.0,
    }
    total = result.total.summary()
    assert total["handled"] == 3 and total["met_percent"] == 60.0


def test_breaches_are_listed_worst_first() -> None:
    breaches = [(b.item_id, b.clock, b.state, b.hours_over) for b in report("kind").breaches]
    assert breaches == [
        ("D", "first_response", "breached", 11.0),
        ("B", "first_response", "missed", 9.0),
        ("D", "resolution", "breached", 3.0),
        ("B", "resolution", "missed", 1.0),
    ]


def test_daily_compliance() -> None:
    assert report("kind").daily == [
        (date(2026, 11, 16), 100.0),
        (date(2026, 11, 17), 100.0),
        (date(2026, 11, 18), None),
        (date(2026, 11, 19), 0.0),
        (date(2026, 11, 20), None),
    ]


def test_by_staff_and_queue() -> None:
    staff = {r.group: r.summary()["handled"] for r in report("staff").rows}
    assert staff == {"Maria": 2, "Kevin": 1, "Unassigned": 0}  # C was decided by s1
    queues = {r.group: r.summary()["met_percent"] for r in report("queue").rows}
    assert queues == {"Front desk": 50.0, "Nursing": 100.0}


def test_csv_export_is_parseable_and_defuses_formulas() -> None:
    items = [dict(ITEMS[3], subject='=HYPERLINK("x")')]
    result = build_report(
        items,
        POLICY,
        CAL,
        start=date(2026, 11, 16),
        end=date(2026, 11, 20),
        grouping="kind",
        now=NOW,
    )
    rows = list(csv.reader(io.StringIO(result.to_csv())))
    assert rows[0][0] == "Kind" and rows[1][0] == "Message"
    subjects = [r[1] for r in rows if r and r[0] == "D"]
    assert subjects == ['\'=HYPERLINK("x")', '\'=HYPERLINK("x")']
