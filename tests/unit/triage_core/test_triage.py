"""Triage of new requests: the queue by kind, and red flags that make a request urgent."""

from __future__ import annotations

import pytest

from triage_core import triage


@pytest.mark.parametrize(
    "text",
    [
        "I have chest pain",
        "Shortness of breath when walking",
        "thinking about suicide",
        "I'm out of my insulin",
        "the worst headache of my life",
        "fever of 104",
    ],
)
def test_red_flags_make_a_request_urgent(text: str) -> None:
    assert triage.initial_priority("message", "Question", text) == "urgent"


@pytest.mark.parametrize("text", ["Refill please", "Can I reschedule?", "Billing question"])
def test_ordinary_requests_are_routine(text: str) -> None:
    assert triage.initial_priority("message", text, text) == "routine"
    assert not triage.screen(text).flagged


def test_queues_by_kind_and_category() -> None:
    assert triage.initial_queue("refill", {}) == "nursing"
    assert triage.initial_queue("appointment", {}) == "front_desk"
    assert triage.initial_queue("message", {"category": "clinical"}) == "nursing"
    assert triage.initial_queue("message", {"category": "billing"}) == "front_desk"
