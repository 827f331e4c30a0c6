"""The policy editor's input rules."""

from __future__ import annotations

from portal_api.policy import validate_policy
from portal_api.seed.data import demo_policy
from portal_client.policy_form import build_policy, current_replies, parse_dates, parse_hours


def form_of(policy: dict) -> dict:
    return {
        "name": policy["name"],
        "timezone": policy["timezone"],
        "at_risk_ratio": policy["at_risk_ratio"],
        "hours": {
            d: ", ".join(f"{s}-{e}" for s, e in v) for d, v in policy["business_hours"].items()
        },
        "country": policy["holidays"]["country"],
        "subdivision": policy["holidays"]["subdivision"],
        "closed": ", ".join(policy["holidays"]["closed"]),
        "targets": {
            (k, p, c): (f"{t['hours']:g}" if t else "", bool(t and t["business"]))
            for k, ps in policy["sla"].items()
            for p, cs in ps.items()
            for c, t in cs.items()
        },
        "cutoffs": {k: v["after"] for k, v in policy["cutoffs"].items()},
    }


def test_the_demo_policy_round_trips_through_the_form() -> None:
    policy = validate_policy(demo_policy())
    rebuilt, errors = build_policy(form_of(policy), policy)
    assert errors == []
    assert validate_policy(rebuilt) == policy


def test_hours_parse_sort_and_refuse_nonsense() -> None:
    assert parse_hours("13:00-17:00, 8:00-12:00", "mon") == (
        [["08:00", "12:00"], ["13:00", "17:00"]],
        [],
    )
    assert parse_hours("", "sat") == ([], [])
    assert parse_hours("8am-5pm", "mon")[1] == ["mon: '8am-5pm' is not like 08:00-12:00"]
    assert parse_hours("17:00-08:00", "mon")[1] == ["mon: 17:00-08:00 ends before it starts"]
    assert parse_hours("08:00-12:00, 11:00-13:00", "mon")[1] == ["mon: intervals overlap"]


def test_dates_targets_ratio_and_a_never_open_week() -> None:
    assert parse_dates("2026-12-31, 2026-12-24") == (["2026-12-24", "2026-12-31"], [])
    assert parse_dates("Christmas")[1]
    policy = validate_policy(demo_policy())
    form = form_of(policy)
    form["hours"] = {d: "" for d in form["hours"]}
    form["targets"][("message", "routine", "first_response")] = ("soon", True)
    form["at_risk_ratio"] = 1.5
    form["cutoffs"]["refill"] = "3pm"
    _policy, errors = build_policy(form, policy)
    assert "business hours: the practice is never open" in errors
    assert "message routine first response: 'soon' is not a number of hours" in errors
    assert "at-risk ratio: use a number between 0 and 1, like 0.75" in errors
    assert "cut-off for refill: '3pm' is not a time like 15:00" in errors


def safety_form(policy: dict) -> dict:
    return {
        "replies": current_replies(policy),
        "guidance": policy["emergency_guidance"],
        "unclaimed_minutes": policy["escalation"]["unclaimed_minutes"],
        "on_call_default": policy["on_call"]["default"],
        "rota": [(s["starts"], s["ends"], s["staff_id"]) for s in policy["on_call"]["rota"]],
    }


def test_safety_replies_and_the_on_call_schedule_round_trip() -> None:
    policy = validate_policy(demo_policy(on_call="doc-1"))
    form = {**form_of(policy), "safety": safety_form(policy)}
    rebuilt, errors = build_policy(form, policy)
    assert errors == []
    assert validate_policy(rebuilt) == policy

    form["safety"]["replies"]["suicide"] = "Call or text 988 now. We care about you."
    form["safety"]["unclaimed_minutes"] = 10
    form["safety"]["rota"] = [("2026-12-05", "2026-12-06", "doc-2")]
    rebuilt, errors = build_policy(form, policy)
    assert errors == []
    assert rebuilt["safety_replies"]["suicide"] == "Call or text 988 now. We care about you."
    assert rebuilt["escalation"] == {"unclaimed_minutes": 10}
    assert rebuilt["on_call"]["rota"] == [
        {"starts": "2026-12-05", "ends": "2026-12-06", "staff_id": "doc-2"}
    ]


def test_safety_settings_refuse_empty_replies_and_backward_shifts() -> None:
    policy = validate_policy(demo_policy())
    form = {**form_of(policy), "safety": safety_form(policy)}
    form["safety"]["replies"]["poison"] = "   "
    form["safety"]["unclaimed_minutes"] = 0
    form["safety"]["rota"] = [
        ("2026-12-06", "2026-12-05", "doc-2"),
        ("2026-12-07", "2026-12-07", ""),
    ]
    _policy, errors = build_policy(form, policy)
    assert "safety reply (poison): write the text patients should get" in errors
    assert "escalation: use between 1 and 1440 minutes" in errors
    assert "on-call shift 1: ends before it starts" in errors
    assert "on-call shift 2: choose a clinician" in errors
