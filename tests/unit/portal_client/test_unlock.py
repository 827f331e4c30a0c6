"""The lock screen's offline verifier and the policy editor's unattended-PC fields."""

from __future__ import annotations

from argon2 import PasswordHasher

from portal_client.policy_form import parse_sessions
from portal_client.unlock import Outcome, UnlockAnswer, check_verifier, make_verifier

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_the_verifier_is_a_salted_argon2id_hash_that_checks_only_the_right_password() -> None:
    verifier = make_verifier("correct horse", FAST)
    assert verifier.startswith("$argon2id$") and "correct horse" not in verifier
    assert make_verifier("correct horse", FAST) != verifier  # salted
    assert check_verifier(verifier, "correct horse")
    assert not check_verifier(verifier, "correct hors")
    assert not check_verifier(None, "correct horse")
    assert not check_verifier("not a hash", "correct horse")


def test_only_wrong_passwords_count_towards_signing_out() -> None:
    assert UnlockAnswer(Outcome.WRONG).counts_as_wrong
    assert UnlockAnswer(Outcome.THROTTLED, 600).counts_as_wrong
    assert not UnlockAnswer(Outcome.UNCHECKABLE).counts_as_wrong
    assert UnlockAnswer(Outcome.OFFLINE).unlocked and UnlockAnswer(Outcome.ONLINE).unlocked


def test_the_editor_keeps_the_idle_lock_within_one_to_thirty_minutes() -> None:
    assert parse_sessions({"idle_lock_minutes": 5, "session_idle_hours": 8}) == (
        {"idle_lock_minutes": 5, "session_idle_hours": 8},
        [],
    )
    values, errors = parse_sessions({"idle_lock_minutes": 45, "session_idle_hours": 0})
    assert values == {"idle_lock_minutes": 10, "session_idle_hours": 12}
    assert errors == [
        "idle lock: use between 1 and 30 minutes",
        "unused sessions end: use between 1 and 336 hours",
    ]
