"""How long an unattended session may stay open: the desktop's idle lock and the service's
idle timeout. Both sides read the practice policy through these, so their defaults agree and a
policy written before these settings existed still works."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

IDLE_LOCK_MINUTES = 10  # HIPAA automatic logoff: the screen locks after this much idle time
IDLE_LOCK_MAX_MINUTES = 30  # the most a practice may choose
SESSION_IDLE_HOURS = 12  # a login whose refresh token goes unused this long ends
SESSION_IDLE_MAX_HOURS = 14 * 24  # (a refresh token lives 14 days at most anyway)
UNLOCK_TRIES = 5  # wrong passwords in a row on the lock screen before the desktop signs out


def idle_lock_minutes(policy: Mapping[str, Any] | None) -> int:
    """The policy's idle lock, kept within 1 to 30 minutes whatever the document says."""
    value = (policy or {}).get("idle_lock_minutes", IDLE_LOCK_MINUTES)
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = IDLE_LOCK_MINUTES
    return max(1, min(IDLE_LOCK_MAX_MINUTES, minutes))


def session_idle_hours(policy: Mapping[str, Any] | None) -> float:
    value = (policy or {}).get("session_idle_hours", SESSION_IDLE_HOURS)
    try:
        hours = float(value)
    except (TypeError, ValueError):
        hours = float(SESSION_IDLE_HOURS)
    return max(1.0, min(float(SESSION_IDLE_MAX_HOURS), hours))
