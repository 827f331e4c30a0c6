"""Typed actions: the wire form in and out, and refusals that say where and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage_core.actions import (
    ACTION_TYPES,
    ActionInvalid,
    AppointmentDecision,
    Claim,
    RefillDecision,
    Reply,
    ReplyThen,
    Route,
    from_wire,
    json_schema,
    to_wire,
    user_text,
)
from triage_core.vocabulary import AppointmentOutcome, Queue, RefillOutcome


def problems(body: object) -> list[dict]:
    with pytest.raises(ActionInvalid) as caught:
        from_wire(body)
    return caught.value.problems


def test_wire_bodies_become_typed_actions_and_back() -> None:
    reply = from_wire({"type": "reply", "body": "Hi", "then": "done"})
    assert reply == Reply("Hi", ReplyThen.DONE)
    assert to_wire(reply) == {"type": "reply", "body": "Hi", "then": "done"}
    assert to_wire(Claim()) == {"type": "claim"}  # defaults stay off the wire
    starts = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    confirmed = from_wire(
        {
            "type": "appointment_decision",
            "outcome": "confirmed",
            "starts_at": "2026-12-01T14:30:00Z",
        }
    )
    assert confirmed == AppointmentDecision(AppointmentOutcome.CONFIRMED, starts_at=starts)
    assert to_wire(confirmed)["starts_at"] == "2026-12-01T14:30:00Z"


def test_unknown_types_extra_fields_and_missing_fields_are_named() -> None:
    assert problems({"type": "launch"})[0]["loc"] == ["type"]
    assert problems({"body": "x"}) == []  # no type at all: the message says so
    assert problems([1, 2]) == []
    extra = problems({"type": "claim", "force": True, "sneaky": 1})
    assert extra == [
        {"loc": ["sneaky"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
    ]
    assert problems({"type": "reply"})[0]["type"] == "missing"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"type": "claim", "force": "yes"}, "force"),
        ({"type": "route", "queue": "pharmacy"}, "queue"),
        ({"type": "set_priority", "priority": "URGENT"}, "priority"),
        ({"type": "reply", "body": ""}, "body"),
        ({"type": "reply", "body": "x" * 50_001}, "body"),
        ({"type": "reply", "body": 5}, "body"),
        ({"type": "refill_decision", "outcome": "approved", "quantity": 1001}, "quantity"),
        ({"type": "refill_decision", "outcome": "approved", "refills": True}, "refills"),
        ({"type": "refill_decision", "outcome": "approved", "quantity": "30"}, "quantity"),
        (
            {"type": "appointment_decision", "outcome": "confirmed", "starts_at": "soon"},
            "starts_at",
        ),
        ({"type": "assign", "assignee_id": None}, "assignee_id"),
    ],
)
def test_each_bad_field_is_refused_with_its_place(body: dict, where: str) -> None:
    found = problems(body)
    assert [p["loc"] for p in found] == [[where]]
    assert "x" * 100 not in str(found)  # the input itself is never echoed


def test_the_openapi_schema_comes_from_the_same_declarations() -> None:
    schemas = json_schema()
    mapping = schemas["Action"]["discriminator"]["mapping"]
    assert set(mapping) == set(ACTION_TYPES)
    refill = schemas["RefillDecisionAction"]
    assert refill["required"] == ["type", "outcome"]
    assert refill["properties"]["refills"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 12,
    }
    assert refill["additionalProperties"] is False
    assert schemas["RouteAction"]["properties"]["queue"]["enum"] == list(Queue.values())


ACTIONS = st.one_of(
    st.builds(Claim, st.booleans()),
    st.builds(Route, st.sampled_from(list(Queue)), st.none() | st.text(max_size=40)),
    st.builds(
        Reply, st.text(min_size=1, max_size=40), st.none() | st.sampled_from(list(ReplyThen))
    ),
    st.builds(
        RefillDecision,
        st.sampled_from(list(RefillOutcome)),
        st.none() | st.integers(0, 1000),
        st.none() | st.integers(0, 12),
        st.none() | st.text(max_size=40),
    ),
)


@given(ACTIONS)
def test_every_action_survives_the_round_trip(action) -> None:  # type: ignore[no-untyped-def]
    assert from_wire(to_wire(action)) == action


def test_the_text_a_person_wrote_is_found_for_reuse() -> None:
    assert user_text({"type": "reply", "body": "Hello"}) == "Hello"
    assert user_text({"type": "refill_decision", "note": "Take with food"}) == "Take with food"
    assert user_text({"type": "note", "body": "   "}) is None
    assert user_text({"type": "claim"}) is None
