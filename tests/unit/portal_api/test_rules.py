"""Pure rules of the service: policy validation, rates, settings, passwords."""

from __future__ import annotations

import copy

import pytest

from portal_api.config import Settings
from portal_api.errors import ApiError
from portal_api.policy import validate_policy
from portal_api.security import hash_password, new_token, token_hash, verify_password
from portal_api.seed.data import demo_policy
from portal_api.simulate import SimulatorError, parse_duration, parse_rate


def test_demo_policy_is_valid_and_normalised() -> None:
    policy = validate_policy(demo_policy())
    assert set(policy["business_hours"]) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    assert policy["cutoffs"]["refill"]["after"] == "15:00"


def test_policy_intervals_are_sorted() -> None:
    policy = copy.deepcopy(demo_policy())
    policy["business_hours"]["mon"] = [["13:00", "17:00"], ["08:00", "12:00"]]
    assert validate_policy(policy)["business_hours"]["mon"][0] == ["08:00", "12:00"]


def test_policy_that_is_never_open_is_refused() -> None:
    policy = copy.deepcopy(demo_policy())
    policy["business_hours"] = {day: [] for day in policy["business_hours"]}
    with pytest.raises(ApiError) as caught:
        validate_policy(policy)
    assert "never open" in caught.value.message


@pytest.mark.parametrize(("text", "per_second"), [("6/min", 0.1), ("1/s", 1.0), ("36/hour", 0.01)])
def test_rates(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["6", "0/min", "6/day", "-1/s", ""])
def test_bad_rates(text: str) -> None:
    with pytest.raises(SimulatorError):
        parse_rate(text)


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("10m") == 600
    assert parse_duration("2h") == 7200
    assert parse_duration("45") == 45
    assert parse_duration(None) is None
    with pytest.raises(SimulatorError):
        parse_duration("soon")


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "PORTAL_API_ACCESS_TOKEN_MINUTES": "5",
            "PORTAL_API_TRUST_FORWARDED_FOR": "yes",
            "PORTAL_API_DATABASE_URL": "sqlite:///x.db",
        }
    )
    assert settings.access_token_minutes == 5
    assert settings.trust_forwarded_for is True
    assert settings.database_url == "sqlite:///x.db"
    with pytest.raises(ValueError, match="PORTAL_API_LOCKOUT_ATTEMPTS"):
        Settings.from_env({"PORTAL_API_LOCKOUT_ATTEMPTS": "many"})


def test_passwords_hash_with_argon2id_and_verify() -> None:
    stored = hash_password("correct horse", "fast")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong")
    assert not verify_password(None, "anything", "fast")
    assert not verify_password("not-a-hash", "x")


def test_tokens_are_random_and_hashed() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 40 for t in tokens)
    assert token_hash("a") != token_hash("b") and len(token_hash("a")) == 64
