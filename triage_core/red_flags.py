"""The red flags an item carries: found by screening, stored on the patient's entries as
`data.red_flags` ([{"phrase", "category", "rule"}]), read back here by both sides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .vocabulary import EntryType


def flagged_messages(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The item's patient messages that have red flags, oldest first."""
    return [
        entry
        for entry in item.get("entries") or []
        if entry.get("type") == EntryType.PATIENT_MESSAGE
        and (entry.get("data") or {}).get("red_flags")
    ]


def red_flags_of(item: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every red flag on the item's patient messages, oldest first. A header (no entries, see
    `disclosure.header`) carries its flags' categories only: flags without the patient's words."""
    if item.get("restricted") and item.get("red_flag_categories"):
        return [
            {"phrase": "", "category": str(category), "rule": ""}
            for category in item["red_flag_categories"]
        ]
    return [flag for entry in flagged_messages(item) for flag in entry["data"]["red_flags"]]


def categories_of(item: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(flag.get("category", "") for flag in red_flags_of(item)))
