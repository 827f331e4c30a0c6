"""Pure client rules: pending actions folded with the core's rules, conflict wording, backoff."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from portal_client.notices import describe_conflict
from portal_client.optimistic import PendingAction, fold
from portal_client.optimistic import apply_action as apply_pending
from portal_client.sync import backoff_delay
from tests.support.items import contract_item
from triage_core.actions import user_text

ME, OTHER = "me-id", "other-id"
NOW = "2026-11-27T15:42:00Z"


def pending(action: dict, n: int = 1) -> PendingAction:
    return PendingAction(n, "i1", action, NOW, ME)


def apply_action(shown: dict, action: PendingAction, role: str = "clinician") -> dict:
    return apply_pending(shown, action, role)


def test_claim_assigns_me_and_opens() -> None:
    shown = apply_action(contract_item(), pending({"type": "claim"}))
    assert shown["assignee_id"] == ME and shown["status"] == "open"
    assert shown["entries"][-1]["data"] == {
        "action": "claim",
        "assignee_id": ME,
        "previous_assignee_id": None,
        "pending": True,
    }
    assert shown["entries"][-1]["body"] == "Claimed"


def test_reply_adds_a_pending_reply_and_first_response() -> None:
    shown = apply_action(
        contract_item(), pending({"type": "reply", "body": "Hi", "then": "waiting_patient"})
    )
    assert shown["status"] == "waiting_patient"
    assert shown["first_response_at"] == NOW
    assert [e["type"] for e in shown["entries"]] == ["staff_reply", "event"]
    assert shown["entries"][0]["body"] == "Hi"
    assert shown["entries"][1]["data"]["entry_id"] == shown["entries"][0]["id"]


def test_route_clears_the_assignee_and_decisions_close() -> None:
    routed = apply_action(
        contract_item(assignee_id=OTHER), pending({"type": "route", "queue": "clinician"})
    )
    assert routed["queue"] == "clinician" and routed["assignee_id"] is None
    decided = apply_action(
        contract_item(), pending({"type": "refill_decision", "outcome": "denied"})
    )
    assert decided["status"] == "done"
    assert decided["details"]["decision"]["outcome"] == "denied"
    assert decided["details"]["decision"]["decided_by"] == ME


def test_closed_items_only_take_notes_and_reopen() -> None:
    closed = contract_item(status="done", resolved_at=NOW)
    assert apply_action(closed, pending({"type": "claim"})) == {**closed, "entries": []}
    assert apply_action(closed, pending({"type": "reopen"}))["status"] == "open"
    noted = apply_action(closed, pending({"type": "note", "body": "x"}))
    assert noted["entries"][0]["type"] == "internal_note"


def test_an_action_the_role_may_not_take_changes_nothing_on_screen() -> None:
    refill = pending({"type": "refill_decision", "outcome": "approved"})
    assert apply_action(contract_item(), refill, role="nurse") == contract_item()
    assert apply_action(contract_item(), refill, role="clinician")["status"] == "done"


def test_an_unreadable_pending_action_changes_nothing() -> None:
    assert apply_action(contract_item(), pending({"type": "launch_rockets"})) == contract_item()
    assert apply_action(contract_item(), pending({"type": "reply"})) == contract_item()  # no body


def test_fold_applies_in_order_and_leaves_the_server_item_alone() -> None:
    server = contract_item()
    shown = fold(
        server,
        [
            pending({"type": "claim"}, 1),
            pending({"type": "release"}, 2),
            pending({"type": "set_priority", "priority": "urgent"}, 3),
        ],
        "nurse",
    )
    assert shown["assignee_id"] is None and shown["priority"] == "urgent"
    assert server == contract_item()  # untouched


ACTIONS = st.sampled_from(
    [
        {"type": "claim"},
        {"type": "release"},
        {"type": "wait_patient"},
        {"type": "resolve"},
        {"type": "reopen"},
        {"type": "note", "body": "n"},
        {"type": "reply", "body": "r"},
        {"type": "route", "queue": "front_desk"},
        {"type": "set_priority", "priority": "urgent"},
    ]
)


@given(st.lists(ACTIONS, max_size=12))
def test_fold_never_loses_entries_or_breaks_the_shape(actions: list[dict]) -> None:
    server = contract_item(
        entries=[
            {
                "id": "e1",
                "type": "patient_message",
                "body": "hello",
                "author": {"kind": "patient", "id": "p1"},
                "created_at": NOW,
                "data": {},
            }
        ]
    )
    shown = fold(server, [pending(a, n) for n, a in enumerate(actions)], "nurse")
    assert shown["entries"][0]["id"] == "e1"
    assert set(shown) == set(server)
    assert shown["status"] in {"new", "open", "waiting_patient", "done", "cancelled"}
    if shown["status"] == "done":
        assert shown["resolved_at"] is not None


def test_user_text_is_kept_from_bodies_and_notes() -> None:
    assert user_text({"type": "reply", "body": "Hello"}) == "Hello"
    assert user_text({"type": "refill_decision", "note": "Take with food"}) == "Take with food"
    assert user_text({"type": "claim"}) is None


def test_conflict_names_who_decided_and_when_in_practice_time() -> None:
    current = contract_item(
        status="done",
        details={
            "decision": {
                "outcome": "approved",
                "decided_by": OTHER,
                "decided_at": "2026-11-27T15:42:10Z",
            }
        },
    )
    message, actor = describe_conflict(
        current,
        me=ME,
        staff_names={OTHER: "Dr Patel"},
        fallback="x",
        tz=ZoneInfo("America/New_York"),
    )
    assert message == "Dr Patel approved this refill at 10:42."
    assert actor == OTHER


def test_conflict_names_the_last_other_event() -> None:
    current = contract_item(
        entries=[
            {
                "type": "event",
                "author": {"kind": "staff", "id": OTHER},
                "created_at": NOW,
                "data": {"action": "claim"},
                "body": "Claimed",
            },
        ]
    )
    message, _ = describe_conflict(current, me=ME, staff_names={OTHER: "Kevin"}, fallback="x")
    assert message == "Kevin claimed this item at 15:42."
    unknown, actor = describe_conflict(None, me=ME, staff_names={}, fallback="It changed.")
    assert unknown == "It changed." and actor is None


@given(st.integers(0, 100), st.integers(0, 2**32))
def test_backoff_is_capped_jittered_and_positive(attempt: int, seed: int) -> None:
    delay = backoff_delay(attempt, base=1.0, cap=60.0, rng=random.Random(seed))
    ceiling = min(60.0, 2.0 ** min(attempt, 30))
    assert ceiling / 2 <= delay <= ceiling
