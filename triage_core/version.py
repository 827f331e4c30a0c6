"""The one version of Triage Desk, from the installed package's metadata (`pyproject.toml`)."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "triage-desk"


def version() -> str:
    """`0.2.0`; `0+unknown` when run from a checkout that was never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = version()
