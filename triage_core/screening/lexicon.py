"""The screening lexicons: red-flag targets and context triggers, plain TOML files under
`resources/lexicons/` (read once, compiled once)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

PACKAGE = "resources"
FLAGS = "lexicons/red_flags.toml"
CONTEXT = "lexicons/context.toml"


@dataclass(frozen=True)
class Target:
    category: str
    rule: str  # "<category>.<name>"
    pattern: re.Pattern[str]
    requires: re.Pattern[str] | None = None  # must appear too, itself judged in context


@dataclass(frozen=True)
class Context:
    terminators: re.Pattern[str]
    current: re.Pattern[str]
    negation_forward: re.Pattern[str]
    negation_backward: re.Pattern[str]
    negation_pseudo: re.Pattern[str]
    hypothetical_conditional: re.Pattern[str]
    hypothetical_forward: re.Pattern[str]
    hypothetical_pseudo: re.Pattern[str]
    reported: re.Pattern[str]
    general: re.Pattern[str]
    personal: re.Pattern[str]
    historical: re.Pattern[str]
    family_members: re.Pattern[str]
    family_history: re.Pattern[str]
    family_risk_question: re.Pattern[str]
    family_ongoing: re.Pattern[str]


def _read(name: str) -> dict[str, object]:
    text = (resources.files(PACKAGE) / name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _compile(pattern: object) -> re.Pattern[str]:
    return re.compile(str(pattern), re.VERBOSE)


@cache
def targets() -> tuple[Target, ...]:
    document = _read(FLAGS)
    entries = document["target"]
    assert isinstance(entries, list)
    return tuple(
        Target(
            str(entry["category"]),
            f"{entry['category']}.{entry['rule']}",
            _compile(entry["pattern"]),
            _compile(entry["requires"]) if "requires" in entry else None,
        )
        for entry in entries
    )


@cache
def context() -> Context:
    document = _read(CONTEXT)

    def section(name: str) -> dict[str, object]:
        value = document[name]
        assert isinstance(value, dict)
        return value

    negation, hypothetical = section("negation"), section("hypothetical")
    historical, family = section("historical"), section("family")
    return Context(
        terminators=_compile(document["terminators"]),
        current=_compile(document["current"]),
        negation_forward=_compile(negation["forward"]),
        negation_backward=_compile(negation["backward"]),
        negation_pseudo=_compile(negation["pseudo"]),
        hypothetical_conditional=_compile(hypothetical["conditional"]),
        hypothetical_forward=_compile(hypothetical["forward"]),
        hypothetical_pseudo=_compile(hypothetical["pseudo"]),
        reported=_compile(hypothetical["reported"]),
        general=_compile(hypothetical["general"]),
        personal=_compile(hypothetical["personal"]),
        historical=_compile(historical["any"]),
        family_members=_compile(family["members"]),
        family_history=_compile(family["history"]),
        family_risk_question=_compile(family["risk_question"]),
        family_ongoing=_compile(family["ongoing"]),
    )
