"""What the patient is told when a refill is denied, by reason."""

from __future__ import annotations

from portal_client.templates import DENIAL_MESSAGES, denial_message
from triage_core.vocabulary import DenialReason

VALUES = {
    "patient_first_name": "Ada",
    "medication": "Lisinopril 10 mg",
    "staff_name": "Dr Sam Patel",
    "practice_name": "Riverside",
}


def test_every_reason_has_a_message_naming_the_medication() -> None:
    assert set(DENIAL_MESSAGES) == set(DenialReason.values())
    for reason in DenialReason.values():
        text = denial_message({}, reason, VALUES)
        assert "Ada" in text and "Lisinopril 10 mg" in text and "{" not in text


def test_the_practices_template_for_a_reason_wins() -> None:
    policy = {
        "templates": [
            {
                "id": "visit",
                "title": "Needs a visit",
                "kinds": ["refill"],
                "body": "{patient_first_name}, please call us to book.",
                "denial_reason": "needs_visit",
            }
        ]
    }
    assert denial_message(policy, "needs_visit", VALUES) == "Ada, please call us to book."
    assert "too early" in denial_message(policy, "too_early", VALUES)
