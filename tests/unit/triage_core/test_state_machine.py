"""What each action does to an item, and what any sequence of allowed actions keeps true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.support.items import contract_item
from triage_core.actions import (
    AppointmentDecision,
    Assign,
    Claim,
    Note,
    RefillDecision,
    Release,
    Reopen,
    Reply,
    ReplyThen,
    Resolve,
    Route,
    SetPriority,
    WaitPatient,
)
from triage_core.permissions import Actor, allowed
from triage_core.state_machine import apply_to_item, transition
from triage_core.times import rfc3339
from triage_core.vocabulary import (
    AppointmentOutcome,
    DenialReason,
    Priority,
    Queue,
    RefillOutcome,
)

NOW = datetime(2026, 11, 27, 15, 42, tzinfo=UTC)
NURSE = Actor("n1", "nurse")
DOCTOR = Actor("d1", "clinician")


def apply(shown: dict, action, actor: Actor = NURSE, at: datetime = NOW) -> dict:  # type: ignore[no-untyped-def]
    change = transition(shown, action, actor, at)
    n = len(shown["entries"])
    ids = [f"e{n}-{k}" for k in range(len(change.entries))]
    return apply_to_item(
        shown, change, author_id=actor.id, at=rfc3339(at), entry_ids=(*ids, f"v{n}")
    )


def test_claiming_a_new_item_opens_it_and_names_both_holders() -> None:
    change = transition(contract_item(assignee_id=None), Claim(), NURSE, NOW)
    assert change.changes == {"assignee_id": "n1", "status": "open"}
    assert change.entries == ()
    assert change.event.body == "Claimed"
    assert change.event.data == {
        "action": "claim",
        "assignee_id": "n1",
        "previous_assignee_id": None,
    }


def test_routing_clears_the_assignee_and_says_where_in_words() -> None:
    change = transition(
        contract_item(assignee_id="x"), Route(Queue.FRONT_DESK, "billing"), NURSE, NOW
    )
    assert change.changes == {"queue": "front_desk", "assignee_id": None}
    assert change.event.body == "Routed to front desk"
    assert change.event.data == {
        "action": "route",
        "from": "nursing",
        "to": "front_desk",
        "note": "billing",
    }


def test_a_reply_is_the_first_response_and_may_close_or_wait() -> None:
    shown = apply(contract_item(), Reply("On it", ReplyThen.WAITING_PATIENT))
    assert shown["status"] == "waiting_patient"
    assert shown["first_response_at"] == rfc3339(NOW)
    reply, event = shown["entries"]
    assert (reply["type"], reply["body"], reply["author"]) == (
        "staff_reply",
        "On it",
        {"kind": "staff", "id": "n1"},
    )
    assert event["data"] == {"action": "reply", "then": "waiting_patient", "entry_id": reply["id"]}
    later = apply(shown, Reply("Done now", ReplyThen.DONE), at=NOW + timedelta(hours=1))
    assert later["status"] == "done" and later["resolved_at"] == rfc3339(NOW + timedelta(hours=1))
    assert later["first_response_at"] == rfc3339(NOW)  # the first one stays


def test_a_plain_reply_opens_a_new_item_and_a_note_changes_no_field() -> None:
    assert apply(contract_item(), Reply("Hi"))["status"] == "open"
    noted = apply(contract_item(), Note("call back"))
    assert {k: v for k, v in noted.items() if k != "entries"} == {
        k: v for k, v in contract_item().items() if k != "entries"
    }
    assert [e["type"] for e in noted["entries"]] == ["internal_note", "event"]


def test_a_refill_decision_records_who_and_when_and_closes() -> None:
    decided = apply(contract_item(), RefillDecision(RefillOutcome.MODIFIED, quantity=30), DOCTOR)
    decision = decided["details"]["decision"]
    assert decision == {
        "outcome": "modified",
        "quantity": 30,
        "refills": None,
        "days_supply": None,
        "sig": None,
        "reason": None,
        "decided_by": "d1",
        "decided_at": rfc3339(NOW),
    }
    assert decided["status"] == "done" and decided["first_response_at"] == rfc3339(NOW)
    assert decided["entries"][-1]["body"] == "Refill modified"
    assert [e["type"] for e in decided["entries"]] == ["event"]  # no words, no entries


def test_an_approval_grants_the_prescriptions_terms_unless_changed() -> None:
    prescription = {"quantity": 90, "days_supply": 90, "refills": 3, "sig": "1 daily"}
    item = contract_item(details={"prescription": prescription, "decision": None})
    approved = apply(item, RefillDecision(RefillOutcome.APPROVED), DOCTOR)
    decision = approved["details"]["decision"]
    assert (decision["quantity"], decision["days_supply"], decision["refills"]) == (90, 90, 3)
    assert decision["sig"] == "1 daily" and decision["reason"] is None
    modified = apply(
        item, RefillDecision(RefillOutcome.MODIFIED, quantity=30, days_supply=30), DOCTOR
    )
    assert modified["details"]["decision"]["quantity"] == 30
    assert modified["details"]["decision"]["days_supply"] == 30
    assert modified["details"]["decision"]["refills"] == 3


def test_a_denial_always_has_a_reason_and_grants_nothing() -> None:
    item = contract_item(details={"prescription": {"quantity": 90}, "decision": None})
    v1 = apply(item, RefillDecision(RefillOutcome.DENIED), DOCTOR)["details"]["decision"]
    assert v1["reason"] == "other" and v1["quantity"] is None
    asked = RefillDecision(RefillOutcome.DENIED, reason=DenialReason.NEEDS_VISIT)
    assert apply(item, asked, DOCTOR)["details"]["decision"]["reason"] == "needs_visit"


def test_a_decision_says_to_whom_its_words_go() -> None:
    action = RefillDecision(
        RefillOutcome.DENIED,
        message_to_patient="Please book a visit first.",
        note="Suspect early refill, check PDMP",
    )
    decided = apply(contract_item(), action, DOCTOR)
    reply, note, event = decided["entries"][-3:]
    assert (reply["type"], reply["body"]) == ("staff_reply", "Please book a visit first.")
    assert (note["type"], note["body"]) == ("internal_note", "Suspect early refill, check PDMP")
    assert event["data"]["entry_id"] == reply["id"]
    assert event["data"]["entry_ids"] == [reply["id"], note["id"]]
    # The words live in the entries only: never in the details or the event's data.
    assert "note" not in decided["details"]["decision"]
    assert not {"note", "message_to_patient"} & set(event["data"])


def test_blank_words_with_a_decision_write_nothing() -> None:
    action = AppointmentDecision(AppointmentOutcome.DECLINED, message_to_patient="  ", note="")
    decided = apply(contract_item(kind="appointment"), action, DOCTOR)
    assert [e["type"] for e in decided["entries"]] == ["event"]


def test_an_appointment_decision_keeps_the_new_time_in_utc() -> None:
    starts = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    decided = apply(
        contract_item(kind="appointment", details={"change": "new"}),
        AppointmentDecision(AppointmentOutcome.CONFIRMED, starts_at=starts),
    )
    assert decided["details"]["decision"]["starts_at"] == "2026-12-03T14:30:00Z"
    assert decided["details"]["change"] == "new"  # the request's own details stay


def test_reopening_remembers_how_it_was_closed() -> None:
    closed = apply(contract_item(), Resolve("sorted"))
    assert closed["entries"][-1]["data"] == {"action": "resolve", "resolution": "sorted"}
    reopened = apply(closed, Reopen())
    assert (reopened["status"], reopened["resolved_at"]) == ("open", None)
    assert reopened["entries"][-1]["data"] == {"action": "reopen", "from": "done"}


ACTIONS = st.sampled_from(
    [
        Claim(),
        Claim(force=True),
        Release(),
        Assign("n2"),
        Route(Queue.CLINICIAN),
        SetPriority(Priority.URGENT),
        SetPriority(Priority.ROUTINE),
        Reply("r"),
        Reply("r", ReplyThen.DONE),
        Reply("r", ReplyThen.WAITING_PATIENT),
        Note("n"),
        WaitPatient(),
        Resolve(),
        Reopen(),
        RefillDecision(RefillOutcome.APPROVED),
        RefillDecision(RefillOutcome.DENIED),
        RefillDecision(RefillOutcome.DENIED, message_to_patient="m", note="n"),
        AppointmentDecision(AppointmentOutcome.CONFIRMED, note="n"),
    ]
)


@given(st.lists(st.tuples(st.sampled_from([NURSE, DOCTOR]), ACTIONS), max_size=20))
def test_any_sequence_of_allowed_actions_keeps_the_item_whole(steps) -> None:  # type: ignore[no-untyped-def]
    shown = contract_item()
    for n, (actor, action) in enumerate(steps):
        at = NOW + timedelta(minutes=n)
        before = len(shown["entries"])
        if not allowed(actor, shown, action):
            continue
        after = apply(shown, action, actor, at)
        written = 1 + len(transition(shown, action, actor, at).entries)
        assert len(after["entries"]) == before + written
        assert after["entries"][-1]["type"] == "event"
        assert (after["status"] in ("done", "cancelled")) == (after["resolved_at"] is not None)
        if shown["first_response_at"]:
            assert after["first_response_at"] == shown["first_response_at"]
        shown = after
