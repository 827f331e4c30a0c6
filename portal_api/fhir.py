"""Chart facts from the EHR: a FHIR R4 `batch` or `transaction` Bundle, validated with the
community's models (`fhir.resources`, R4B), applied whole or not at all.

What a practice's EHR sends and where it lands on the patient's chart:

- Patient (the MRN is its identifier with system `urn:triage-desk:mrn`): the patient, created
  or updated by MRN;
- MedicationRequest: `active` is a prescription on the list (RxNorm code, name and strength,
  sig, quantity, days supply, refills); any other status takes it off the list;
- MedicationDispense: the prescription's last fill (`whenHandedOver`);
- Encounter (`finished`): the last visit;
- Observation (LOINC): a lab result with its date;
- AllergyIntolerance: an allergy (substance, reaction), `inactive`/`resolved` removes it.

Resources refer to their patient by `Patient/<id>` or the `urn:uuid:` full URL of a Patient in
the same bundle, or by identifier (`{"identifier": {"system": "urn:triage-desk:mrn", ...}}`).
Each is upserted by its own identifier (else by its code and date), so sending a bundle twice
changes nothing. A refill still open for a patient whose chart changed is checked again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage_core import protocol, triage
from triage_core.times import rfc3339
from triage_core.vocabulary import Kind, Queue, Status

from . import audit
from .db import Database
from .items import mark_changed
from .models import Item, Patient, Policy, utcnow

MRN_SYSTEM = "urn:triage-desk:mrn"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
KINDS = (
    "Patient",
    "MedicationRequest",
    "MedicationDispense",
    "Encounter",
    "Observation",
    "AllergyIntolerance",
)
_STRENGTH = re.compile(
    r"^(?P<name>.*?)\s+(?P<strength>\d+(?:\.\d+)?\s*(?:mg|mcg|g|unt|units?|ml|%|meq)"
    r"(?:\s*/\s*(?:\d+(?:\.\d+)?\s*)?(?:ml|mg|actuat|hr|spray))?)\b(?P<rest>.*)$",
    re.IGNORECASE,
)


class FhirRefused(Exception):
    """A bundle that cannot be applied: `outcome` is the FHIR OperationOutcome saying why."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("bundle refused")
        self.outcome = outcome


def operation_outcome(issues: list[tuple[str, str]]) -> dict[str, Any]:
    """An OperationOutcome: (where, what) pairs, never the submitted values (they may hold
    patient data)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": what, "expression": [where]}
            for where, what in issues
        ],
    }


@dataclass
class ImportReport:
    patients: set[str] = field(default_factory=set)  # patient ids touched
    counts: dict[str, int] = field(default_factory=dict)
    rechecked: int = 0
    responses: list[dict[str, Any]] = field(default_factory=list)


# ---- validating -------------------------------------------------------------------------------


def validate_bundle(document: Any) -> list[dict[str, Any]]:
    """The bundle's resources as plain JSON after validation by the R4B models; raise
    `FhirRefused` naming every invalid resource."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        raise FhirRefused(operation_outcome([("Bundle", "The body must be a FHIR Bundle.")]))
    if document.get("type") not in ("batch", "transaction"):
        raise FhirRefused(
            operation_outcome([("Bundle.type", "Bundle.type must be batch or transaction.")])
        )
    try:
        bundle = Bundle.model_validate(document)
    except ValidationError as exc:
        raise FhirRefused(operation_outcome(_issues(document, exc))) from None
    resources: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    for n, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if resource is None:
            problems.append((f"Bundle.entry[{n}]", "The entry has no resource."))
            continue
        kind = resource.get_resource_type()
        if kind not in KINDS:
            problems.append(
                (
                    f"Bundle.entry[{n}].resource",
                    f"{kind} is not imported (only {', '.join(KINDS)}).",
                )
            )
            continue
        plain = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
        plain["_fullUrl"] = entry.fullUrl
        plain["_entry"] = n
        resources.append(plain)
    if problems:
        raise FhirRefused(operation_outcome(problems))
    return resources


def _issues(document: Mapping[str, Any], exc: ValidationError) -> list[tuple[str, str]]:
    issues = []
    entries = document.get("entry") or []
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        where = "Bundle"
        if len(loc) >= 2 and loc[0] == "entry" and loc[1].isdigit():
            n = int(loc[1])
            entry = entries[n] if n < len(entries) and isinstance(entries[n], Mapping) else {}
            kind = (entry.get("resource") or {}).get("resourceType", "resource")
            where = f"Bundle.entry[{n}].resource ({kind})." + ".".join(loc[3:])
        else:
            where = "Bundle." + ".".join(loc)
        issues.append((where.rstrip("."), str(error["msg"])))
    return issues


# ---- applying ---------------------------------------------------------------------------------


def _coding(concept: Mapping[str, Any] | None, system: str) -> Mapping[str, Any] | None:
    for coding in (concept or {}).get("coding") or []:
        if isinstance(coding, Mapping) and coding.get("system") == system:
            return dict(coding)
    return None


def _concept_text(concept: Mapping[str, Any] | None) -> str:
    concept = concept or {}
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    return ""


def _identifier(resource: Mapping[str, Any]) -> str | None:
    for identifier in resource.get("identifier") or []:
        if identifier.get("value"):
            return f"{identifier.get('system', '')}|{identifier['value']}"
    return None


def _mrn(resource: Mapping[str, Any]) -> str | None:
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == MRN_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    return None


def _day(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def split_name(text: str) -> tuple[str, str, str]:
    """("Lisinopril", "10 mg", "oral tablet") from "Lisinopril 10 MG Oral Tablet"."""
    match = _STRENGTH.match(text.strip())
    if not match:
        return text.strip(), "", ""
    strength = re.sub(r"\s+", " ", match.group("strength")).lower().replace("unt", "units")
    strength = re.sub(r"(\d)([a-z%])", r"\1 \2", strength)
    return match.group("name").strip(), strength, match.group("rest").strip().lower()


class FhirImport:
    def __init__(self, db: Database) -> None:
        self.db = db

    def apply(
        self, document: Any, *, actor_id: str | None, ip: str | None = None
    ) -> dict[str, Any]:
        """Validate, then apply everything in one transaction; the batch/transaction-response."""
        resources = validate_bundle(document)
        kind = str(document.get("type"))
        now = utcnow()
        with self.db.write() as session:
            report = ImportReport()
            patients = self._patients(session, resources, report, now)
            for resource in resources:
                if resource["resourceType"] != "Patient":
                    patient = self._patient_of(session, resource, patients)
                    self._apply_one(patient, resource, report)
            report.rechecked = self._recheck(session, report.patients, now)
            audit.append(
                session,
                actor_kind="staff" if actor_id else "system",
                actor_id=actor_id,
                action="fhir.import",
                ip=ip,
                detail={
                    "resources": dict(sorted(report.counts.items())),
                    "patients": len(report.patients),
                    "refills_rechecked": report.rechecked,
                },
            )
        return {
            "resourceType": "Bundle",
            "type": f"{kind}-response",
            "entry": [
                {"response": {k: v for k, v in response.items() if k != "_entry"}}
                for response in sorted(report.responses, key=lambda r: int(r["_entry"]))
            ],
        }

    # -- patients

    def _patients(
        self,
        session: Session,
        resources: list[dict[str, Any]],
        report: ImportReport,
        now: datetime,
    ) -> dict[str, Patient]:
        """Patients of the bundle by every name a resource may use for them."""
        known: dict[str, Patient] = {}
        for resource in resources:
            if resource["resourceType"] != "Patient":
                continue
            mrn = _mrn(resource)
            if mrn is None:
                raise FhirRefused(
                    operation_outcome(
                        [
                            (
                                f"Bundle.entry[{resource['_entry']}].resource (Patient).identifier",
                                f"A Patient needs an identifier with system {MRN_SYSTEM}.",
                            )
                        ]
                    )
                )
            patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).first()
            created = patient is None
            if patient is None:
                patient = Patient(mrn=mrn, medications=[], allergies=[], labs=[])
                session.add(patient)
            self._set_demographics(patient, resource)
            if patient.birth_date is None or not patient.given_name:
                raise FhirRefused(
                    operation_outcome(
                        [
                            (
                                f"Bundle.entry[{resource['_entry']}].resource (Patient)",
                                "A new Patient needs a name and a birthDate.",
                            )
                        ]
                    )
                )
            session.flush()
            for alias in (resource.get("_fullUrl"), f"Patient/{resource.get('id')}", f"mrn:{mrn}"):
                if alias:
                    known[str(alias)] = patient
            report.patients.add(patient.id)
            self._count(
                report, resource, "201 Created" if created else "200 OK", f"Patient/{patient.id}"
            )
        return known

    @staticmethod
    def _set_demographics(patient: Patient, resource: Mapping[str, Any]) -> None:
        names = resource.get("name") or []
        official = next(
            (n for n in names if n.get("use") == "official"), names[0] if names else None
        )
        if official:
            patient.given_name = " ".join(official.get("given") or []) or patient.given_name
            patient.family_name = official.get("family") or patient.family_name or ""
        if resource.get("birthDate"):
            patient.birth_date = date.fromisoformat(str(resource["birthDate"])[:10])
        for telecom in resource.get("telecom") or []:
            if telecom.get("system") == "phone" and telecom.get("value"):
                patient.phone = str(telecom["value"])[:40]
            if telecom.get("system") == "email" and telecom.get("value"):
                patient.email = str(telecom["value"])[:254]

    def _patient_of(
        self, session: Session, resource: Mapping[str, Any], known: Mapping[str, Patient]
    ) -> Patient:
        reference = resource.get("subject") or resource.get("patient") or {}
        target = reference.get("reference")
        if target and target in known:
            return known[target]
        identifier = reference.get("identifier") or {}
        mrn = identifier.get("value") if identifier.get("system") == MRN_SYSTEM else None
        if mrn and f"mrn:{mrn}" in known:
            return known[f"mrn:{mrn}"]
        if mrn:
            patient = session.scalars(select(Patient).where(Patient.mrn == str(mrn))).first()
            if patient is not None:
                return patient
        where = f"Bundle.entry[{resource['_entry']}].resource ({resource['resourceType']})"
        raise FhirRefused(
            operation_outcome(
                [(where, "Its patient is neither in this bundle nor known by MRN here.")]
            )
        )

    # -- chart facts

    def _apply_one(self, patient: Patient, resource: dict[str, Any], report: ImportReport) -> None:
        kind = resource["resourceType"]
        report.patients.add(patient.id)
        if kind == "MedicationRequest":
            self._prescription(patient, resource)
        elif kind == "MedicationDispense":
            self._dispense(patient, resource)
        elif kind == "Encounter":
            if resource.get("status") == "finished":
                day = _day((resource.get("period") or {}).get("start"))
                if day and (
                    patient.last_visit_on is None or day > patient.last_visit_on.isoformat()
                ):
                    patient.last_visit_on = date.fromisoformat(day)
        elif kind == "Observation":
            self._lab(patient, resource)
        elif kind == "AllergyIntolerance":
            self._allergy(patient, resource)
        self._count(report, resource, "200 OK", f"Patient/{patient.id}")

    @staticmethod
    def _count(
        report: ImportReport, resource: Mapping[str, Any], status: str, location: str
    ) -> None:
        kind = str(resource["resourceType"])
        report.counts[kind] = report.counts.get(kind, 0) + 1
        report.responses.append(
            {"status": status, "location": location, "_entry": resource["_entry"]}
        )

    def _prescription(self, patient: Patient, resource: Mapping[str, Any]) -> None:
        concept = resource.get("medicationCodeableConcept") or {}
        coding = _coding(concept, RXNORM)
        name, strength, form = split_name(_concept_text(concept))
        dosage = (resource.get("dosageInstruction") or [{}])[0]
        dispense = resource.get("dispenseRequest") or {}
        supply = dispense.get("expectedSupplyDuration") or {}
        entry: dict[str, Any] = {
            "name": name,
            "strength": strength,
            "form": form,
            "sig": dosage.get("text") or "",
            "rxnorm": coding.get("code") if coding else None,
            "quantity": _int((dispense.get("quantity") or {}).get("value")),
            "days_supply": _int(supply.get("value")) if supply.get("code", "d") == "d" else None,
            "refills": _int(dispense.get("numberOfRepeatsAllowed")),
            "identifier": _identifier(resource),
            "source": "fhir",
        }
        entry["controlled"] = protocol.schedule_of(entry) is not None
        medications = [dict(m) for m in patient.medications or []]
        # The same prescription: by the EHR's identifier, else the same drug and strength.
        kept = next(
            (
                m
                for m in medications
                if (entry["identifier"] and m.get("identifier") == entry["identifier"])
                or protocol.same_medication(m, entry)
            ),
            None,
        )
        if kept is not None:
            medications.remove(kept)
            entry["last_filled_on"] = kept.get("last_filled_on")
        if resource.get("status") == "active":
            medications.append(entry)
        patient.medications = medications

    def _dispense(self, patient: Patient, resource: Mapping[str, Any]) -> None:
        concept = resource.get("medicationCodeableConcept") or {}
        coding = _coding(concept, RXNORM)
        name, strength, _form = split_name(_concept_text(concept))
        filled = _day(resource.get("whenHandedOver"))
        if filled is None:
            return
        code = coding.get("code") if coding else None
        dispensed = {"rxnorm": code, "name": name, "strength": strength}
        medications = [dict(m) for m in patient.medications or []]
        for medication in medications:
            same = protocol.same_medication(medication, dispensed)
            if same and (medication.get("last_filled_on") or "") < filled:
                medication["last_filled_on"] = filled
        patient.medications = medications

    @staticmethod
    def _lab(patient: Patient, resource: Mapping[str, Any]) -> None:
        coding = _coding(resource.get("code"), LOINC)
        day = _day(resource.get("effectiveDateTime") or resource.get("issued"))
        if coding is None or day is None:
            return
        quantity = resource.get("valueQuantity") or {}
        lab = {
            "loinc": coding.get("code"),
            "name": _concept_text(resource.get("code")),
            "date": day,
            "value": quantity.get("value"),
            "unit": quantity.get("unit"),
            "identifier": _identifier(resource),
        }
        key = lab["identifier"] or f"{lab['loinc']}|{day}"
        labs = [
            dict(existing)
            for existing in patient.labs or []
            if (existing.get("identifier") or f"{existing.get('loinc')}|{existing.get('date')}")
            != key
        ]
        labs.append(lab)
        patient.labs = sorted(labs, key=lambda item: str(item.get("date")))

    @staticmethod
    def _allergy(patient: Patient, resource: Mapping[str, Any]) -> None:
        substance = _concept_text(resource.get("code"))
        if not substance:
            return
        reactions = resource.get("reaction") or [{}]
        manifestation = (reactions[0].get("manifestation") or [{}])[0]
        allergy = {"substance": substance, "reaction": _concept_text(manifestation) or None}
        allergies = [
            dict(a)
            for a in patient.allergies or []
            if str(a.get("substance", "")).lower() != substance.lower()
        ]
        status = _concept_text(resource.get("clinicalStatus")).lower()
        if status not in ("inactive", "resolved"):
            allergies.append(allergy)
        patient.allergies = allergies

    # -- the refills waiting on these charts

    @staticmethod
    def _recheck(session: Session, patient_ids: set[str], now: datetime) -> int:
        """Open refills of these patients, checked again against their new chart."""
        from .patient_portal import chart_of, practice_zone

        if not patient_ids:
            return 0
        row = session.get(Policy, 1)
        policy: dict[str, Any] = dict(row.document) if row is not None else {}
        today = now.astimezone(practice_zone(policy)).date()
        items = session.scalars(
            select(Item).where(
                Item.patient_id.in_(sorted(patient_ids)),
                Item.kind == Kind.REFILL.value,
                Item.status.in_(
                    [Status.NEW.value, Status.OPEN.value, Status.WAITING_PATIENT.value]
                ),
            )
        ).all()
        for item in items:
            patient = session.get(Patient, item.patient_id)
            assert patient is not None
            details = dict(item.details or {})
            medication = details.get("medication") or {}
            chart = chart_of(patient)
            verdict = protocol.check_refill(medication, chart, policy.get("refill_protocol"), today)
            active, _other = protocol.find_active(medication, chart["medications"])
            details["protocol"] = verdict.to_wire(now)
            details["prescription"] = protocol.prescription_terms(active)
            details["controlled"] = verdict.controlled is not None
            item.details = details
            if details["controlled"] and item.queue == Queue.NURSING and item.assignee_id is None:
                item.queue = triage.initial_queue(Kind.REFILL, details).value
            mark_changed(session, item, now)
        return len(items)


def _int(value: Any) -> int | None:
    """A whole number from FHIR JSON (decimals arrive as strings: "90", "90.0")."""
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return int(number) if number is not None and number.is_integer() else None


# ---- decided refills, for the EHR -------------------------------------------------------------

REFILL_SYSTEM = "urn:triage-desk:refill"
GRANTED = ("approved", "modified")


def medication_request(item: Any, patient: Any, clinician: str | None) -> dict[str, Any]:
    """An approved or modified refill as a FHIR R4 MedicationRequest (validated by the same
    models as the import)."""
    from fhir.resources.R4B.medicationrequest import MedicationRequest

    details = item.details or {}
    decision = details.get("decision") or {}
    medication = details.get("medication") or {}
    name = " ".join(p for p in (medication.get("name"), medication.get("strength")) if p)
    concept: dict[str, Any] = {"text": name}
    if medication.get("rxnorm"):
        concept["coding"] = [{"system": RXNORM, "code": medication["rxnorm"], "display": name}]
    dispense: dict[str, Any] = {}
    if decision.get("quantity") is not None:
        dispense["quantity"] = {"value": decision["quantity"]}
    if decision.get("days_supply") is not None:
        dispense["expectedSupplyDuration"] = {
            "value": decision["days_supply"],
            "unit": "days",
            "system": "http://unitsofmeasure.org",
            "code": "d",
        }
    if decision.get("refills") is not None:
        dispense["numberOfRepeatsAllowed"] = decision["refills"]
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": item.id,
        "meta": {"lastUpdated": rfc3339(item.updated_at)},
        "identifier": [{"system": REFILL_SYSTEM, "value": item.id}],
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {
            "identifier": {"system": MRN_SYSTEM, "value": patient.mrn},
            "display": f"{patient.given_name} {patient.family_name}".strip(),
        },
        "authoredOn": decision.get("decided_at"),
        "note": [{"text": f"Refill {decision.get('outcome')} in Triage Desk"}],
    }
    if clinician:
        resource["requester"] = {"display": clinician}
    if decision.get("sig") or medication.get("sig"):
        resource["dosageInstruction"] = [{"text": decision.get("sig") or medication.get("sig")}]
    if dispense:
        resource["dispenseRequest"] = dispense
    validated = MedicationRequest.model_validate(resource)
    return dict(validated.model_dump(mode="json", by_alias=True, exclude_none=True))


def decided_refills(
    db: Database, since: datetime | None, count: int, *, strictly_after: bool = False
) -> dict[str, Any]:
    """A searchset Bundle of refills approved or modified, changed at or after `since` (after,
    with `strictly_after`), oldest first; `link` `next` asks for the rest."""
    from .models import Staff

    query = (
        select(Item)
        .where(Item.kind == Kind.REFILL.value, Item.status == Status.DONE.value)
        .order_by(Item.updated_at, Item.id)
    )
    if since is not None:
        query = query.where(Item.updated_at > since if strictly_after else Item.updated_at >= since)
    entries: list[dict[str, Any]] = []
    last: datetime | None = None
    more = False
    with db.read() as session:
        for item in session.scalars(query.execution_options(yield_per=200)):
            decision = (item.details or {}).get("decision") or {}
            if decision.get("outcome") not in GRANTED:
                continue
            if len(entries) == count:
                more = True
                break
            patient = session.get(Patient, item.patient_id)
            staff = (
                session.get(Staff, decision.get("decided_by"))
                if decision.get("decided_by")
                else None
            )
            resource = medication_request(item, patient, staff.display_name if staff else None)
            entries.append({"fullUrl": f"MedicationRequest/{item.id}", "resource": resource})
            last = item.updated_at
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "entry": entries,
    }
    if more and last is not None:
        bundle["link"] = [
            {"relation": "next", "url": f"MedicationRequest?_lastUpdated=gt{rfc3339(last)}"}
        ]
    return bundle


def parse_last_updated(value: str | None) -> tuple[datetime | None, bool]:
    """`_lastUpdated` as FHIR writes it: `ge<instant or date>` or `gt<...>` (no prefix is
    `ge`); raise `FhirRefused` for anything else."""
    if not value:
        return None, False
    prefix, text = (value[:2], value[2:]) if value[:2] in ("ge", "gt") else ("ge", value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        problem = "_lastUpdated must be ge or gt and a date or an instant, like ge2026-11-01."
        raise FhirRefused(operation_outcome([("_lastUpdated", problem)]))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, prefix == "gt"
