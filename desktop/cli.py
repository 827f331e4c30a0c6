"""`portal-triage`: the desktop app (`--demo` for the built-in practice) and its diagnostics."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from triage_core.version import __version__

DESKTOP_PACKAGES = ("PySide6", "requests", "keyring", "sqlcipher3", "sqlalchemy", "platformdirs")


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
    missing = [name for name in DESKTOP_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"portal-triage: the desktop's packages are not installed ({', '.join(missing)}): "
            "pip install 'triage-desk[desktop]'",
            file=sys.stderr,
        )
        return 2
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
