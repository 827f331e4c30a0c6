"""Fixtures: a migrated database per test (SQLite, and PostgreSQL when one answers at
TRIAGE_TEST_POSTGRES_URL), the real app, and a small demo practice."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from portal_api import schema
from portal_api.app import create_app
from portal_api.config import Settings
from portal_api.db import Database, create_db_engine
from portal_api.seed import seed_demo

logging.getLogger("alembic").setLevel(logging.WARNING)

# Never the real OS keyring: a file-backed test keyring, shared with subprocesses.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.keyrings.FileKeyring"


@pytest.fixture(autouse=True)
def _test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))


SMALL_PATIENTS = 25
SMALL_ITEMS = 60


def postgres_url() -> str | None:
    return os.environ.get("TRIAGE_TEST_POSTGRES_URL")


class PostgresServer:
    """One migrated template database per test run; each test gets a fresh copy of it."""

    def __init__(self, url: str) -> None:
        self.admin_url = make_url(url).set(drivername="postgresql+psycopg")
        self.template = f"triage_tpl_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []
        self._admin = create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        engine = create_db_engine(self.url_for(self.template))
        schema.upgrade(engine)
        engine.dispose()

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def new_database(self, *, migrated: bool = True) -> str:
        name = f"triage_t_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
        self.created.append(name)
        return self.url_for(name)

    def close(self) -> None:
        with self._admin.connect() as conn:
            for name in [*self.created, self.template]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


_postgres_problem: list[str] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests skipped: TRIAGE_TEST_POSTGRES_URL is not set")
    if _postgres_problem:
        pytest.skip(_postgres_problem[0])
    try:
        server = PostgresServer(url)
    except OperationalError as exc:
        _postgres_problem.append(
            f"PostgreSQL tests skipped: no server answers at {url} ({type(exc).__name__})"
        )
        pytest.skip(_postgres_problem[0])
    yield server
    server.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    if backend == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
    else:
        url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    # Scheduled jobs off: escalation would change seeded items under the tests' feet; the
    # escalation tests turn them on.
    return Settings(database_url=url, password_profile="fast", scheduler=False)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    engine = create_db_engine(settings.database_url)
    schema.upgrade(engine)
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_demo(
        db, random_seed=7, patients=SMALL_PATIENTS, items=SMALL_ITEMS, password_profile="fast"
    )
    return db


@dataclass
class Portal:
    url: str
    port: int
    app: FastAPI
    db: Database


@pytest.fixture
def portal(settings: Settings, seeded: Database) -> Iterator[Portal]:
    """The real portal API served by uvicorn on a loopback port, with the small practice."""
    from tests.helpers import served

    app = create_app(settings, seeded)
    with served(app) as url:
        yield Portal(url, int(url.rsplit(":", 1)[1]), app, seeded)


@pytest.fixture
def client(settings: Settings, seeded: Database) -> Iterator[TestClient]:
    app = create_app(settings, seeded)
    with TestClient(app) as test_client:
        yield test_client
