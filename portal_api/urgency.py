"""What the service does with every patient message: screen it for red flags, and when it has
any, make the item urgent (and clinical), answer the patient at once with the policy's safety
reply, and tell the patient when the practice expects to reply.

The rules (what is a red flag, which reply, when is the reply due) are the domain core's; this
module applies them to database rows inside the caller's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session

from triage_core import triage
from triage_core.calendar import BusinessCalendar
from triage_core.safety import emergency_guidance, expected_reply_by, promise_words
from triage_core.screening import RedFlag, Screening, screen
from triage_core.times import rfc3339

from .items import add_system_entry
from .models import Item, Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """What a patient's message gets back besides the item."""

    expected_reply_by: datetime | None
    safety_message: str | None
    reply_promise: str | None
    emergency_guidance: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "expected_reply_by": rfc3339(self.expected_reply_by)
            if self.expected_reply_by
            else None,
            "safety_message": self.safety_message,
            "reply_promise": self.reply_promise,
            "emergency_guidance": self.emergency_guidance,
        }


class PracticeRules:
    """The live policy and its business calendar, rebuilt only when the policy's version
    changes (the calendar is costly to build, the version cheap to read)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._version: int | None = None
        self._calendar: BusinessCalendar | None = None

    def read(self, session: Session) -> tuple[dict[str, Any], BusinessCalendar | None]:
        row = session.get(Policy, 1)
        if row is None:
            return {}, None
        with self._lock:
            if row.version != self._version:
                try:
                    self._calendar = BusinessCalendar.from_policy(row.document)
                except (ValueError, KeyError):
                    self._calendar = None
                self._version = row.version
            return row.document, self._calendar


# What a text that could not be screened counts as: in doubt, urgent.
UNSCREENED = Screening(
    (RedFlag("(this message could not be screened)", "unspecified", "unspecified.screening_error"),)
)


def screen_message(*texts: str, earlier: list[str] | None = None) -> Screening:
    """A new request's texts (subject, body, an appointment's reason …), or a follow-up with
    the request's earlier patient texts as context. A failure of the screening itself never
    loses the message: it counts as flagged."""
    try:
        return screen(*texts, context=earlier or ())
    except Exception as exc:  # a bug in a rule must not turn an emergency away
        log.error("screening failed (%s); the message is treated as urgent", type(exc).__name__)
        return UNSCREENED


def red_flag_data(screening: Screening) -> dict[str, Any]:
    """The data of the patient's entry: what matched, for staff to see."""
    return {"red_flags": [flag.to_wire() for flag in screening.flags]} if screening.flagged else {}


def raise_urgency(
    session: Session,
    item: Item,
    screening: Screening,
    policy: dict[str, Any],
    now: datetime,
    *,
    follow_up: bool,
) -> str | None:
    """Make a flagged item urgent and clinical and answer the patient; return the answer."""
    if not screening.flagged:
        return None
    response = triage.respond_to_red_flags(
        {"priority": item.priority, "queue": item.queue, "assignee_id": item.assignee_id},
        list(screening.categories),
        policy,
        follow_up=follow_up,
    )
    for name, value in response.changes.items():
        setattr(item, name, value)
    item.urgent_since = now  # a new urgent episode: escalation counts from here
    for entry in response.entries:
        add_system_entry(
            session, item, type=entry.type.value, body=entry.body, data=entry.data, at=now
        )
    return response.reply


def receipt(
    policy: dict[str, Any],
    calendar: BusinessCalendar | None,
    item: Item,
    now: datetime,
    safety_message: str | None,
) -> Receipt:
    due = (
        expected_reply_by(policy, calendar, item.kind, item.priority, now)
        if calendar is not None and policy
        else None
    )
    words = (
        f"We expect to reply {promise_words(due, policy['timezone'])}." if due is not None else None
    )
    return Receipt(due, safety_message, words, emergency_guidance(policy))
