"""Business time against a brute-force reference, and the per-item clock states."""

from __future__ import annotations

import time as wall
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_api.seed.data import demo_policy
from portal_client.sla import (
    AT_RISK,
    BREACHED,
    MET,
    MISSED,
    ON_TRACK,
    BusinessCalendar,
    item_clocks,
)

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Kolkata",
)


def calendar(zone: str, weekly=None, closed=None) -> BusinessCalendar:  # type: ignore[no-untyped-def]
    weekly = weekly or {d: [(time(8), time(12)), (time(13), time(17))] for d in range(5)}
    return BusinessCalendar(ZoneInfo(zone), weekly, closed or set())


def brute_between(cal: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Walk minute by minute (all test instants are whole minutes)."""
    minutes = 0
    t = a
    while t < b:
        if cal.is_open(t):
            minutes += 1
        t += timedelta(minutes=1)
    return timedelta(minutes=minutes)


def brute_add(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    needed = int(duration.total_seconds() // 60)
    t = start.astimezone(UTC)
    while needed > 0:
        if cal.is_open(t):
            needed -= 1
        t += timedelta(minutes=1)
    # the moment the last open minute ends
    return t


# DST weeks: spring forward and fall back in each zone's own season.
DST_DAYS = [
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 10, 30, tzinfo=UTC),
    datetime(2026, 3, 27, tzinfo=UTC),
    datetime(2026, 4, 3, tzinfo=UTC),
    datetime(2026, 10, 2, tzinfo=UTC),
]

starts = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(DST_DAYS),
    st.integers(0, 10 * 24 * 60),
)
weekly_policies = st.dictionaries(
    st.integers(0, 6),
    st.lists(
        st.tuples(st.integers(0, 23 * 60), st.integers(15, 10 * 60)).map(
            lambda p: (
                time(p[0] // 60, p[0] % 60),
                time(min(23 * 60 + 59, p[0] + p[1]) // 60, min(23 * 60 + 59, p[0] + p[1]) % 60),
            )
        ),
        min_size=1,
        max_size=2,
    ).map(
        lambda xs: [x for i, x in enumerate(sorted(xs)) if i == 0 or x[0] >= sorted(xs)[i - 1][1]]
    ),
    min_size=1,
    max_size=7,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), weekly_policies, starts, st.integers(1, 36 * 60))
def test_add_and_between_match_a_minute_walk(zone, weekly, start, minutes) -> None:  # type: ignore[no-untyped-def]
    try:
        cal = calendar(zone, weekly)
    except ValueError:
        return  # a policy with no open time is refused; tested below
    duration = timedelta(minutes=minutes)
    due = cal.add(start, duration)
    assert due.tzinfo is not None
    assert cal.between(start, due) == duration
    expected = brute_add(cal, start, duration)
    assert due.astimezone(UTC) == expected
    assert brute_between(cal, start, due) == duration


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ZONES), starts, st.integers(0, 4 * 24 * 60))
def test_between_matches_a_minute_walk(zone, start, minutes) -> None:  # type: ignore[no-untyped-def]
    cal = calendar(zone)
    end = start + timedelta(minutes=minutes)
    assert cal.between(start, end) == brute_between(cal, start, end)
    assert cal.between(end, start) == -cal.between(start, end)


def test_friday_afternoon_plus_two_hours_is_monday_morning() -> None:
    cal = calendar("America/New_York")
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    assert cal.add(friday, timedelta(hours=2)) == datetime(
        2026, 11, 23, 9, 0, tzinfo=ZoneInfo("America/New_York")
    )


def test_across_the_spring_change_local_hours_are_kept() -> None:
    ny = ZoneInfo("America/New_York")
    cal = calendar("America/New_York")
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=ny)  # DST starts Sunday 8 March
    monday = cal.add(friday, timedelta(hours=2))
    assert monday.replace(tzinfo=None) == datetime(2026, 3, 9, 9, 0)
    assert monday.utcoffset() == timedelta(hours=-4)


def test_an_overnight_interval_spanning_the_fall_back_counts_real_time() -> None:
    ny = ZoneInfo("America/New_York")
    cal = BusinessCalendar(ny, {6: [(time(0), time(3))]})  # Sunday 00:00-03:00
    sunday = datetime(2026, 11, 1, 0, 0, tzinfo=ny)  # clocks go back at 02:00
    assert cal.between(sunday, sunday + timedelta(hours=10)) == timedelta(hours=4)


def test_holidays_and_closed_dates_are_skipped() -> None:
    policy = demo_policy()
    cal = BusinessCalendar.from_policy(policy)
    ny = ZoneInfo("America/New_York")
    wednesday = datetime(2026, 11, 25, 16, 0, tzinfo=ny)  # Thanksgiving is Thursday 26th
    assert cal.add(wednesday, timedelta(hours=2)) == datetime(2026, 11, 27, 9, 0, tzinfo=ny)
    dec23 = datetime(2026, 12, 23, 16, 30, tzinfo=ny)  # 24th closed, 25th Christmas
    assert cal.add(dec23, timedelta(hours=1)).date() == date(2026, 12, 28)
    assert not cal.is_open(datetime(2026, 12, 24, 10, 0, tzinfo=ny))
    assert cal.is_open(datetime(2026, 12, 23, 10, 0, tzinfo=ny))
    assert not cal.is_open(datetime(2026, 12, 23, 12, 30, tzinfo=ny))  # lunch


def test_naive_datetimes_and_no_open_time_are_refused() -> None:
    cal = calendar("Europe/London")
    with pytest.raises(ValueError, match="aware"):
        cal.add(datetime(2026, 1, 5, 9), timedelta(hours=1))
    with pytest.raises(ValueError, match="aware"):
        cal.between(datetime(2026, 1, 5, 9), datetime(2026, 1, 6, 9, tzinfo=UTC))
    with pytest.raises(ValueError, match="no open time"):
        BusinessCalendar(ZoneInfo("UTC"), {d: [] for d in range(7)})
    with pytest.raises(ValueError, match="no open time"):
        BusinessCalendar.from_policy({"timezone": "UTC", "business_hours": {}})


def test_thousands_of_adds_spanning_months_are_fast() -> None:
    cal = BusinessCalendar.from_policy(demo_policy())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = wall.perf_counter()
    for n in range(3000):
        cal.add(start + timedelta(hours=n), timedelta(hours=8 * 60))  # ~3 months of open time
    elapsed = wall.perf_counter() - started
    # A sanity bound only (figures come from bench/): far below a second per thousand.
    assert elapsed < 30


# ---- per-item clocks --------------------------------------------------------------------------

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
    from portal_client.sla import describe_left

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
    from portal_client.sla import inbox_clock

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
