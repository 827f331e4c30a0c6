"""`portal-triage`: the desktop app's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__version__ = "0.1.0"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal-triage", description="Triage Desk for staff")
    parser.add_argument("--version", action="version", version=f"portal-triage {__version__}")
    parser.parse_args(argv)
    print(
        "portal-triage: the desktop app is not part of this build yet; "
        "run `portal-api serve --seed demo` for the portal service",
        file=sys.stderr,
    )
    return 2
