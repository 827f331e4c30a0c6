"""Signing refills in a batch: which of the chosen refills may be approved together, and why
each other one is left out. Plain Python (the desktop shows it; the tests check it).

A refill goes in the batch only when everything says it may: the clinician may approve it now
(the domain core's permissions: a refill, not closed), its protocol pre-check passed, and it is
not a controlled substance (those are signed one at a time, after the PDMP). Everything else is
left out with the reason, in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from triage_core.actions import RefillDecision, to_wire
from triage_core.permissions import Actor, offer
from triage_core.vocabulary import Kind, RefillOutcome


@dataclass(frozen=True)
class Chosen:
    item_id: str
    label: str  # the item's subject
    version: int
    why: str = ""  # for one left out: the reason


@dataclass(frozen=True)
class BatchPlan:
    approve: tuple[Chosen, ...]
    left_out: tuple[Chosen, ...]

    def action(self) -> dict[str, Any]:
        """What each approval sends (its own action, its own idempotency key)."""
        return to_wire(RefillDecision(RefillOutcome.APPROVED))


def plan_approvals(
    items: Iterable[Mapping[str, Any]],
    actor: Actor,
    patient_names: Mapping[str, str] | None = None,
) -> BatchPlan:
    """The batch and what is left out; each labelled with its subject and patient."""
    names = patient_names or {}
    approve: list[Chosen] = []
    left_out: list[Chosen] = []
    for item in items:
        label = str(item.get("subject") or item.get("id"))
        if names.get(str(item.get("patient_id"))):
            label = f"{label} — {names[str(item.get('patient_id'))]}"
        chosen = Chosen(str(item["id"]), label, int(item.get("version") or 0))
        why = _left_out_because(item, actor)
        if why:
            left_out.append(Chosen(chosen.item_id, label, chosen.version, why))
        else:
            approve.append(chosen)
    return BatchPlan(tuple(approve), tuple(left_out))


def _left_out_because(item: Mapping[str, Any], actor: Actor) -> str:
    if item.get("kind") != Kind.REFILL:
        return "not a refill"
    allowed = offer(actor, item, RefillDecision(RefillOutcome.APPROVED))
    if not allowed:
        return allowed.reason
    details = item.get("details") or {}
    if details.get("controlled"):
        return "controlled substance: sign it on its own, after checking the PDMP"
    checked = details.get("protocol")
    if not isinstance(checked, Mapping):
        return "the protocol has not checked it yet"
    if checked.get("verdict") != "pass":
        failed = [str(r.get("text")) for r in checked.get("reasons") or [] if not r.get("ok")]
        return "protocol: review — " + (failed[0] if failed else "a rule does not hold")
    return ""
