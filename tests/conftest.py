"""Fixtures: a migrated SQLite database per test, the real app, and a small demo practice."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portal_api import schema
from portal_api.app import create_app
from portal_api.config import Settings
from portal_api.db import Database, create_db_engine
from portal_api.seed import seed_demo

logging.getLogger("alembic").setLevel(logging.WARNING)

SMALL_PATIENTS = 25
SMALL_ITEMS = 60


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'portal.sqlite3'}", password_profile="fast")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    engine = create_db_engine(settings.database_url)
    schema.upgrade(engine)
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_demo(db, random_seed=7, patients=SMALL_PATIENTS, items=SMALL_ITEMS, password_profile="fast")
    return db


@pytest.fixture
def client(settings: Settings, seeded: Database) -> Iterator[TestClient]:
    app = create_app(settings, seeded)
    with TestClient(app) as test_client:
        yield test_client


def postgres_url() -> str | None:
    return os.environ.get("TRIAGE_TEST_POSTGRES_URL")
