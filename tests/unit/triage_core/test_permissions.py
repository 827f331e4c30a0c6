"""Who may do what, with the reason in words: the same answers the service gives as 403, 409
and 422, and the desktop as a disabled button's tooltip."""

from __future__ import annotations

from datetime import datetime

import pytest

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
    Resolve,
    SetPriority,
    WaitPatient,
)
from triage_core.permissions import Actor, allowed, fits, offer, role_allows, state_allows
from triage_core.vocabulary import AppointmentOutcome, Priority, RefillOutcome

NURSE = Actor("n1", "nurse")
DOCTOR = Actor("d1", "clinician")


def test_only_a_clinician_decides_a_refill() -> None:
    approve = RefillDecision(RefillOutcome.APPROVED)
    refused = allowed(NURSE, contract_item(), approve)
    assert (refused.allowed, refused.status, refused.code) == (False, 403, "forbidden")
    assert refused.reason == "Only a clinician can approve, deny or modify a refill."
    assert allowed(DOCTOR, contract_item(), approve)


def test_a_decision_must_fit_the_kind_of_item() -> None:
    refused = fits(contract_item(kind="message"), RefillDecision(RefillOutcome.APPROVED))
    assert (refused.status, refused.code) == (422, "invalid")
    modified = fits(contract_item(), RefillDecision(RefillOutcome.MODIFIED))
    assert "quantity" in modified.reason
    confirm = AppointmentDecision(AppointmentOutcome.CONFIRMED)
    assert not fits(contract_item(kind="appointment", details={"change": "new"}), confirm)
    assert fits(contract_item(kind="appointment", details={"change": "cancel"}), confirm)
    naive = AppointmentDecision(AppointmentOutcome.CONFIRMED, starts_at=datetime(2026, 12, 1, 9))
    assert "time zone" in fits(contract_item(kind="appointment"), naive).reason


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_a_closed_item_takes_only_a_note_or_reopening(status: str) -> None:
    closed = contract_item(status=status)
    refused = state_allows(NURSE, closed, Claim())
    assert (refused.status, refused.code) == (409, "closed")
    assert refused.reason == f"This item is {status}; reopen it first."
    assert state_allows(NURSE, closed, Note("x"))
    assert state_allows(NURSE, closed, Reopen())
    assert state_allows(NURSE, contract_item(), Reopen()).code == "not_closed"


def test_someone_elses_claim_is_taken_over_only_with_force() -> None:
    theirs = contract_item(assignee_id="other")
    assert state_allows(NURSE, theirs, Claim()).code == "claimed"
    assert state_allows(NURSE, theirs, Claim(force=True))
    assert state_allows(NURSE, contract_item(assignee_id="n1"), Claim())


def test_the_role_check_comes_before_the_state_check() -> None:
    """The service answers 403 before 409, so the desktop gives the same first reason."""
    closed_refill = contract_item(status="done")
    assert allowed(NURSE, closed_refill, RefillDecision(RefillOutcome.APPROVED)).status == 403
    assert role_allows(NURSE, Reply("x"))


def test_the_desktop_is_not_offered_what_would_change_nothing() -> None:
    mine = contract_item(assignee_id="n1", status="waiting_patient", priority="urgent")
    assert offer(NURSE, mine, Claim()).reason == "You have this item already."
    assert offer(NURSE, contract_item(), Release()).reason == "Nobody has claimed this item."
    assert "already waiting" in offer(NURSE, mine, WaitPatient()).reason
    assert offer(NURSE, mine, SetPriority(Priority.URGENT)).reason == "This item is already urgent."
    assert offer(NURSE, mine, SetPriority(Priority.ROUTINE))
    assert offer(NURSE, contract_item(), Resolve())
    assert offer(NURSE, contract_item(), Assign("x"))
