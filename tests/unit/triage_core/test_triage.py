"""Triage of new requests: the queue by kind, and what a red flag changes."""

from __future__ import annotations

import pytest

from triage_core import triage


@pytest.mark.parametrize(
    ("priority", "queue", "assignee", "changes"),
    [
        ("routine", "front_desk", None, {"priority": "urgent", "queue": "nursing"}),
        ("routine", "nursing", None, {"priority": "urgent"}),
        ("urgent", "clinician", None, {}),
        ("urgent", "front_desk", "fd-1", {"queue": "nursing", "assignee_id": None}),
        ("urgent", "nursing", "rn-1", {"assignee_id": None}),
    ],
)
def test_a_red_flag_makes_an_item_urgent_clinical_and_everyones(
    priority: str, queue: str, assignee: str | None, changes: dict[str, str | None]
) -> None:
    assert triage.on_red_flag(priority, queue, assignee) == changes


def test_queues_by_kind_and_category() -> None:
    assert triage.initial_queue("refill", {}) == "nursing"
    assert triage.initial_queue("appointment", {}) == "front_desk"
    assert triage.initial_queue("message", {"category": "clinical"}) == "nursing"
    assert triage.initial_queue("message", {"category": "billing"}) == "front_desk"


def test_urgent_work_is_announced_to_the_roles_that_can_act_on_it() -> None:
    assert triage.hears_urgent("nurse", "nursing") and triage.hears_urgent("clinician", "nursing")
    assert not triage.hears_urgent("front_desk", "nursing")
    assert triage.hears_urgent("front_desk", "front_desk")
    assert not triage.hears_urgent("admin", "nursing") and not triage.hears_urgent("admin", "x")
    assert not triage.hears_urgent("nurse", "a queue from a newer server")


def test_the_response_to_a_red_flag_is_the_same_for_the_service_and_the_seed() -> None:
    claimed = {"priority": "routine", "queue": "nursing", "assignee_id": "rn-1"}
    response = triage.respond_to_red_flags(claimed, ["stroke"], {}, follow_up=True)
    assert response.changes == {"priority": "urgent", "assignee_id": None}
    event, reply = response.entries
    assert event.body == "Red flag in a new message: urgent, unclaimed for the team"
    assert event.data["previous_assignee_id"] == "rn-1"
    assert reply.type == "staff_reply" and response.reply == reply.body and "911" in reply.body
    new = {"priority": "routine", "queue": "front_desk", "assignee_id": None}
    first = triage.respond_to_red_flags(new, ["suicide"], {}, follow_up=False)
    assert [e.type for e in first.entries] == ["staff_reply"]  # no event on a new request
    assert "988" in (first.reply or "")
