"""A real portal API on a loopback port, and signed-in desktop clients against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from portal_api.app import create_app
from portal_api.config import Settings
from portal_api.db import Database
from portal_client.credentials import CredentialStore
from portal_client.session import SignedIn, sign_in
from tests.helpers import served
from tests.support.keyrings import MemoryKeyring


@dataclass
class Portal:
    url: str
    port: int
    app: FastAPI
    db: Database


@pytest.fixture
def portal(settings: Settings, seeded: Database) -> Iterator[Portal]:
    app = create_app(settings, seeded)
    with served(app) as url:
        yield Portal(url, int(url.rsplit(":", 1)[1]), app, seeded)


@pytest.fixture
def desk(portal: Portal, tmp_path: Path) -> Iterator[Callable[..., SignedIn]]:
    """Sign in a desktop client: `desk("nurse")`; each username gets its own data folder."""
    opened: list[SignedIn] = []
    keyrings: dict[str, MemoryKeyring] = {}

    def open_desk(
        username: str = "nurse", password: str | None = "demo", folder: str | None = None
    ) -> SignedIn:
        backend = keyrings.setdefault(folder or username, MemoryKeyring())
        signed = sign_in(
            portal.url,
            username,
            password,
            data_dir=tmp_path / "desks" / (folder or username),
            credentials=CredentialStore(portal.url, backend=backend),
        )
        opened.append(signed)
        return signed

    yield open_desk
    for signed in opened:
        signed.cache.close()
        signed.api.close()
