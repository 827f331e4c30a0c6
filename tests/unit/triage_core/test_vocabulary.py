"""The vocabulary: every value has its word for staff, and unknown values read as written."""

from __future__ import annotations

import pytest

from triage_core import vocabulary as v
from triage_core.actions import ReplyThen

ALL = [
    v.Kind,
    v.Status,
    v.Priority,
    v.Queue,
    v.Role,
    v.EntryType,
    v.AuthorKind,
    v.MessageCategory,
    v.AppointmentChange,
    v.RefillOutcome,
    v.AppointmentOutcome,
    ReplyThen,
]


@pytest.mark.parametrize("vocabulary", ALL, ids=lambda c: c.__name__)
def test_every_value_has_a_word_and_equals_its_wire_string(vocabulary) -> None:  # type: ignore[no-untyped-def]
    for member in vocabulary:
        assert member.word and member.word == vocabulary.describe(member.value)
        assert member == member.value and isinstance(member, str)


def test_a_value_from_a_newer_server_reads_as_written() -> None:
    assert v.Kind.describe("lab_result") == "lab_result"
    assert v.Queue.describe(None) == ""


def test_words_must_cover_every_value() -> None:
    with pytest.raises(ValueError, match="no words for"):
        v.words(v.Kind, {"refill": "Refill"})


def test_each_working_role_has_its_queue_and_closed_means_done_or_cancelled() -> None:
    assert {r for r in v.Role if r is not v.Role.ADMIN} == set(v.ROLE_QUEUE)
    assert v.is_closed("done") and v.is_closed("cancelled") and not v.is_closed("open")
