"""Minimum necessary: how much of an item and its patient each person receives.

HIPAA's minimum-necessary standard, as the practice works: nurses and clinicians do the
clinical work and receive everything; the front desk receives scheduling and administrative
work in full, and clinical messages and refills as headers (enough to see that the work exists,
how urgent it is and how long it has waited, not what it says); an administrator receives
headers and timings for the SLA report, never message text. Whatever is in a person's hands (in
their role's queue, or assigned to them) arrives in full. Patients' charts (medications,
allergies) go to the clinical roles only.

This decides what is *sent*, not what may be done: the role rules for actions
(`permissions`) are unchanged, and acting on an item (claiming it) puts it in the person's
hands, so its next sync brings it in full. Anyone may open a header in full by giving a reason
(break the glass); the service records that access apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .clocks import history
from .red_flags import categories_of
from .times import rfc3339
from .vocabulary import ROLE_QUEUE, Kind, MessageCategory, Role

# The roles that do clinical work: they receive every item in full.
CLINICAL_ROLES = frozenset({Role.NURSE, Role.CLINICIAN})
# The details a header keeps: choices and links, never clinical words or staff notes.
HEADER_DETAILS = ("category", "change", "follows_up_on")
# What a header keeps of a patient (no medications, allergies or lab results).
PATIENT_HEADER_OMITS = ("medications", "allergies", "labs")


def in_full(role: str | None, staff_id: str, item: Mapping[str, Any]) -> bool:
    """Whether this person receives the item in full (else as a header)."""
    if role in CLINICAL_ROLES:
        return True
    if item.get("assignee_id") == staff_id:
        return True
    own_queue = ROLE_QUEUE.get(Role(role)) if role in Role.values() else None
    if role == Role.ADMIN or own_queue is None:
        return False
    if item.get("queue") == own_queue:
        return True  # routed to the person's own queue: their work
    return is_administrative(item)


def receives_charts(role: str | None) -> bool:
    """Whether this person receives patients' medications and allergies: the clinical roles
    only. Scheduling and administration do not need them (an item opened with a reason shows
    its messages, not the chart)."""
    return role in CLINICAL_ROLES


def is_administrative(item: Mapping[str, Any]) -> bool:
    """Scheduling and administrative work: appointments and non-clinical messages. A message
    without a known category is treated as clinical (in doubt, it stays restricted)."""
    kind = item.get("kind")
    if kind == Kind.APPOINTMENT:
        return True
    if kind == Kind.MESSAGE:
        category = (item.get("details") or {}).get("category")
        return category in (MessageCategory.BILLING, MessageCategory.RECORDS, MessageCategory.OTHER)
    return False


def header(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as a header: no entries, only the details that say what kind of work it is,
    the clock marks its response clocks need (when answered, paused, resumed, done) and the
    categories of its red flags."""
    details = item.get("details") or {}
    return {
        **item,
        "details": {key: details[key] for key in HEADER_DETAILS if key in details},
        "entries": [],
        "restricted": True,
        "clock_marks": [{"at": rfc3339(mark.at), "kind": mark.kind} for mark in history(item)],
        # What the screening found, without the patient's words: the red-flag banner and the
        # rule that lowering such an item takes a reason work on a header too.
        "red_flag_categories": categories_of(item),
    }


def patient_header(patient: Mapping[str, Any]) -> dict[str, Any]:
    """A patient as a header's patient: who, not what they take or react to."""
    return {key: value for key, value in patient.items() if key not in PATIENT_HEADER_OMITS}
