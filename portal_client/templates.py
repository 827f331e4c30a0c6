"""Canned replies: fill a template's placeholders from the item, patient, staff and practice."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # unknown placeholders stay visible for the user to fix


def local_time(value: str | None, timezone: str | None) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if timezone:
            moment = moment.astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError):
        return value
    return f"{moment:%A %d %B at %H:%M}".replace(" 0", " ")


def placeholders(
    item: dict[str, Any], patient: dict[str, Any] | None, staff_name: str, policy: dict[str, Any]
) -> dict[str, str]:
    details = item.get("details") or {}
    medication = details.get("medication") or {}
    decision = details.get("decision") or {}
    current = details.get("current_appointment") or {}
    when = decision.get("starts_at") or current.get("starts_at")
    return {
        "patient_first_name": (patient or {}).get("given_name", "") or "there",
        "patient_last_name": (patient or {}).get("family_name", ""),
        "medication": " ".join(
            p for p in (medication.get("name"), medication.get("strength")) if p
        ),
        "pharmacy": details.get("pharmacy") or "your pharmacy",
        "appointment_time": local_time(when, policy.get("timezone")) or "the time we agreed",
        "staff_name": staff_name,
        "practice_name": policy.get("name", ""),
    }


def fill(body: str, values: dict[str, str]) -> str:
    """Fill known placeholders; leave unknown ones (and stray braces) as written."""
    try:
        return string.Formatter().vformat(body, (), _Keep(values))
    except (ValueError, IndexError):
        return body


def templates_for(policy: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [t for t in policy.get("templates", []) if kind in t.get("kinds", [])]


# What the patient is told when a refill is denied, by reason, unless the practice's policy has
# a template for that reason (`denial_reason`). The clinician sees and may change it.
DENIAL_MESSAGES = {
    "needs_visit": (
        "Hi {patient_first_name}, before we can refill {medication} we need to see you. "
        "Our front desk will contact you to book a visit. - {staff_name}, {practice_name}"
    ),
    "needs_labs": (
        "Hi {patient_first_name}, we need up-to-date lab results before refilling "
        "{medication}. Please come in for a blood test; we will refill it once we have the "
        "results. - {staff_name}, {practice_name}"
    ),
    "too_early": (
        "Hi {patient_first_name}, it is too early to refill {medication}: your last supply "
        "should last a while yet. Please ask again closer to when you run out. - {staff_name}"
    ),
    "discontinued": (
        "Hi {patient_first_name}, {medication} has been stopped, so we cannot refill it. If "
        "you have questions, please send us a message or book a visit. - {staff_name}"
    ),
    "sent_elsewhere": (
        "Hi {patient_first_name}, {medication} is prescribed by another clinic; please ask "
        "them for this refill. - {staff_name}, {practice_name}"
    ),
    "other": "Hi {patient_first_name}, we could not refill {medication}. - {staff_name}",
}


def denial_message(policy: dict[str, Any], reason: str, values: dict[str, str]) -> str:
    """The message for a denial: the practice's template for the reason, else the default."""
    for template in policy.get("templates", []):
        if template.get("denial_reason") == reason:
            return fill(str(template.get("body", "")), values)
    return fill(DENIAL_MESSAGES.get(reason, DENIAL_MESSAGES["other"]), values)
