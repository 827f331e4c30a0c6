"""Triage of new requests: the queue by kind, and what a red flag changes."""

from __future__ import annotations

import pytest

from triage_core import triage


@pytest.mark.parametrize(
    ("priority", "queue", "changes"),
    [
        ("routine", "front_desk", {"priority": "urgent", "queue": "nursing"}),
        ("routine", "nursing", {"priority": "urgent"}),
        ("urgent", "clinician", {}),
        ("urgent", "front_desk", {"queue": "nursing"}),
    ],
)
def test_a_red_flag_makes_an_item_urgent_and_clinical(
    priority: str, queue: str, changes: dict[str, str]
) -> None:
    assert triage.on_red_flag(priority, queue) == changes


def test_queues_by_kind_and_category() -> None:
    assert triage.initial_queue("refill", {}) == "nursing"
    assert triage.initial_queue("appointment", {}) == "front_desk"
    assert triage.initial_queue("message", {"category": "clinical"}) == "nursing"
    assert triage.initial_queue("message", {"category": "billing"}) == "front_desk"
