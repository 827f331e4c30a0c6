"""The refill protocol pre-check: may a refill be signed by protocol, and why (not).

`check_refill(requested, chart, rules, today)` reads the requested medication (`name`,
`strength`, optional `rxnorm`), the patient's chart (active `medications`, `allergies`,
`last_visit_on`, `labs`) and the practice's rules (the policy's `refill_protocol`, defaults
below) and answers `pass` only when every rule holds; anything unknown is a `review` (a refill
in doubt goes to a person). Every rule's result is kept in plain words with its dates, so the
clinician sees the checklist, not just a verdict.

Rules: on the active list at the same strength; not a controlled substance (DEA schedules
II-V never pass: "check the state PDMP"); a visit within N months; the labs its class needs
(ACE inhibitors, ARBs and diuretics: a basic metabolic panel; statins: a lipid panel;
levothyroxine: TSH; metformin: A1c within 6 months); not too early (at least 75 % of the last
fill's days supply has passed); no recorded allergy to it; no high-risk combination with
another active medication (an opioid with a benzodiazepine, two anticoagulants, ...).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from .times import rfc3339

PASS = "pass"
REVIEW = "review"

BMP = {
    "name": "Basic metabolic panel",
    "loinc": ["51990-0", "24321-2", "24323-8", "2823-3", "2160-0"],
    "within_months": 12,
}
DEFAULT_RULES: dict[str, Any] = {
    "visit_within_months": 12,
    "early_fraction": 0.75,
    "labs": {
        "ace_inhibitor": [BMP],
        "arb": [BMP],
        "diuretic": [BMP],
        "statin": [
            {
                "name": "Lipid panel",
                "loinc": ["57698-3", "24331-1", "2093-3", "13457-7", "18262-6"],
                "within_months": 12,
            }
        ],
        "thyroid": [{"name": "TSH", "loinc": ["3016-3", "11580-8"], "within_months": 12}],
        "metformin": [
            {"name": "Hemoglobin A1c", "loinc": ["4548-4", "17856-6"], "within_months": 6}
        ],
    },
    "high_risk_pairs": [
        ["opioid", "benzodiazepine"],
        ["opioid", "sleep_hypnotic"],
        ["benzodiazepine", "sleep_hypnotic"],
        ["anticoagulant", "anticoagulant"],
        ["opioid", "opioid"],
    ],
}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    ok: bool
    text: str

    def to_wire(self) -> dict[str, Any]:
        return {"rule": self.rule, "ok": self.ok, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "pass" or "review"
    reasons: tuple[RuleResult, ...]
    controlled: str | None = None  # the DEA schedule, when controlled

    def to_wire(self, checked_at: datetime) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "checked_at": rfc3339(checked_at),
            "reasons": [reason.to_wire() for reason in self.reasons],
        }


# ---- what the lexicon knows ---------------------------------------------------------------


@dataclass(frozen=True)
class Knowledge:
    classes: dict[str, tuple[str, ...]]
    schedules: dict[str, str]


@cache
def knowledge() -> Knowledge:
    text = (resources.files("resources") / "lexicons/medications.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return Knowledge(
        {name: tuple(members) for name, members in data["classes"].items()},
        dict(data["schedules"]),
    )


def ingredient(name: str) -> str:
    """The generic ingredient a medication's name starts with ("Metformin ER" → metformin)."""
    words = re.findall(r"[a-z]+", name.lower())
    return words[0] if words else ""


def classes_of(name: str) -> set[str]:
    first = ingredient(name)
    return {cls for cls, members in knowledge().classes.items() if first in members}


def schedule_of(medication: Mapping[str, Any]) -> str | None:
    """The DEA schedule: recorded on the chart, else the lexicon's; a chart's `controlled`
    flag without a schedule still counts as controlled."""
    recorded = medication.get("schedule")
    if recorded:
        return str(recorded)
    known = knowledge().schedules.get(ingredient(str(medication.get("name", ""))))
    if known:
        return known
    return "unknown schedule" if medication.get("controlled") else None


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", str(text or "").lower())


def same_medication(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """The same drug and strength: by RxNorm code when both have one, else by name."""
    code_a, code_b = str(first.get("rxnorm") or ""), str(second.get("rxnorm") or "")
    if code_a and code_b:
        return code_a == code_b
    return _norm(first.get("name")) == _norm(second.get("name")) and _norm(
        first.get("strength")
    ) == _norm(second.get("strength"))


def find_active(
    requested: Mapping[str, Any], medications: Sequence[Mapping[str, Any]]
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """(the prescription at the same strength, one of the same drug at another strength):
    matched by RxNorm code, else by name."""
    code = str(requested.get("rxnorm") or "")
    same_drug = [
        m
        for m in medications
        if (code and str(m.get("rxnorm") or "") == code)
        or _norm(m.get("name")) == _norm(requested.get("name"))
    ]
    exact = next(
        (m for m in same_drug if _norm(m.get("strength")) == _norm(requested.get("strength"))), None
    )
    other = next((m for m in same_drug if m is not exact), None)
    return exact, other


def prescription_terms(active: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What an approval grants unless the clinician changes it: the active prescription's
    quantity, days supply, refills and sig (None when it is not on the list)."""
    if active is None:
        return None
    refills = active.get("refills", active.get("refills_left"))
    return {
        "quantity": active.get("quantity"),
        "days_supply": days_supply(active),
        "refills": refills if isinstance(refills, int) else None,
        "sig": active.get("sig"),
    }


# ---- days supply -----------------------------------------------------------------------------

_PER_DAY = (
    (re.compile(r"\b(four times|qid|every 6 hours)\b"), 4),
    (re.compile(r"\b(three times|tid|every 8 hours)\b"), 3),
    (re.compile(r"\b(twice|two times|bid|every 12 hours)\b"), 2),
    (
        re.compile(
            r"\b(once|daily|every day|every morning|every evening|at bedtime|nightly|qd"
            r"|with (?:the )?(?:evening|morning) meal|with (?:breakfast|dinner|supper))\b"
        ),
        1,
    ),
)
_UNITS = re.compile(r"\b(?:take|inject|use|apply)\s+(\d+)\s+(?:tablets?|capsules?|puffs?|units?)\b")


def days_supply(medication: Mapping[str, Any]) -> int | None:
    """Recorded, else from the quantity and a plain sig ("1 tablet twice daily"); None when
    the sig does not say (as needed, tapering, weekly)."""
    recorded = medication.get("days_supply")
    if isinstance(recorded, int) and recorded > 0:
        return recorded
    quantity = medication.get("quantity")
    sig = str(medication.get("sig") or "").lower()
    if not isinstance(quantity, int) or quantity <= 0 or "as needed" in sig or "prn" in sig:
        return None
    per_day = next((n for pattern, n in _PER_DAY if pattern.search(sig)), None)
    if per_day is None or "units" in sig:
        return None
    units = _UNITS.search(sig)
    per_dose = int(units.group(1)) if units else 1
    return max(1, quantity // (per_day * per_dose))


# ---- the check -------------------------------------------------------------------------------


def _day(value: Any) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _shown(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _months_between(earlier: date, later: date) -> float:
    return (later - earlier).days / 30.4375


def check_refill(
    requested: Mapping[str, Any],
    chart: Mapping[str, Any],
    rules: Mapping[str, Any] | None,
    today: date,
) -> Verdict:
    """The verdict and every rule's result (see the module docstring)."""
    rules = {**DEFAULT_RULES, **{k: v for k, v in (rules or {}).items() if v is not None}}
    medications: list[Mapping[str, Any]] = list(chart.get("medications") or [])
    name = str(requested.get("name") or "")
    strength = str(requested.get("strength") or "")
    active, other_strength = find_active(requested, medications)
    reasons: list[RuleResult] = []

    if active is not None:
        reasons.append(RuleResult("on_list", True, f"On the active list at {strength}"))
    elif other_strength is not None:
        reasons.append(
            RuleResult(
                "on_list",
                False,
                f"On the active list at {other_strength.get('strength')}, not {strength}",
            )
        )
    else:
        reasons.append(RuleResult("on_list", False, f"{name} is not on the active medication list"))
    prescription = active or other_strength or {"name": name}

    schedule = schedule_of(prescription)
    if schedule is not None:
        reasons.append(
            RuleResult(
                "controlled",
                False,
                f"Controlled substance (schedule {schedule}): never by protocol — check the "
                "state PDMP and sign it yourself",
            )
        )
    else:
        reasons.append(RuleResult("controlled", True, "Not a controlled substance"))

    months = float(rules["visit_within_months"])
    visit = _day(chart.get("last_visit_on"))
    if visit is None:
        reasons.append(RuleResult("last_visit", False, "No visit on file"))
    else:
        ok = _months_between(visit, today) <= months
        within = f"within {months:g} months" if ok else f"more than {months:g} months ago"
        reasons.append(RuleResult("last_visit", ok, f"Last visit {_shown(visit)} — {within}"))

    labs: list[Mapping[str, Any]] = list(chart.get("labs") or [])
    for cls in sorted(classes_of(name)):
        for need in rules["labs"].get(cls, []):
            reasons.append(_lab_result(need, labs, today))

    fraction = float(rules["early_fraction"])
    filled = _day(prescription.get("last_filled_on"))
    supply = days_supply(prescription)
    if filled is None or supply is None:
        missing = "last fill" if filled is None else "days supply"
        reasons.append(
            RuleResult("not_too_early", False, f"Cannot tell if it is early: no {missing} on file")
        )
    else:
        due = filled.toordinal() + int(supply * fraction + 0.999)
        if today.toordinal() >= due:
            text = f"Last filled {_shown(filled)} for {supply} days — not early"
            reasons.append(RuleResult("not_too_early", True, text))
        else:
            text = (
                f"Last filled {_shown(filled)} for {supply} days — too early until "
                f"{_shown(date.fromordinal(due))}"
            )
            reasons.append(RuleResult("not_too_early", False, text))

    allergies = chart.get("allergies")
    if allergies is None:
        reasons.append(RuleResult("allergy", False, "No allergy list on file"))
    else:
        reasons.append(_allergy_result(name, allergies))
    reasons.append(_combination_result(name, prescription, medications, rules["high_risk_pairs"]))

    verdict = PASS if all(reason.ok for reason in reasons) else REVIEW
    return Verdict(verdict, tuple(reasons), schedule)


def _lab_result(
    need: Mapping[str, Any], labs: Sequence[Mapping[str, Any]], today: date
) -> RuleResult:
    codes = set(need.get("loinc") or [])
    label = str(need.get("name") or "Lab")
    months = float(need.get("within_months", 12))
    dates = [
        day
        for lab in labs
        if (str(lab.get("loinc") or "") in codes or _norm(lab.get("name")) == _norm(label))
        and (day := _day(lab.get("date"))) is not None
    ]
    rule = f"lab:{label}"
    if not dates:
        return RuleResult(rule, False, f"{label} not on file")
    latest = max(dates)
    if _months_between(latest, today) <= months:
        return RuleResult(rule, True, f"{label} {_shown(latest)} — within {months:g} months")
    return RuleResult(
        rule, False, f"{label} not checked since {_shown(latest)} (needed within {months:g} months)"
    )


def _allergy_result(name: str, allergies: Sequence[Any]) -> RuleResult:
    drug = ingredient(name)
    drug_classes = classes_of(name)
    for allergy in allergies:
        substance = str(allergy.get("substance") if isinstance(allergy, Mapping) else allergy)
        words = set(re.findall(r"[a-z]+", substance.lower()))
        if drug in words or {c.replace("_", " ") for c in drug_classes} & {substance.lower()}:
            return RuleResult("allergy", False, f"Recorded allergy: {substance}")
    return RuleResult("allergy", True, "No recorded allergy to it")


def _combination_result(
    name: str,
    prescription: Mapping[str, Any],
    medications: Sequence[Mapping[str, Any]],
    pairs: Sequence[Sequence[str]],
) -> RuleResult:
    mine = classes_of(name)
    for other in medications:
        if other is prescription or ingredient(str(other.get("name", ""))) == ingredient(name):
            continue
        theirs = classes_of(str(other.get("name", "")))
        for first, second in pairs:
            if (first in mine and second in theirs) or (second in mine and first in theirs):
                words = f"{first.replace('_', ' ')} with {second.replace('_', ' ')}"
                text = f"High-risk combination: {other.get('name')} ({words})"
                return RuleResult("combination", False, text)
    return RuleResult("combination", True, "No high-risk combination on the active list")
