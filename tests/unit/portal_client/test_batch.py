"""Which refills go in a batch signature, and why the others are left out."""

from __future__ import annotations

from typing import Any

from portal_client.batch import plan_approvals
from tests.support.items import contract_item
from triage_core.permissions import Actor

DOCTOR = Actor("d1", "clinician")
NURSE = Actor("n1", "nurse")


def refill(n: int, verdict: str | None = "pass", **details: Any) -> dict[str, Any]:
    protocol = (
        None
        if verdict is None
        else {
            "verdict": verdict,
            "reasons": [
                {"rule": "last_visit", "ok": verdict == "pass", "text": "No visit on file"}
            ],
        }
    )
    return contract_item(
        id=f"r{n}",
        subject=f"Refill {n}",
        kind="refill",
        details={"protocol": protocol, "decision": None, **details},
    )


def test_only_refills_that_pass_and_may_be_signed_go_in() -> None:
    items = [
        refill(1),
        refill(2, "review"),
        refill(3, controlled=True),
        refill(4, None),
        {**refill(5), "status": "done"},
        contract_item(id="m6", subject="A message", kind="message"),
        refill(7),
    ]
    plan = plan_approvals(items, DOCTOR)
    assert [c.item_id for c in plan.approve] == ["r1", "r7"]
    why = {c.item_id: c.why for c in plan.left_out}
    assert why["r2"] == "protocol: review — No visit on file"
    assert why["r3"].startswith("controlled substance")
    assert why["r4"] == "the protocol has not checked it yet"
    assert "done" in why["r5"].lower()
    assert why["m6"] == "not a refill"
    assert plan.action() == {"type": "refill_decision", "outcome": "approved"}


def test_a_nurse_signs_nothing() -> None:
    plan = plan_approvals([refill(1)], NURSE)
    assert plan.approve == ()
    assert "clinician" in plan.left_out[0].why


def test_each_choice_names_its_patient() -> None:
    item = refill(1)
    plan = plan_approvals([item], DOCTOR, {item["patient_id"]: "Ada Okafor"})
    assert plan.approve[0].label == "Refill 1 — Ada Okafor"
