"""The layering rules of STYLE.md: the import-linter contracts in pyproject.toml hold, and the
Qt-free parts really run without Qt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(BIN / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_the_core_and_the_client_run_with_qt_absent(tmp_path: Path) -> None:
    """Their unit tests pass in an interpreter where importing PySide6 fails."""
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\naddopts = -q -p no:cacheprovider\n")
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.modules['shiboken6'] = None\n"
        "import pytest\n"
        f"sys.exit(pytest.main(['-c', {str(ini)!r}, '--rootdir', {str(ROOT)!r}, "
        "'tests/unit/portal_client', 'tests/unit/triage_core/test_state_machine.py']))"
    )
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # pytest-qt would load Qt
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_the_engine_and_cache_load_no_qt() -> None:
    code = (
        "import sys, portal_client.engine, portal_client.diagnostics, portal_client.cache;"
        "import triage_core.permissions, triage_core.state_machine, triage_core.clocks;"
        "assert not any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules), 'Qt loaded'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
