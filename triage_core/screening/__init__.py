"""Red-flag screening of patients' free text: what may be an emergency happening now.

`screen(text)` finds the red flags (targets in `resources/lexicons/red_flags.toml`, and numbers
that are emergencies on their own, `vitals.py`) and keeps those that are not negated, past,
hypothetical or another person's past history (`context.py`, after the ConText algorithm).
Anything in doubt stays flagged: a false alarm costs a minute, a miss can cost a life.
"""

from __future__ import annotations

from .engine import RedFlag, Screening, screen

__all__ = ["RedFlag", "Screening", "screen"]
