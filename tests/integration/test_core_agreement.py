"""The service and the desktop agree: random sequences of actions by several staff members go
through the real service, and each step is predicted by the domain core and by the desktop's
fold of a pending action. They must end every step in the same item (or the same refusal)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_api.patient_limits import SendingLimits
from portal_client.optimistic import PendingAction
from portal_client.optimistic import apply_action as fold_pending
from tests.helpers import act, bearer, login, patient_login
from triage_core.actions import from_wire
from triage_core.disclosure import header, in_full
from triage_core.permissions import Actor, allowed
from triage_core.state_machine import apply_to_item, transition
from triage_core.times import parse_time

STAFF = ("nurse", "doctor", "frontdesk", "nurse2")
REQUESTS = {
    "message": {"kind": "message", "subject": "Question", "body": "hello", "details": {}},
    "refill": {
        "kind": "refill",
        "subject": "Refill",
        "body": "please",
        "details": {
            "medication": {"name": "Lisinopril", "strength": "10 mg", "form": "tablet", "sig": "1"}
        },
    },
    "appointment": {
        "kind": "appointment",
        "subject": "Visit",
        "body": "a visit",
        "details": {"change": "new", "preferred_times": ["Mon am"]},
    },
}

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
# What may go along with a decision: a message to the patient, an internal note, both, none.
DECISION_WORDS = st.fixed_dictionaries({}, optional={"message_to_patient": TEXT, "note": TEXT})
ACTIONS = st.one_of(
    st.builds(lambda force: {"type": "claim", "force": force}, st.booleans()),
    st.just({"type": "release"}),
    st.builds(lambda who: {"type": "assign", "assignee_id": who}, st.sampled_from(STAFF)),
    st.builds(
        lambda q: {"type": "route", "queue": q},
        st.sampled_from(["front_desk", "nursing", "clinician"]),
    ),
    st.builds(
        lambda p: {"type": "set_priority", "priority": p}, st.sampled_from(["routine", "urgent"])
    ),
    st.builds(
        lambda body, then: {"type": "reply", "body": body, **({"then": then} if then else {})},
        TEXT,
        st.sampled_from([None, "waiting_patient", "done"]),
    ),
    st.builds(lambda body: {"type": "note", "body": body}, TEXT),
    st.just({"type": "wait_patient"}),
    st.builds(lambda r: {"type": "resolve", **({"resolution": r} if r else {})}, st.none() | TEXT),
    st.just({"type": "reopen"}),
    st.builds(
        lambda outcome, quantity, words: {
            "type": "refill_decision",
            "outcome": outcome,
            **({"quantity": quantity} if quantity is not None else {}),
            **words,
        },
        st.sampled_from(["approved", "denied", "modified"]),
        st.none() | st.integers(0, 90),
        DECISION_WORDS,
    ),
    st.builds(
        lambda outcome, when, words: {
            "type": "appointment_decision",
            "outcome": outcome,
            **({"starts_at": when} if when else {}),
            **words,
        },
        st.sampled_from(["confirmed", "declined"]),
        st.sampled_from([None, "2026-12-03T14:30:00Z"]),
        DECISION_WORDS,
    ),
)


def without(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in keys}


def entries_without_ids(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries as written, but for their ids (the desktop names pending ones itself)."""
    plain = []
    for entry in item["entries"]:
        data = {
            k: v for k, v in entry["data"].items() if k not in ("entry_id", "entry_ids", "pending")
        }
        plain.append({**without(entry, "id"), "data": data})
    return plain


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(sorted(REQUESTS)),
    steps=st.lists(st.tuples(st.sampled_from(STAFF[:3]), ACTIONS), min_size=1, max_size=8),
)
def test_the_service_the_core_and_the_desktop_fold_agree(
    client: TestClient, kind: str, steps: list[tuple[str, dict[str, Any]]]
) -> None:
    tokens = {name: login(client, name) for name in STAFF}
    ids = {name: tokens[name]["user"]["id"] for name in STAFF}
    roles = {name: tokens[name]["user"]["role"] for name in STAFF}
    # Every example files as patient1 within a minute: the sending limit is not tested here.
    client.app.state.services.patients.limits = SendingLimits(per_minute=0, per_day=0)
    patient = patient_login(client, "patient1")
    created = client.post("/api/v1/patient/requests", json=REQUESTS[kind], headers=bearer(patient))
    assert created.status_code == 201, created.text
    item_id = created.json()["item"]["id"]
    item = client.get(f"/api/v1/items/{item_id}", headers=bearer(tokens["nurse"])).json()["item"]
    for who, wire in steps:
        wire = {**wire, "assignee_id": ids[wire["assignee_id"]]} if "assignee_id" in wire else wire
        action = from_wire(wire)
        actor = Actor(ids[who], roles[who])
        decision = allowed(actor, item, action)
        reply = act(client, tokens[who], item_id, wire, key=str(uuid.uuid4()))
        if not decision:
            assert reply.status_code == decision.status, (wire, reply.text)
            assert reply.json()["error"]["code"] == decision.code
            assert reply.json()["error"]["message"] == decision.reason
            continue
        assert reply.status_code == 200, (wire, decision, reply.text)
        answered = reply.json()["item"]
        # Each person receives the item as their role may see it; the whole of it, as a
        # nurse receives it, is what the core predicts.
        after = client.get(f"/api/v1/items/{item_id}", headers=bearer(tokens["nurse"])).json()[
            "item"
        ]
        expected_answer = after if in_full(actor.role, actor.id, after) else header(after)
        assert answered == expected_answer
        assert answered["restricted"] == (not in_full(actor.role, actor.id, after))
        at = after["entries"][-1]["created_at"]  # the service's clock, for a like-for-like view
        moment = parse_time(at)
        assert moment is not None
        new_ids = tuple(e["id"] for e in after["entries"][len(item["entries"]) :])
        predicted = apply_to_item(
            item,
            transition(item, action, actor, moment),
            author_id=actor.id,
            at=at,
            entry_ids=new_ids,
        )
        assert without(predicted, "updated_at", "version") == without(
            after, "updated_at", "version"
        )
        folded = fold_pending(item, PendingAction(1, item_id, wire, at, actor.id), actor.role)
        assert without(folded, "entries", "updated_at", "version") == without(
            after, "entries", "updated_at", "version"
        )
        assert entries_without_ids(folded) == entries_without_ids(after)
        item = after
