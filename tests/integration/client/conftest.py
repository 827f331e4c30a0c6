"""Signed-in desktop clients (portal_client only) against the real portal API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portal_client.credentials import CredentialStore
from portal_client.session import SignedIn, sign_in
from tests.conftest import Portal
from tests.support.keyrings import MemoryKeyring


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


@pytest.fixture
def backend() -> str:
    """Client-side tests run against the service on SQLite only: its behaviour on PostgreSQL
    is covered by the service's own tests, and the suite must stay fast."""
    return "sqlite"
