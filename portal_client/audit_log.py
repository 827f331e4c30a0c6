"""Reading the audit log on the desktop (administrators): the query, the event in words, CSV.

Plain Python, no Qt: the server filters and pages (`GET /audit`), the cache names patients
and items, and the staff reference list names the people. The log holds ids and choices,
never message text; the one free text is a reason a staff member typed (break the glass,
marking a red-flag item routine), which is shown and exported as given, as plain text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from triage_core.vocabulary import Role

if TYPE_CHECKING:
    from .api import ApiClient
    from .cache.queries import Queries

PAGE = 200  # events asked for at once; "Load older" asks for the next page


@dataclass(frozen=True)
class ActionGroup:
    label: str
    include: tuple[str, ...] = ()  # exact names, or prefixes ending in "."
    exclude: tuple[str, ...] = ()


SIGN_IN_ACTIONS = tuple(
    f"{scope}.{what}"
    for scope in ("staff", "patient")
    for what in (
        "login",
        "login_failed",
        "login_throttled",
        "logout",
        "refresh_reuse",
        "session_idle",
        "session_expired",
    )
)
ACTION_GROUPS: dict[str, ActionGroup] = {
    "all": ActionGroup("All"),
    "viewed": ActionGroup("Viewed", ("item.view",)),
    "break_glass": ActionGroup("Break the glass", ("item.break_glass",)),
    "actions": ActionGroup("Actions", ("item.",), ("item.view", "item.break_glass")),
    "sign_ins": ActionGroup("Sign-ins", SIGN_IN_ACTIONS),
    "sync": ActionGroup("Sync downloads", ("sync.page",)),
}

ACTION_WORDS = {
    "item.view": "Viewed",
    "item.break_glass": "Break the glass",
    "item.escalated": "Escalated to on call",
    "item.claim": "Claimed",
    "item.release": "Released",
    "item.assign": "Assigned",
    "item.route": "Moved to a queue",
    "item.set_priority": "Changed priority",
    "item.reply": "Replied",
    "item.note": "Wrote a note",
    "item.wait_patient": "Waiting on patient",
    "item.resolve": "Marked done",
    "item.reopen": "Reopened",
    "item.refill_decision": "Refill decision",
    "item.appointment_decision": "Appointment decision",
    "sync.page": "Sync download",
    "staff.login": "Signed in",
    "staff.login_failed": "Sign-in failed",
    "staff.login_throttled": "Sign-in refused (locked out)",
    "staff.logout": "Signed out",
    "staff.refresh_reuse": "Session ended (token reused)",
    "staff.session_idle": "Session ended (idle)",
    "staff.session_expired": "Session ended (14 days)",
    "staff.add": "Staff member added",
    "staff.deactivate": "Staff member deactivated",
    "patient.login": "Patient signed in",
    "patient.login_failed": "Patient sign-in failed",
    "patient.login_throttled": "Patient sign-in refused (locked out)",
    "patient.logout": "Patient signed out",
    "patient.refresh_reuse": "Patient session ended (token reused)",
    "patient.request": "Patient request",
    "patient.message": "Patient message",
    "patient.cancel": "Patient withdrew a request",
    "policy.update": "Practice policy changed",
    "system.seed_demo": "Demo practice created",
}
ACTOR_WORDS = {"patient": "Patient", "system": "System"}


def action_words(action: str, detail: Mapping[str, Any] | None = None) -> str:
    """`item.view` → "Viewed"; an unknown `item.x_y` → "X y" (new actions still read)."""
    words = ACTION_WORDS.get(action)
    if words is None:
        tail = action.rsplit(".", 1)[-1].replace("_", " ").strip() or action
        words = tail[:1].upper() + tail[1:]
    if action == "item.view" and detail and detail.get("source") == "desktop":
        words += " (desktop)"
    return words


def detail_words(
    action: str, detail: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> str:
    """The detail in one line: "reason: covering for Dr. Patel", "items: 500, restricted: 3";
    a staff id among `names` reads as the name ("on call: Dr. Priya Patel")."""
    if not detail:
        return ""
    keys = sorted(detail, key=lambda key: (key != "reason", key))  # a reason first
    parts = []
    for key in keys:
        value = detail[key]
        if names and isinstance(value, str) and value in names:
            value = names[value]
            key = key.removesuffix("_id")
        if isinstance(value, list | tuple):
            value = ", ".join(str(part) for part in value)
        elif isinstance(value, dict):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False)
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


@dataclass(frozen=True)
class AuditQuery:
    """One filter of the log; `older()` is the same filter's next page back."""

    patient_id: str | None = None
    actor_id: str | None = None
    group: str = "all"
    start: date | None = None  # practice dates, inclusive
    end: date | None = None
    break_glass: bool = False
    before_seq: int | None = None
    limit: int = PAGE

    def params(self, tz: ZoneInfo | None = None) -> dict[str, Any]:
        """Query parameters for `GET /audit`: the date range as practice days, in UTC."""
        zone = tz or ZoneInfo("UTC")
        params: dict[str, Any] = {"limit": self.limit}
        if self.patient_id:
            params["patient_id"] = self.patient_id
        if self.actor_id:
            params["actor_id"] = self.actor_id
        if self.break_glass:
            params["break_glass"] = "true"
        else:
            group = ACTION_GROUPS[self.group]
            if group.include:
                params["action"] = list(group.include)
            if group.exclude:
                params["exclude_action"] = list(group.exclude)
        if self.start is not None:
            params["since"] = _utc_text(datetime.combine(self.start, time(0), zone))
        if self.end is not None:
            next_day = datetime.combine(self.end + timedelta(days=1), time(0), zone)
            params["until"] = _utc_text(next_day)
        if self.before_seq is not None:
            params["before_seq"] = self.before_seq
        return params

    def older(self, before_seq: int) -> AuditQuery:
        return replace(self, before_seq=before_seq)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditRow:
    """One event, ready to show: words for people, ids kept for the export."""

    seq: int
    at: datetime  # UTC
    time_text: str  # practice time
    actor_kind: str
    actor_id: str | None
    staff_name: str
    staff_role: str
    action: str
    action_text: str
    patient_id: str | None
    patient_name: str
    mrn: str
    item_id: str | None
    subject: str
    ip: str
    detail: dict[str, Any] = field(default_factory=dict)
    detail_text: str = ""

    @property
    def staff_text(self) -> str:
        return f"{self.staff_name} · {self.staff_role}" if self.staff_role else self.staff_name

    @property
    def reason(self) -> str:
        return str(self.detail.get("reason") or "")


@dataclass(frozen=True)
class AuditPage:
    query: AuditQuery
    rows: tuple[AuditRow, ...]
    next_before_seq: int | None


def rows_from_events(
    events: Iterable[Mapping[str, Any]],
    *,
    staff: Iterable[Mapping[str, Any]],
    patients: Mapping[str, tuple[str, str]],
    subjects: Mapping[str, str],
    tz: ZoneInfo | None = None,
) -> list[AuditRow]:
    """Name everything an event mentions: staff from the reference list, patients and items
    from the cache (an id not cached shows as "not on this computer")."""
    zone = tz or ZoneInfo("UTC")
    people = {str(m["id"]): (str(m["display_name"]), str(m.get("role") or "")) for m in staff}
    named = {staff_id: name for staff_id, (name, _role) in people.items()}
    rows = []
    for event in events:
        actor = event.get("actor") or {}
        kind = str(actor.get("kind") or "")
        actor_id = actor.get("id")
        if kind == "staff" and actor_id in people:
            name, role = people[actor_id]
            role = Role.describe(role)
            role = role[:1].upper() + role[1:]
        elif kind == "staff":
            name, role = ("Unknown staff member" if actor_id else "Unknown user"), ""
        else:
            name, role = ACTOR_WORDS.get(kind, kind.capitalize()), ""
        patient_id = event.get("patient_id")
        patient_name, mrn = (
            patients.get(patient_id, ("(not on this computer)", "")) if patient_id else ("", "")
        )
        item_id = event.get("item_id")
        detail = dict(event.get("detail") or {})
        at = datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        action = str(event["action"])
        rows.append(
            AuditRow(
                seq=int(event["seq"]),
                at=at,
                time_text=at.astimezone(zone).strftime("%a %d %b %Y %H:%M:%S"),
                actor_kind=kind,
                actor_id=actor_id,
                staff_name=name,
                staff_role=role,
                action=action,
                action_text=action_words(action, detail),
                patient_id=patient_id,
                patient_name=patient_name,
                mrn=mrn,
                item_id=item_id,
                subject=subjects.get(item_id, "") if item_id else "",
                ip=str(event.get("ip") or ""),
                detail=detail,
                detail_text=detail_words(action, detail, named),
            )
        )
    return rows


def fetch_page(
    api: ApiClient,
    queries: Queries,
    query: AuditQuery,
    staff: Iterable[Mapping[str, Any]],
    tz: ZoneInfo | None = None,
) -> AuditPage:
    """One page from the server, named from the cache (a worker's job: network and cache)."""
    reply = api.audit(query.params(tz))
    events = list(reply["events"])
    patient_ids = {str(e["patient_id"]) for e in events if e.get("patient_id")}
    item_ids = {str(e["item_id"]) for e in events if e.get("item_id")}
    patients, subjects = queries.audit_names(patient_ids, item_ids)
    rows = rows_from_events(events, staff=staff, patients=patients, subjects=subjects, tz=tz)
    following = reply.get("next_before_seq")
    return AuditPage(query, tuple(rows), following if isinstance(following, int) else None)


CSV_HEADER = (
    "seq",
    "time (practice)",
    "time (UTC)",
    "staff member",
    "role",
    "actor kind",
    "actor id",
    "action",
    "action in words",
    "patient",
    "MRN",
    "patient id",
    "item id",
    "ip",
    "detail",
)


def _cell(value: object) -> str:
    """Plain text a spreadsheet will not run: a leading =, +, -, @ (or tab, CR) is a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(path: str | Path, rows: Iterable[AuditRow]) -> int:
    """The rows as shown, one line each, with a header; the item subject (patient-written)
    is left out, the item id is kept. Returns how many rows were written."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow(
                [
                    _cell(value)
                    for value in (
                        row.seq,
                        row.time_text,
                        _utc_text(row.at),
                        row.staff_name,
                        row.staff_role,
                        row.actor_kind,
                        row.actor_id,
                        row.action,
                        row.action_text,
                        row.patient_name,
                        row.mrn,
                        row.patient_id,
                        row.item_id,
                        row.ip,
                        json.dumps(row.detail, sort_keys=True, ensure_ascii=False)
                        if row.detail
                        else "",
                    )
                ]
            )
            count += 1
    return count


def chain_words(chain: Mapping[str, Any]) -> tuple[str, bool]:
    """("Audit chain intact: 12,345 events verified", True), or the break in words."""
    checked = int(chain.get("checked") or 0)
    if chain.get("intact"):
        return f"Audit chain intact: {checked:,} events verified", True
    seq = chain.get("first_broken_seq")
    reason = chain.get("reason") or "the chain does not hold"
    return (
        f"Audit chain BROKEN at event {seq}: {reason} ({checked:,} events before it verified)",
        False,
    )


def find_patient(text: str, choices: Iterable[tuple[str, str, str]]) -> tuple[str, str, str] | None:
    """The patient a typed text means: an MRN exactly, or a picker entry's words."""
    wanted = text.strip()
    if not wanted:
        return None
    lowered = wanted.casefold()
    for choice in choices:
        mrn = choice[2]
        if (mrn and mrn.casefold() == lowered) or patient_choice_text(choice).casefold() == lowered:
            return choice
    return None


def patient_choice_text(choice: tuple[str, str, str]) -> str:
    _id, name, mrn = choice
    return f"{name} · MRN {mrn}" if mrn else name
