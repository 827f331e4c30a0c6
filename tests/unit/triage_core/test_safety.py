"""What a patient is told at once: the safety reply by category, the response promise, the
public practice page; and who is on call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from portal_api.seed.data import demo_policy
from triage_core.calendar import BusinessCalendar
from triage_core.safety import (
    DEFAULT_REPLIES,
    expected_reply_by,
    on_call,
    promise_words,
    public_practice,
    safety_reply,
)

NY = ZoneInfo("America/New_York")
POLICY = demo_policy(on_call="doc-1")
CALENDAR = BusinessCalendar.from_policy(POLICY)


def test_the_reply_is_chosen_by_category_most_specific_first() -> None:
    assert "911" in (safety_reply({}, ["cardiac"]) or "")
    assert "988" in (safety_reply({}, ["suicide"]) or "")
    assert "1-800-222-1222" in (safety_reply({}, ["overdose_poisoning"]) or "")
    both = safety_reply({}, ["overdose_poisoning", "suicide", "stroke"]) or ""
    assert both.split("\n\n") == [
        DEFAULT_REPLIES["suicide"],
        DEFAULT_REPLIES["poison"],
        DEFAULT_REPLIES["emergency"],
    ]
    assert safety_reply({}, ["a category from a newer server"]) == DEFAULT_REPLIES["emergency"]
    assert safety_reply({}, []) is None


def test_the_practice_writes_its_own_texts_by_group_or_category() -> None:
    policy = {"safety_replies": {"emergency": "Call 911.", "infant": "Call 911 for your baby."}}
    assert safety_reply(policy, ["stroke"]) == "Call 911."
    assert safety_reply(policy, ["infant"]) == "Call 911 for your baby."
    assert safety_reply(policy, ["suicide"]) == DEFAULT_REPLIES["suicide"]


def test_the_promise_counts_business_or_clock_hours_from_the_live_policy() -> None:
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=NY).astimezone(UTC)
    routine = expected_reply_by(POLICY, CALENDAR, "message", "routine", friday_5pm)
    # 16 business hours from Friday evening: Monday and Tuesday, open 8 hours a day.
    assert routine == datetime(2026, 12, 1, 17, 0, tzinfo=NY)
    urgent = expected_reply_by(POLICY, CALENDAR, "message", "urgent", friday_5pm)
    assert urgent == (friday_5pm + timedelta(hours=1)).astimezone(NY)  # clock time
    # A routine refill has no first-response target: it is answered by being done.
    refill = expected_reply_by(POLICY, CALENDAR, "refill", "routine", friday_5pm)
    assert refill == routine
    assert expected_reply_by({"sla": {}}, CALENDAR, "message", "routine", friday_5pm) is None


def test_urgent_work_has_no_same_day_cut_off() -> None:
    friday_1630 = datetime(2026, 11, 27, 16, 30, tzinfo=NY).astimezone(UTC)  # after 15:00
    urgent = expected_reply_by(POLICY, CALENDAR, "refill", "urgent", friday_1630)
    assert urgent == (friday_1630 + timedelta(hours=1)).astimezone(NY)
    routine = expected_reply_by(POLICY, CALENDAR, "refill", "routine", friday_1630)
    assert routine is not None and routine > datetime(2026, 11, 30, 8, 0, tzinfo=NY)


def test_the_promise_in_words() -> None:
    assert promise_words(datetime(2026, 12, 1, 22, 0, tzinfo=UTC), "America/New_York") == (
        "by Tuesday 1 December, 5 pm"
    )
    assert promise_words(datetime(2026, 12, 1, 14, 30, tzinfo=UTC), "America/New_York") == (
        "by Tuesday 1 December, 9:30 am"
    )


def test_the_public_page_keeps_the_staff_side_private() -> None:
    page = public_practice(POLICY)
    assert set(page) == {
        "name",
        "timezone",
        "business_hours",
        "closed_dates",
        "response_targets",
        "emergency_guidance",
    }
    assert "doc-1" not in str(page) and "Hi {patient_first_name}" not in str(page)


def test_on_call_is_the_covering_shift_else_the_default() -> None:
    policy = {
        "on_call": {
            "default": "doc-1",
            "rota": [{"starts": "2026-12-05", "ends": "2026-12-06", "staff_id": "doc-2"}],
        }
    }
    assert on_call(policy, "2026-12-05") == "doc-2"
    assert on_call(policy, "2026-12-06") == "doc-2"
    assert on_call(policy, "2026-12-07") == "doc-1"
    assert on_call({}, "2026-12-07") is None
