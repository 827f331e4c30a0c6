"""Business time against a brute-force reference (a minute-by-minute walk)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_api.seed.data import demo_policy
from triage_core.calendar import BusinessCalendar

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


def test_adds_spanning_months_agree_with_between() -> None:
    """Months of open time (holidays, weekends, DST inside): `between` undoes `add`. Speed is
    measured by bench/sla_100k.py, not here."""
    cal = BusinessCalendar.from_policy(demo_policy())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(0, 3000, 97):
        begin = start + timedelta(hours=n)
        duration = timedelta(hours=8 * 60, minutes=n % 60)  # ~3 months of open time
        end = cal.add(begin, duration)
        assert cal.between(begin, end) == duration
