"""The migrations build exactly the schema the models describe, and 0002 carries old data
forward (urgent items get `urgent_since` and count as escalated already)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from portal_api import schema
from portal_api.db import Database
from portal_api.jobs.escalation import Escalator
from portal_api.models import Base
from portal_api.urgency import PracticeRules


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_0002_gives_existing_urgent_items_an_urgent_since(seeded: Database) -> None:
    schema.downgrade(seeded.engine, "0001")
    with seeded.engine.connect() as conn:
        urgent = conn.execute(text("SELECT count(*) FROM items WHERE priority = 'urgent'"))
        assert urgent.scalar_one() > 0
    schema.upgrade(seeded.engine)
    with seeded.engine.connect() as conn:
        missing = conn.execute(
            text("SELECT count(*) FROM items WHERE priority = 'urgent' AND urgent_since IS NULL")
        )
        assert missing.scalar_one() == 0
    # ... and that work is not paged all at once on the first tick after the upgrade.
    later = datetime.now(UTC) + timedelta(days=1)
    assert Escalator(seeded, PracticeRules(), ["log"]).run(later) == []
