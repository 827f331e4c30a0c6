"""The demo practice: staff, patients with charts, and a few hundred requests in every state.

Deterministic for a given random seed: the same names, charts, texts and relative ages (times
are placed relative to the moment of seeding, so the SLA clocks look live).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from triage_core import protocol, triage
from triage_core.screening import Screening, screen

from .. import audit, changes
from ..db import Database
from ..items import CHANGE_CHANNEL
from ..models import Entry, Item, Patient, Policy, Staff, rfc3339, utcnow
from ..security import hash_password
from ..urgency import red_flag_data
from . import data

DEMO_PASSWORD = "demo"


class SeedError(RuntimeError):
    """The database cannot be seeded (it already holds a practice)."""


@dataclass(frozen=True)
class SeedSummary:
    staff: int
    patients: int
    items: int
    entries: int


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def seed_demo(
    db: Database,
    *,
    random_seed: int = 1,
    patients: int = 300,
    items: int = 360,
    password_profile: str = "standard",
    now: datetime | None = None,
) -> SeedSummary:
    """Fill an empty database with the demo practice."""
    rng = random.Random(random_seed)
    new_id = _Ids(rng)
    now = now or utcnow()
    with db.read() as session:
        if session.scalar(select(func.count()).select_from(Staff)):
            raise SeedError("the database already holds staff accounts; seed only an empty one")
    staff_rows = _staff(new_id, password_profile)
    clinicians = [s["id"] for s in staff_rows if s["role"] == "clinician"]
    policy = data.demo_policy(on_call=clinicians[0])
    patient_hash = hash_password(DEMO_PASSWORD, password_profile)
    patient_rows = [
        _patient(rng, new_id, i, now, clinicians, patient_hash) for i in range(patients)
    ]
    builder = _ItemBuilder(rng, new_id, now, staff_rows, patient_rows, policy)
    item_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    for _ in range(items):
        item, entries = builder.build()
        item_rows.append(item)
        entry_rows.extend(entries)
    # Feed order follows the last change, as it would have happened.
    item_rows.sort(key=lambda row: row["updated_at"])
    with db.write() as session:
        session.execute(insert(Staff), staff_rows)
        for start in range(0, len(patient_rows), 1000):
            session.execute(insert(Patient), patient_rows[start : start + 1000])
        positions = changes.stamp_many(session, len(item_rows))
        for row, position in zip(item_rows, positions, strict=True):
            row["change_txid"], row["change_seq"] = position.txid, position.seq
        for start in range(0, len(item_rows), 2000):
            session.execute(insert(Item), item_rows[start : start + 2000])
        for start in range(0, len(entry_rows), 5000):
            session.execute(insert(Entry), entry_rows[start : start + 5000])
        if session.get(Policy, 1) is None:
            session.add(Policy(id=1, document=policy, version=1, updated_at=now))
        audit.append(
            session,
            actor_kind="system",
            actor_id=None,
            action="system.seed_demo",
            detail={"patients": patients, "items": items, "random_seed": random_seed},
        )
        if db.postgres:
            session.execute(select(func.pg_notify(CHANGE_CHANNEL, "")))
        session.info["items_changed"] = True
    return SeedSummary(len(staff_rows), len(patient_rows), len(item_rows), len(entry_rows))


def _staff(new_id: _Ids, profile: str) -> list[dict[str, Any]]:
    password = hash_password(DEMO_PASSWORD, profile)
    return [
        {
            "id": new_id(),
            "username": username,
            "display_name": name,
            "role": role,
            "active": True,
            "password_hash": password,
            "created_at": utcnow(),
        }
        for username, name, role in data.STAFF
    ]


def _phone(rng: random.Random) -> str:
    # 555-01xx numbers are reserved for fiction.
    return (
        f"({rng.choice(('212', '315', '518', '585', '607', '716'))}) 555-01{rng.randint(0, 99):02d}"
    )


def _patient(
    rng: random.Random,
    new_id: _Ids,
    index: int,
    now: datetime,
    clinicians: list[str],
    password_hash: str,
) -> dict[str, Any]:
    given = rng.choice(data.GIVEN_NAMES)
    family = rng.choice(data.FAMILY_NAMES)
    age_days = rng.randint(18 * 365, 92 * 365) if rng.random() < 0.9 else rng.randint(365, 17 * 365)
    birth = (now - timedelta(days=age_days)).date()
    meds: list[dict[str, Any]] = []
    for med in rng.sample(data.MEDICATIONS, k=rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6))):
        name, strength, form, sig, controlled, quantity = med
        if any(m["name"] == name for m in meds):
            continue
        meds.append(
            {
                "name": name,
                "strength": strength,
                "form": form,
                "sig": sig,
                "controlled": controlled,
                "quantity": quantity,
                "last_filled_on": (now - timedelta(days=rng.randint(5, 95))).date().isoformat(),
                "prescriber_id": rng.choice(clinicians),
            }
        )
    allergies = [
        {"substance": s, "reaction": r}
        for s, r in rng.sample(data.ALLERGIES, k=rng.choice((0, 0, 0, 1, 1, 2)))
    ]
    number = index + 1
    return {
        "id": new_id(),
        "username": f"patient{number}",
        "password_hash": password_hash,
        "mrn": f"{data.PRACTICE['mrn_prefix']}{100000 + number * 7:06d}",
        "given_name": given,
        "family_name": family,
        "birth_date": birth,
        "phone": _phone(rng),
        "email": _email(given, family, number),
        "medications": meds,
        "allergies": allergies,
        "last_visit_on": (now - timedelta(days=rng.randint(10, 700))).date(),
        "pcp_id": rng.choice(clinicians),
    }


def _email(given: str, family: str, number: int) -> str:
    local = f"{given}.{family}{number}".lower().replace("'", "")
    return f"{local}@{data.PRACTICE['email_domain']}"


class _ItemBuilder:
    def __init__(
        self,
        rng: random.Random,
        new_id: _Ids,
        now: datetime,
        staff: list[dict[str, Any]],
        patients: list[dict[str, Any]],
        policy: dict[str, Any],
    ) -> None:
        self.rng = rng
        self.policy = policy
        self.new_id = new_id
        self.now = now
        self.patients = patients
        self.by_role: dict[str, list[dict[str, Any]]] = {}
        for member in staff:
            self.by_role.setdefault(member["role"], []).append(member)

    def _staff_for(self, queue: str) -> dict[str, Any]:
        role = {"front_desk": "front_desk", "nursing": "nurse", "clinician": "clinician"}[queue]
        return self.rng.choice(self.by_role[role])

    def _age(self, status: str) -> timedelta:
        """Open work is mostly fresh, with a few items past their targets; closed work spreads
        over three weeks."""
        rng = self.rng
        if status in ("done", "cancelled"):
            return timedelta(hours=rng.uniform(2, 21 * 24))
        if status == "waiting_patient":
            return timedelta(hours=rng.uniform(6, 6 * 24))
        if rng.random() < 0.07:  # overdue
            return timedelta(hours=rng.uniform(3 * 24, 8 * 24))
        if status == "new":
            return timedelta(minutes=rng.uniform(3, 36 * 60))
        return timedelta(minutes=rng.uniform(30, 60 * 60))

    def build(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = self.rng
        patient = rng.choice(self.patients)
        kind = rng.choices(("refill", "appointment", "message"), weights=(35, 25, 40))[0]
        status = rng.choices(
            ("new", "open", "waiting_patient", "done", "cancelled"), weights=(28, 27, 10, 30, 5)
        )[0]
        created = self.now - self._age(status)
        urgent = rng.random() < 0.08  # picks an urgent text; screening decides the priority
        if kind == "refill":
            subject, body, details, queue = self._refill(patient, urgent)
        elif kind == "appointment":
            subject, body, details, queue = self._appointment(created)
        else:
            subject, body, details, queue = self._message(patient, urgent)
        item_id = self.new_id()
        entries: list[dict[str, Any]] = []
        clock = created

        def add(
            type_: str,
            author_kind: str,
            author_id: str | None,
            text: str,
            data_: dict[str, Any] | None = None,
        ) -> None:
            nonlocal clock
            entries.append(
                {
                    "id": self.new_id(),
                    "item_id": item_id,
                    "position": len(entries) + 1,
                    "type": type_,
                    "author_kind": author_kind,
                    "author_id": author_id,
                    "body": text,
                    "created_at": clock,
                    "data": data_ or {},
                }
            )

        def later(max_fraction: float = 0.3) -> None:
            """The next step: usually within hours, sometimes a day or two (as in a real
            practice, most requests meet their targets and a few do not)."""
            nonlocal clock
            remaining = (self.now - clock).total_seconds()
            if rng.random() < 0.85:
                step = rng.uniform(10 * 60, 5 * 3600)
            else:
                step = rng.uniform(0.05, max_fraction) * max(remaining, 60)
            clock = min(clock + timedelta(seconds=min(step, max(remaining, 0))), self.now)

        priority = "routine"
        urgent_since: datetime | None = None
        assignee: str | None = None

        def patient_message(text: str, screening: Screening, follow_up: bool) -> None:
            """As the service does it: the flags on the entry, the item urgent (and out of
            the front desk), the automatic safety reply at once."""
            nonlocal priority, queue, urgent_since, assignee
            add("patient_message", "patient", patient["id"], text, red_flag_data(screening))
            if not screening.flagged:
                return
            response = triage.respond_to_red_flags(
                {"priority": priority, "queue": queue, "assignee_id": assignee},
                list(screening.categories),
                self.policy,
                follow_up=follow_up,
            )
            priority = response.changes.get("priority") or priority
            queue = response.changes.get("queue") or queue
            if "assignee_id" in response.changes:
                assignee = None
            urgent_since = clock
            for entry in response.entries:
                add(entry.type.value, "system", None, entry.body, entry.data)

        patient_message(body, screen(subject, body), follow_up=False)
        first_response_at = None
        resolved_at = None
        if status != "new":
            worker = self._staff_for(queue)
            if status != "cancelled" and rng.random() < 0.8:
                later()
                assignee = worker["id"]
                add(
                    "event",
                    "staff",
                    worker["id"],
                    "Claimed",
                    {"action": "claim", "assignee_id": worker["id"]},
                )
            if rng.random() < 0.4:
                later()
                add("internal_note", "staff", worker["id"], rng.choice(data.INTERNAL_NOTES))
                add("event", "staff", worker["id"], "Added a note", {"action": "note"})
            replied = (
                status == "waiting_patient"
                or (status == "done" and kind != "refill")
                or (status == "open" and rng.random() < 0.3)
            )
            if replied:
                later()
                reply = rng.choice(data.STAFF_REPLIES[kind]).format(
                    first=patient["given_name"], provider=rng.choice(data.PROVIDERS)
                )
                add("staff_reply", "staff", worker["id"], reply)
                add("event", "staff", worker["id"], "Replied", {"action": "reply"})
                first_response_at = clock
            if status == "waiting_patient":
                add(
                    "event", "staff", worker["id"], "Waiting on patient", {"action": "wait_patient"}
                )
            if status == "done":
                later(0.5)
                decider = worker
                if kind == "refill":
                    decider = self.rng.choice(self.by_role["clinician"])
                    outcome = rng.choices(("approved", "denied", "modified"), weights=(80, 8, 12))[
                        0
                    ]
                    details["decision"] = {
                        "outcome": outcome,
                        "quantity": details.get("quantity_requested")
                        if outcome != "denied"
                        else None,
                        "refills": rng.choice((0, 1, 3)) if outcome != "denied" else None,
                        "note": None
                        if outcome == "approved"
                        else "Needs a visit before more refills.",
                        "decided_by": decider["id"],
                        "decided_at": rfc3339(clock),
                    }
                    add(
                        "event",
                        "staff",
                        decider["id"],
                        f"Refill {outcome}",
                        {"action": "refill_decision", "outcome": outcome},
                    )
                    first_response_at = first_response_at or clock
                elif kind == "appointment" and details["change"] != "cancel" and rng.random() < 0.8:
                    starts = (clock + timedelta(days=rng.randint(2, 20))).replace(
                        minute=rng.choice((0, 20, 40)), second=0, microsecond=0
                    )
                    details["decision"] = {
                        "outcome": "confirmed",
                        "starts_at": rfc3339(starts),
                        "note": None,
                        "decided_by": decider["id"],
                        "decided_at": rfc3339(clock),
                    }
                    add(
                        "event",
                        "staff",
                        decider["id"],
                        "Appointment confirmed",
                        {"action": "appointment_decision", "outcome": "confirmed"},
                    )
                    first_response_at = first_response_at or clock
                else:
                    add("event", "staff", decider["id"], "Marked done", {"action": "resolve"})
                resolved_at = clock
            if status == "cancelled":
                later()
                add(
                    "event",
                    "patient",
                    patient["id"],
                    "Cancelled by the patient",
                    {"action": "patient_cancel"},
                )
                resolved_at = clock
            if status == "open" and rng.random() < 0.3:
                later()
                text = (
                    rng.choice(data.RED_FLAG_FOLLOW_UPS)
                    if kind == "message" and rng.random() < 0.15
                    else rng.choice(data.FOLLOW_UPS)
                )
                patient_message(text, screen(text, context=[subject, body]), follow_up=True)
        item = {
            "id": item_id,
            "kind": kind,
            "status": status,
            "priority": priority,
            "urgent_since": urgent_since,
            "queue": queue,
            "subject": subject,
            "patient_id": patient["id"],
            "assignee_id": assignee,
            "created_at": created,
            "updated_at": clock,
            "first_response_at": first_response_at,
            "resolved_at": resolved_at,
            "version": len(entries),
            "details": details,
        }
        return item, entries

    def _refill(
        self, patient: dict[str, Any], urgent: bool
    ) -> tuple[str, str, dict[str, Any], str]:
        rng = self.rng
        meds = patient["medications"]
        if meds:
            med = rng.choice(meds)
            medication = {k: med[k] for k in ("name", "strength", "form", "sig")}
            controlled, quantity, last = med["controlled"], med["quantity"], med["last_filled_on"]
        else:
            name, strength, form, sig, controlled, quantity = rng.choice(data.MEDICATIONS)
            medication = {"name": name, "strength": strength, "form": form, "sig": sig}
            last = None
        body = rng.choice(data.REFILL_NOTES)
        if urgent:
            body = "I am completely out and it is urgent. Please send it today if you can."
        details = {
            "medication": medication,
            "quantity_requested": quantity,
            "pharmacy": rng.choice(data.PHARMACIES),
            "last_filled_on": last,
            "controlled": controlled,
            "decision": None,
        }
        # The protocol pre-check as the service makes it when a request arrives.
        chart = {key: patient.get(key) for key in ("medications", "allergies", "last_visit_on")}
        verdict = protocol.check_refill(medication, chart, None, self.now.date())
        details["controlled"] = controlled or verdict.controlled is not None
        details["protocol"] = verdict.to_wire(self.now)
        active, _other = protocol.find_active(medication, patient.get("medications") or [])
        details["prescription"] = protocol.prescription_terms(active)
        subject = f"Refill: {medication['name']} {medication['strength']}"
        return (
            subject,
            body,
            details,
            triage.initial_queue("refill", details).value,
        )

    def _appointment(self, created: datetime) -> tuple[str, str, dict[str, Any], str]:
        rng = self.rng
        change = rng.choices(("new", "reschedule", "cancel"), weights=(45, 40, 15))[0]
        current = None
        if change != "new":
            starts = (created + timedelta(days=rng.randint(1, 14))).replace(
                minute=rng.choice((0, 20, 40)), second=0, microsecond=0
            )
            current = {
                "starts_at": rfc3339(starts),
                "provider": rng.choice(data.PROVIDERS),
                "type": rng.choice(data.VISIT_TYPES),
            }
        reason = rng.choice(data.APPOINTMENT_REASONS[change])
        preferred = (
            rng.sample(data.PREFERRED_TIMES, k=rng.randint(1, 3)) if change != "cancel" else []
        )
        details = {
            "change": change,
            "current_appointment": current,
            "preferred_times": preferred,
            "reason": reason,
            "decision": None,
        }
        subject = {
            "new": "New appointment request",
            "reschedule": "Reschedule my appointment",
            "cancel": "Cancel my appointment",
        }[change]
        body = f"{reason}."
        if preferred:
            body += " Best times for me: " + ", ".join(preferred).lower() + "."
        return subject, body, details, "front_desk"

    def _message(
        self, patient: dict[str, Any], urgent: bool
    ) -> tuple[str, str, dict[str, Any], str]:
        rng = self.rng
        if urgent:
            subject, body = rng.choice(data.URGENT_MESSAGES)
            category = "clinical"
        else:
            category = rng.choices(
                ("clinical", "billing", "records", "other"), weights=(55, 15, 18, 12)
            )[0]
            subject, body = rng.choice(data.MESSAGES[category])
        med = patient["medications"][0]["name"] if patient["medications"] else "my medication"
        body = body.replace("{med}", med)
        return (
            subject,
            body,
            {"category": category},
            "nursing" if category == "clinical" else "front_desk",
        )


__all__ = ["DEMO_PASSWORD", "SeedError", "SeedSummary", "seed_demo"]
