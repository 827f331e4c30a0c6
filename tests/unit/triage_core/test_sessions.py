"""The unattended-PC settings read the same on both sides, with defaults for older policies."""

from __future__ import annotations

from triage_core.sessions import idle_lock_minutes, session_idle_hours


def test_older_policies_lock_after_ten_minutes_and_end_sessions_after_twelve_hours() -> None:
    assert idle_lock_minutes({}) == 10
    assert idle_lock_minutes(None) == 10
    assert session_idle_hours({"name": "old"}) == 12.0


def test_the_idle_lock_stays_between_one_and_thirty_minutes_whatever_the_document_says() -> None:
    assert idle_lock_minutes({"idle_lock_minutes": 5}) == 5
    assert idle_lock_minutes({"idle_lock_minutes": 0}) == 1
    assert idle_lock_minutes({"idle_lock_minutes": 600}) == 30
    assert idle_lock_minutes({"idle_lock_minutes": "nonsense"}) == 10
    assert session_idle_hours({"session_idle_hours": 2}) == 2.0
    assert session_idle_hours({"session_idle_hours": None}) == 12.0
