"""The refill protocol pre-check: a chart that passes, and each way to fail (hand-made charts)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage_core.protocol import PASS, REVIEW, check_refill, days_supply, schedule_of

TODAY = date(2026, 11, 27)
LISINOPRIL = {"name": "Lisinopril", "strength": "10 mg"}


def chart(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "medications": [
            {
                "name": "Lisinopril",
                "strength": "10 mg",
                "sig": "Take 1 tablet by mouth once daily",
                "quantity": 90,
                "last_filled_on": "2026-08-20",
            },
            {
                "name": "Atorvastatin",
                "strength": "20 mg",
                "sig": "Take 1 tablet by mouth at bedtime",
                "quantity": 90,
                "last_filled_on": "2026-09-01",
            },
        ],
        "allergies": [{"substance": "Penicillin", "reaction": "hives"}],
        "last_visit_on": "2026-03-14",
        "labs": [{"loinc": "24321-2", "name": "Basic metabolic panel", "date": "2026-03-14"}],
    }
    return base | changes


def result(verdict: Any, rule: str) -> Any:
    return next(r for r in verdict.reasons if r.rule == rule)


def test_a_chart_that_meets_every_rule_passes_with_its_dates() -> None:
    verdict = check_refill(LISINOPRIL, chart(), None, TODAY)
    assert verdict.verdict == PASS, [r.text for r in verdict.reasons if not r.ok]
    assert result(verdict, "last_visit").text == "Last visit 14 Mar 2026 — within 12 months"
    assert result(verdict, "lab:Basic metabolic panel").text == (
        "Basic metabolic panel 14 Mar 2026 — within 12 months"
    )
    assert result(verdict, "not_too_early").ok
    wire = verdict.to_wire(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    assert wire["verdict"] == "pass" and wire["checked_at"] == "2026-11-27T15:00:00Z"
    assert {"rule", "ok", "text"} == set(wire["reasons"][0])


@pytest.mark.parametrize(
    ("requested", "changes", "rule", "words"),
    [
        (LISINOPRIL, {"last_visit_on": "2025-06-01"}, "last_visit", "more than 12 months ago"),
        (LISINOPRIL, {"last_visit_on": None}, "last_visit", "No visit on file"),
        (
            LISINOPRIL,
            {"labs": [{"loinc": "2823-3", "name": "Potassium", "date": "2024-05-02"}]},
            "lab:Basic metabolic panel",
            "not checked since 2 May 2024",
        ),
        (LISINOPRIL, {"labs": []}, "lab:Basic metabolic panel", "not on file"),
        ({"name": "Lisinopril", "strength": "20 mg"}, {}, "on_list", "at 10 mg, not 20 mg"),
        ({"name": "Warfarin", "strength": "5 mg"}, {}, "on_list", "not on the active"),
        (
            LISINOPRIL,
            {"allergies": [{"substance": "lisinopril", "reaction": "angioedema"}]},
            "allergy",
            "Recorded allergy: lisinopril",
        ),
    ],
)
def test_each_rule_sends_the_refill_to_review(
    requested: dict[str, Any], changes: dict[str, Any], rule: str, words: str
) -> None:
    verdict = check_refill(requested, chart(**changes), None, TODAY)
    assert verdict.verdict == REVIEW
    assert not result(verdict, rule).ok
    assert words in result(verdict, rule).text


def test_too_early_before_three_quarters_of_the_supply() -> None:
    early = chart()
    early["medications"][0]["last_filled_on"] = "2026-10-01"  # 90 days: due from 8 Dec
    verdict = check_refill(LISINOPRIL, early, None, TODAY)
    assert not result(verdict, "not_too_early").ok
    assert "too early until 8 Dec 2026" in result(verdict, "not_too_early").text


def test_a_controlled_substance_never_passes_and_says_check_the_pdmp() -> None:
    meds = [
        {
            "name": "Oxycodone",
            "strength": "5 mg",
            "sig": "Take 1 tablet every 6 hours as needed",
            "quantity": 60,
            "last_filled_on": "2026-10-01",
        },
        {
            "name": "Lorazepam",
            "strength": "1 mg",
            "sig": "Take 1 tablet at bedtime",
            "quantity": 30,
            "last_filled_on": "2026-10-01",
        },
    ]
    verdict = check_refill(
        {"name": "Lorazepam", "strength": "1 mg"}, chart(medications=meds), None, TODAY
    )
    assert verdict.verdict == REVIEW and verdict.controlled == "IV"
    assert "check the state PDMP" in result(verdict, "controlled").text
    assert "Oxycodone (opioid with benzodiazepine)" in result(verdict, "combination").text


def test_two_anticoagulants_are_a_high_risk_combination() -> None:
    meds = [
        {
            "name": "Warfarin",
            "strength": "5 mg",
            "sig": "Take 1 tablet daily",
            "quantity": 90,
            "last_filled_on": "2026-08-01",
        },
        {
            "name": "Apixaban",
            "strength": "5 mg",
            "sig": "Take 1 tablet twice daily",
            "quantity": 180,
            "last_filled_on": "2026-08-01",
        },
    ]
    verdict = check_refill(
        {"name": "Warfarin", "strength": "5 mg"}, chart(medications=meds), None, TODAY
    )
    assert not result(verdict, "combination").ok
    assert "Apixaban" in result(verdict, "combination").text


def test_metformin_needs_an_a1c_within_six_months() -> None:
    meds = [
        {
            "name": "Metformin",
            "strength": "500 mg",
            "sig": "Take 1 tablet by mouth twice daily with meals",
            "quantity": 180,
            "last_filled_on": "2026-08-01",
        }
    ]
    old_a1c = [{"loinc": "4548-4", "name": "Hemoglobin A1c", "date": "2026-04-01"}]
    verdict = check_refill(
        {"name": "Metformin", "strength": "500 mg"},
        chart(medications=meds, labs=old_a1c),
        None,
        TODAY,
    )
    assert "needed within 6 months" in result(verdict, "lab:Hemoglobin A1c").text
    fresh = [{"loinc": "4548-4", "name": "Hemoglobin A1c", "date": "2026-09-01"}]
    verdict = check_refill(
        {"name": "Metformin", "strength": "500 mg"},
        chart(medications=meds, labs=fresh),
        None,
        TODAY,
    )
    assert verdict.verdict == PASS


def test_the_policy_sets_the_visit_window() -> None:
    verdict = check_refill(
        LISINOPRIL, chart(last_visit_on="2025-06-01"), {"visit_within_months": 24}, TODAY
    )
    assert result(verdict, "last_visit").ok


def test_days_supply_from_the_sig_and_unknown_when_it_does_not_say() -> None:
    assert days_supply({"quantity": 180, "sig": "Take 1 tablet twice daily"}) == 90
    assert (
        days_supply({"quantity": 180, "sig": "Take 2 tablets by mouth with the evening meal"}) == 90
    )
    assert days_supply({"quantity": 60, "sig": "Take 1 tablet every 6 hours as needed"}) is None
    assert days_supply({"quantity": 15, "sig": "Inject 20 units under the skin at bedtime"}) is None
    assert days_supply({"days_supply": 28, "quantity": 1, "sig": ""}) == 28


def test_a_schedule_comes_from_the_chart_or_the_lexicon() -> None:
    assert schedule_of({"name": "Tramadol 50 mg"}) == "IV"
    assert schedule_of({"name": "Oxycodone"}) == "II"
    assert schedule_of({"name": "Lisinopril"}) is None
    assert schedule_of({"name": "Something new", "controlled": True}) == "unknown schedule"


@given(
    st.sampled_from(["Lisinopril", "Oxycodone", "Warfarin", "Metformin", "Unknownium"]),
    st.dictionaries(
        st.sampled_from(["last_visit_on", "labs", "allergies", "medications"]),
        st.none() | st.just([]),
    ),
)
def test_missing_facts_never_pass(name: str, missing: dict[str, Any]) -> None:
    """In doubt, review: a chart without the facts a rule needs never passes."""
    verdict = check_refill({"name": name, "strength": "10 mg"}, chart(**missing), None, TODAY)
    unknown = {k for k, v in missing.items() if v is None or k != "allergies"}
    if unknown or name != "Lisinopril":  # (an empty allergy list is "none known")
        assert verdict.verdict == REVIEW
