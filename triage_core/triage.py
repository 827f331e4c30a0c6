"""Triage of new patient requests: which queue, and red flags that make it urgent.

Pure functions over plain data. Staff can always change queue and priority afterwards; the
point is that a patient writing "chest pain" is never filed as routine by default.
"""

from __future__ import annotations

import re
from typing import Any

from .vocabulary import Kind, MessageCategory, Priority, Queue

RED_FLAGS = (
    r"chest (pain|pressure|tightness)",
    r"short(ness)? of breath|can'?t breathe|trouble breathing|difficulty breathing",
    r"suicid|kill myself|end my life|self[- ]harm",
    r"stroke|face (is )?droop|slurred speech",
    r"severe (pain|bleeding|headache|allergic)",
    r"anaphyla|throat (is )?(closing|swelling)",
    r"fainted|passed out|unconscious|seizure",
    r"coughing (up )?blood|vomiting blood|blood in (my )?stool",
    r"overdos",
    r"fever (of )?(10[3-9]|4[0-9])",
    r"out of (my )?(insulin|inhaler|seizure med|blood thinner)",
    r"urgent|asap|emergency",
)
_RED_FLAG_RE = re.compile("|".join(f"(?:{p})" for p in RED_FLAGS), re.IGNORECASE)


def red_flags(*texts: str) -> list[str]:
    """The red-flag phrases found in the texts (lower-cased, unique, in order)."""
    found: list[str] = []
    for text in texts:
        for match in _RED_FLAG_RE.finditer(text or ""):
            phrase = match.group(0).lower()
            if phrase not in found:
                found.append(phrase)
    return found


def initial_queue(kind: str, details: dict[str, Any]) -> Queue:
    """Appointments and admin questions go to the front desk, clinical work to nursing."""
    if kind == Kind.REFILL:
        return Queue.NURSING
    if kind == Kind.APPOINTMENT:
        return Queue.FRONT_DESK
    if details.get("category") == MessageCategory.CLINICAL:
        return Queue.NURSING
    return Queue.FRONT_DESK


def initial_priority(kind: str, subject: str, body: str) -> Priority:
    return Priority.URGENT if red_flags(subject, body) else Priority.ROUTINE
