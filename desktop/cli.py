"""`portal-triage`: the desktop app's command line (diagnostics today; the app lands later)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

__version__ = "0.1.0"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal-triage", description="Triage Desk for staff")
    parser.add_argument("--version", action="version", version=f"portal-triage {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against a built-in demo practice (no setup, no network)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the local cache lives (default: the user data folder)",
    )
    sub = parser.add_subparsers(dest="command")
    from portal_client import diagnostics

    diagnostics.add_commands(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command in ("sync", "status"):
        return diagnostics.run(args)
    from .app import run_gui

    return run_gui(args)
