"""Escalation: urgent work nobody has picked up goes to the on-call clinician.

An urgent item that is new or open and unclaimed is escalated when
- it became urgent outside the practice's business hours (nobody is in the office), or
- it has stayed unclaimed for the policy's `escalation.unclaimed_minutes` (default 15).

Each urgent episode (`Item.urgent_since`) is escalated once: an `Escalation` row keyed by the
item and that moment, an event entry on the item from `system` (every desktop syncs it), an
audit record `item.escalated`, and one notification per channel in the outbox (`notify.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from triage_core.calendar import BusinessCalendar
from triage_core.red_flags import categories_of
from triage_core.safety import on_call_candidates, unclaimed_minutes
from triage_core.times import rfc3339
from triage_core.vocabulary import WORKLIST_STATUSES, AuthorKind, EntryType, Priority, Role

from .. import audit
from ..db import Database
from ..items import add_system_entry, item_state, load_entries, mark_changed
from ..models import Escalation, Item, Staff, utcnow
from ..urgency import PracticeRules
from .notify import enqueue

log = logging.getLogger(__name__)

UNCLAIMED = "unclaimed"
AFTER_HOURS = "after_hours"
BATCH = 200  # items per run (a run is short; the next one takes the rest)


@dataclass(frozen=True)
class Escalated:
    item_id: str
    reason: str
    on_call_id: str | None


def reason_to_escalate(
    urgent_since: datetime,
    now: datetime,
    minutes: float,
    calendar: BusinessCalendar | None,
) -> str | None:
    """Why an unclaimed urgent item should go to the on-call clinician now (None: not yet)."""
    if urgent_since > now:
        return None  # (a clock ahead of this one's)
    if calendar is not None and not calendar.is_open(urgent_since):
        return AFTER_HOURS
    if now - urgent_since >= timedelta(minutes=minutes):
        return UNCLAIMED
    return None


def _why(reason: str, minutes: float) -> str:
    if reason == AFTER_HOURS:
        return "urgent outside business hours"
    whole = int(minutes) if minutes == int(minutes) else minutes
    return f"urgent and not claimed within {whole} minutes"


class Escalator:
    def __init__(self, db: Database, rules: PracticeRules, channels: list[str]) -> None:
        self.db = db
        self.rules = rules
        self.channels = channels

    def run(self, now: datetime | None = None) -> list[Escalated]:
        now = now or utcnow()
        done: list[Escalated] = []
        with self.db.write() as session:
            policy, calendar = self.rules.read(session)
            minutes = unclaimed_minutes(policy)
            escalated = exists().where(
                Escalation.item_id == Item.id, Escalation.urgent_since == Item.urgent_since
            )
            candidates = session.scalars(
                select(Item)
                .where(
                    Item.urgent_since.is_not(None),
                    Item.priority == Priority.URGENT.value,
                    Item.status.in_([s.value for s in WORKLIST_STATUSES]),
                    Item.assignee_id.is_(None),
                    ~escalated,
                )
                .order_by(Item.urgent_since)
                .limit(BATCH)
            ).all()
            for item in candidates:
                assert item.urgent_since is not None
                reason = reason_to_escalate(item.urgent_since, now, minutes, calendar)
                if reason is None:
                    continue
                escalation = self._escalate(session, item, reason, policy, calendar, minutes, now)
                if escalation is not None:
                    done.append(escalation)
        for escalation in done:
            log.info("escalated item %s (%s)", escalation.item_id, escalation.reason)
        return done

    def _escalate(
        self,
        session: Session,
        item: Item,
        reason: str,
        policy: dict[str, Any],
        calendar: BusinessCalendar | None,
        minutes: float,
        now: datetime,
    ) -> Escalated | None:
        assert item.urgent_since is not None
        local_day = now.astimezone(calendar.tz).date() if calendar else now.date()
        clinician = None
        for staff_id in on_call_candidates(policy, local_day.isoformat()):
            member = session.get(Staff, staff_id)
            if member is not None and member.active and member.role == Role.CLINICIAN:
                clinician = member  # (someone deactivated since the policy named them is not)
                break
        try:
            with session.begin_nested():
                session.add(
                    Escalation(
                        item_id=item.id,
                        urgent_since=item.urgent_since,
                        reason=reason,
                        on_call_id=clinician.id if clinician else None,
                        at=now,
                    )
                )
        except IntegrityError:
            return None  # another process escalated this episode first
        why = _why(reason, minutes)
        body = (
            f"Escalated to {clinician.display_name} (on call): {why}"
            if clinician
            else f"Escalation: {why}, but no one is on call in the policy"
        )
        categories = categories_of(item_state(item, load_entries(session, item.id)))
        add_system_entry(
            session,
            item,
            type=EntryType.EVENT.value,
            body=body,
            data={
                "action": "escalate",
                "reason": reason,
                "on_call_id": clinician.id if clinician else None,
            },
            at=now,
        )
        mark_changed(session, item, now)
        audit.append(
            session,
            actor_kind=AuthorKind.SYSTEM.value,
            actor_id=None,
            action="item.escalated",
            item_id=item.id,
            patient_id=item.patient_id,
            detail={
                "reason": reason,
                "on_call_id": clinician.id if clinician else None,
                "categories": categories,
            },
            at=now,
        )
        payload = {
            "event": "item.escalated",
            "item_id": item.id,
            "kind": item.kind,
            "reason": reason,
            "categories": categories,
            "urgent_since": rfc3339(item.urgent_since),
            "escalated_at": rfc3339(now),
            "practice": policy.get("name", ""),
            "on_call": {"id": clinician.id, "name": clinician.display_name} if clinician else None,
        }
        for channel in self.channels:
            enqueue(session, channel, payload, now)
        if clinician is None:
            log.error("item %s escalated but the policy names nobody on call", item.id)
        return Escalated(item.id, reason, clinician.id if clinician else None)
