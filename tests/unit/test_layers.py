"""The layering rules of STYLE.md, checked on the source: arrows never point back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "portal_client": {"PySide6", "ui", "desktop", "portal_api"},
    "portal_api": {"PySide6", "ui", "desktop", "portal_client"},
    "ui": {"requests", "sqlalchemy", "keyring", "sqlcipher3", "portal_api"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_in_their_lane(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_roots(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_portal_client_imports_without_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, portal_client.engine, portal_client.diagnostics, portal_client.cache;"
        "assert not any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules), 'Qt loaded'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
