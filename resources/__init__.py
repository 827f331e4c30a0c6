"""Plain-file resources (icons, styles), found with importlib.resources."""

from __future__ import annotations

from importlib import resources


def read_text(name: str) -> str:
    return (resources.files(__name__) / name).read_text(encoding="utf-8")


def path(name: str) -> str:
    """A file-system path for Qt (resources ship as plain files in the package)."""
    return str(resources.files(__name__) / name)
