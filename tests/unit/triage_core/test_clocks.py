"""The per-item response clocks: every transition, and the inbox's shortcut against the full
computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from portal_api.seed.data import demo_policy
from triage_core.calendar import BusinessCalendar
from triage_core.clocks import AT_RISK, BREACHED, MET, MISSED, ON_TRACK, item_clocks

NY = ZoneInfo("America/New_York")
POLICY = demo_policy()  # message routine: first response 16 business h, resolution 24


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message(created: datetime, *entries: dict) -> dict:
    return {
        "kind": "message",
        "priority": "routine",
        "created_at": iso(created),
        "entries": [{"type": "patient_message", "created_at": iso(created), "data": {}}, *entries],
    }


def event(at: datetime, action: str, **data) -> dict:
    return {"type": "event", "created_at": iso(at), "data": {"action": action, **data}}


def reply(at: datetime) -> dict:
    return {"type": "staff_reply", "created_at": iso(at), "data": {}}


CAL = BusinessCalendar.from_policy(POLICY)
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=NY)


def clocks(item: dict, now: datetime) -> dict:
    return {c.name: c for c in item_clocks(item, POLICY, CAL, now)}


def test_new_item_is_on_track_with_a_business_due_time() -> None:
    result = clocks(message(MONDAY), MONDAY + timedelta(hours=1))
    first = result["first_response"]
    assert first.state == ON_TRACK
    assert first.due_at == CAL.add(MONDAY, timedelta(hours=16))
    assert first.due_at.astimezone(NY) == datetime(2026, 11, 18, 9, 0, tzinfo=NY)
    assert first.left == timedelta(hours=15)


def test_at_risk_then_breached() -> None:
    item = message(MONDAY)
    at_risk = CAL.add(MONDAY, timedelta(hours=12))  # 0.75 of 16
    assert clocks(item, at_risk)["first_response"].state == AT_RISK
    assert (
        clocks(item, CAL.add(MONDAY, timedelta(hours=16, minutes=1)))["first_response"].state
        == BREACHED
    )


def test_a_reply_stops_the_first_response_clock_met_or_missed() -> None:
    on_time = message(MONDAY, reply(MONDAY + timedelta(hours=2)))
    result = clocks(on_time, MONDAY + timedelta(days=10))
    assert result["first_response"].state == MET
    assert result["resolution"].state == BREACHED  # still open, days later
    late_at = CAL.add(MONDAY, timedelta(hours=17))
    late = message(MONDAY, reply(late_at))
    assert clocks(late, late_at + timedelta(hours=1))["first_response"].state == MISSED


def test_waiting_on_the_patient_pauses_and_a_patient_reply_resumes() -> None:
    paused_at = CAL.add(MONDAY, timedelta(hours=4))
    resumed_at = paused_at + timedelta(days=7)
    item = message(
        MONDAY,
        reply(paused_at),
        event(paused_at, "reply", then="waiting_patient"),
        {"type": "patient_message", "created_at": iso(resumed_at), "data": {}},
    )
    during = clocks(item, paused_at + timedelta(days=3))["resolution"]
    assert during.paused and during.used == timedelta(hours=4) and during.due_at is None
    after = clocks(item, resumed_at + timedelta(minutes=1))["resolution"]
    assert not after.paused
    assert after.due_at == CAL.add(resumed_at, timedelta(hours=20))


def test_done_stops_resolution_and_reopen_resumes_it() -> None:
    done_at = CAL.add(MONDAY, timedelta(hours=5))
    reopen_at = done_at + timedelta(days=2)
    closed = message(MONDAY, reply(done_at), event(done_at, "resolve"))
    assert clocks(closed, done_at + timedelta(days=20))["resolution"].state == MET
    reopened = message(
        MONDAY, reply(done_at), event(done_at, "resolve"), event(reopen_at, "reopen")
    )
    clock = clocks(reopened, reopen_at + timedelta(minutes=1))["resolution"]
    assert clock.state in (ON_TRACK, AT_RISK)
    assert clock.due_at == CAL.add(reopen_at, timedelta(hours=19))


def test_a_refill_after_the_cutoff_counts_from_the_next_morning() -> None:
    evening = datetime(2026, 11, 16, 15, 30, tzinfo=NY)  # Monday, after 15:00
    item = {
        "kind": "refill",
        "priority": "routine",
        "created_at": iso(evening),
        "entries": [{"type": "patient_message", "created_at": iso(evening), "data": {}}],
    }
    clock = clocks(item, evening + timedelta(minutes=5))["resolution"]
    assert clock.used == timedelta(0)
    assert clock.due_at == CAL.add(datetime(2026, 11, 17, 8, 0, tzinfo=NY), timedelta(hours=16))


def test_a_decision_is_a_response_and_closes_the_item() -> None:
    decided = MONDAY + timedelta(hours=1)
    item = {
        "kind": "refill",
        "priority": "urgent",
        "created_at": iso(MONDAY),
        "entries": [
            {"type": "patient_message", "created_at": iso(MONDAY), "data": {}},
            event(decided, "refill_decision", outcome="approved"),
        ],
    }
    result = clocks(item, decided + timedelta(days=3))
    assert result["first_response"].state == MET
    assert result["resolution"].state == MET


def test_time_left_words_read_without_colour() -> None:
    from triage_core.clocks import describe_left

    now = datetime(2026, 11, 18, 14, 0, tzinfo=NY)  # Wednesday 14:00
    due = iso(datetime(2026, 11, 19, 10, 0, tzinfo=NY))  # Thursday 10:00: 4 business hours
    risk = iso(datetime(2026, 11, 19, 9, 0, tzinfo=NY))
    assert describe_left(due, risk, "first_response", True, now, CAL) == (
        "5 h business left",
        ON_TRACK,
    )  # 14-17 and 08-10, less the 12-13 lunch: 3 + 2
    late_risk = describe_left(due, iso(now - timedelta(minutes=1)), "resolution", True, now, CAL)
    assert late_risk == ("5 h business left – at risk", AT_RISK)
    overdue = describe_left(iso(now - timedelta(hours=3)), None, "resolution", True, now, CAL)
    assert overdue == ("Overdue since Wed 11:00", BREACHED)
    assert describe_left(None, None, "paused", False, now, CAL)[1] == "paused"
    assert describe_left(None, None, "closed", False, now, CAL) == ("—", "none")


def test_inbox_clock_matches_the_full_clock_computation() -> None:
    from triage_core.clocks import inbox_clock

    paused_at = CAL.add(MONDAY, timedelta(hours=4))
    resumed_at = paused_at + timedelta(days=2)
    cases = [
        message(MONDAY),
        message(MONDAY, reply(MONDAY + timedelta(hours=1))),
        message(
            MONDAY,
            reply(paused_at),
            event(paused_at, "reply", then="waiting_patient"),
            {"type": "patient_message", "created_at": iso(resumed_at), "data": {}},
        ),
    ]
    for item in cases:
        fast = inbox_clock(item, POLICY, CAL)
        later = resumed_at + timedelta(minutes=5)
        full = {c.name: c for c in item_clocks(item, POLICY, CAL, later)}[fast.name]
        assert fast.due_at == full.due_at
        ratio_point = CAL.add(fast.risk_at, timedelta(0))
        at_risk = {c.name: c for c in item_clocks(item, POLICY, CAL, ratio_point)}[fast.name]
        assert at_risk.used == full.target * 0.75
    closed = message(
        MONDAY, reply(MONDAY + timedelta(hours=1)), event(MONDAY + timedelta(hours=2), "resolve")
    )
    assert inbox_clock(closed, POLICY, CAL).settled == "met"
