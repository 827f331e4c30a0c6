"""A signed-in main window against the real portal API on a loopback port."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop.app import DesktopApp
from portal_client.credentials import CredentialStore
from portal_client.session import sign_in
from tests.support.keyrings import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass
class Desk:
    app: DesktopApp

    @property
    def window(self):  # type: ignore[no-untyped-def]
        return self.app.window

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.app.services


def wait_for(qtbot, condition: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(condition, timeout=int(timeout * 1000))


@pytest.fixture
def open_desk(qtbot, qapp, portal, tmp_path: Path) -> Iterator[Callable[..., Desk]]:  # type: ignore[no-untyped-def]
    desks: list[Desk] = []

    def make(username: str = "nurse") -> Desk:
        settings = QSettings(
            str(tmp_path / f"{username}-{len(desks)}.ini"), QSettings.Format.IniFormat
        )
        backend = MemoryKeyring()
        app = DesktopApp(
            qapp,
            data_dir=tmp_path / f"data-{username}-{len(desks)}",
            settings=settings,
            credentials_backend=backend,
        )
        signed = sign_in(
            portal.url,
            username,
            "demo",
            data_dir=app.data_dir,
            credentials=CredentialStore(portal.url, backend=backend),
        )
        app._signed_in(signed)
        desk = Desk(app)
        qtbot.addWidget(app.window)
        start = time.monotonic()
        qtbot.waitUntil(lambda: app.services.engine.status.cycles >= 1, timeout=20000)
        assert time.monotonic() - start < 20
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        if desk.app.window is not None:
            desk.app.window.close()
        desk.app.shutdown()


@pytest.fixture
def backend() -> str:
    """Client-side tests run against the service on SQLite only: its behaviour on PostgreSQL
    is covered by the service's own tests, and the suite must stay fast."""
    return "sqlite"
