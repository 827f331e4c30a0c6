"""How much one patient may send: new requests and messages on them, counted together.

One patient filed 150 requests in 2 s; every one landed in the staff's queues. The count is
the patient's own messages (`patient_message` entries they wrote) in a sliding minute and a
sliding day, so nothing extra is stored and a restart forgets nothing. Beyond a limit the
answer is `429` with `Retry-After` and plain words that also say what to do in an emergency.
The limit only counts: a message within it is taken, screened and answered as always (an
urgent one included), and nothing already taken is reordered or dropped. Concurrent sends of
one patient are serialised on their patient row (PostgreSQL; SQLite has one writer), so a burst
cannot slip past the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_core.safety import emergency_guidance
from triage_core.vocabulary import AuthorKind, EntryType

from .errors import ApiError
from .models import Entry, Item, Patient


@dataclass(frozen=True)
class SendingLimits:
    per_minute: int = 10  # 0: no limit
    per_day: int = 60

    def windows(self) -> list[tuple[str, int, timedelta]]:
        return [
            (name, limit, span)
            for name, limit, span in (
                ("minute", self.per_minute, timedelta(minutes=1)),
                ("day", self.per_day, timedelta(days=1)),
            )
            if limit > 0
        ]


def check_sending(
    session: Session,
    limits: SendingLimits,
    patient_id: str,
    now: datetime,
    policy: dict[str, Any],
) -> None:
    """Raise the `429` when this patient's next message would pass a limit."""
    windows = limits.windows()
    if not windows:
        return
    # Hold the patient's row until commit: their concurrent sends count one after another.
    session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    waits: list[tuple[float, str, int]] = []
    for name, limit, span in windows:
        recent = session.scalars(
            select(Entry.created_at)
            .join(Item, Item.id == Entry.item_id)
            .where(
                Item.patient_id == patient_id,
                Entry.author_kind == AuthorKind.PATIENT.value,
                Entry.author_id == patient_id,
                Entry.type == EntryType.PATIENT_MESSAGE.value,
                Entry.created_at > now - span,
            )
            .order_by(Entry.created_at.desc())
            .limit(limit)
        ).all()
        if len(recent) >= limit:
            # Free again when the oldest of the counted messages leaves the window.
            waits.append(((min(recent) + span - now).total_seconds(), name, limit))
    if not waits:
        return
    seconds, name, limit = max(waits)
    retry_after = max(1, math.ceil(seconds))
    guidance = emergency_guidance(policy)
    raise ApiError(
        429,
        "too_many_messages",
        f"You have sent {limit} messages in the last {name}, the most we accept. You can send "
        f"another {_in_words(retry_after)}. {guidance}",
        {"retry_after": retry_after, "limit": name, "emergency_guidance": guidance},
        headers={"Retry-After": str(retry_after)},
    )


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"in {seconds} seconds"
    if seconds < 90 * 60:
        return f"in about {round(seconds / 60)} minutes"
    return f"in about {round(seconds / 3600)} hours"
