"""The demo practice and the patient simulator."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import func, select

from portal_api.app import create_app
from portal_api.db import Database
from portal_api.models import Entry, Item, Patient, Staff
from portal_api.seed import seed_demo
from portal_api.simulate import Simulator, compose_request
from tests.helpers import served


def snapshot(db: Database) -> tuple:
    with db.read() as session:
        patients = session.execute(
            select(Patient.id, Patient.given_name, Patient.family_name, Patient.mrn).order_by(
                Patient.mrn
            )
        ).all()
        items = session.execute(
            select(Item.id, Item.kind, Item.status, Item.subject).order_by(Item.id)
        ).all()
    return [tuple(p) for p in patients], [tuple(i) for i in items]


def test_demo_practice_is_plausible(db: Database) -> None:
    summary = seed_demo(db, random_seed=1, password_profile="fast")
    assert summary.patients == 300 and summary.items == 360
    with db.read() as session:
        roles = Counter(session.scalars(select(Staff.role)))
        assert {"front_desk", "nurse", "clinician", "admin"} <= set(roles)
        kinds = Counter(session.scalars(select(Item.kind)))
        statuses = Counter(session.scalars(select(Item.status)))
        priorities = Counter(session.scalars(select(Item.priority)))
        queues = Counter(session.scalars(select(Item.queue)))
        patients = list(session.scalars(select(Patient)))
        entry_types = Counter(session.scalars(select(Entry.type)))
    assert set(kinds) == {"refill", "appointment", "message"}
    assert set(statuses) == {"new", "open", "waiting_patient", "done", "cancelled"}
    assert set(priorities) == {"routine", "urgent"}
    assert set(queues) == {"front_desk", "nursing", "clinician"}
    assert set(entry_types) == {"patient_message", "staff_reply", "internal_note", "event"}
    assert len({p.mrn for p in patients}) == 300
    assert any(m["controlled"] for p in patients for m in p.medications)
    assert all(m["sig"] and m["strength"] for p in patients for m in p.medications)
    assert {p.username for p in patients} >= {"patient1", "patient300"}


def test_demo_red_flags_are_screened_like_live_ones(db: Database) -> None:
    seed_demo(db, random_seed=1, password_profile="fast")
    with db.read() as session:
        urgent = session.scalars(select(Item).where(Item.priority == "urgent")).all()
        entries = {
            item.id: session.scalars(
                select(Entry).where(Entry.item_id == item.id).order_by(Entry.position)
            ).all()
            for item in urgent
        }
        follow_ups = session.scalars(select(Entry).where(Entry.type == "event")).all()
    assert len(urgent) >= 5
    for item in urgent:
        assert item.urgent_since is not None and item.queue != "front_desk"
        flagged = [e for e in entries[item.id] if (e.data or {}).get("red_flags")]
        assert flagged, item.subject
        replies = [e for e in entries[item.id] if e.author_kind == "system"]
        assert any(e.type == "staff_reply" for e in replies)
    assert any((e.data or {}).get("action") == "red_flag" for e in follow_ups)


def test_seed_is_deterministic_for_a_random_seed(tmp_path) -> None:
    from portal_api import schema
    from portal_api.db import create_db_engine

    results = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        engine = create_db_engine(f"sqlite:///{tmp_path / name}.sqlite3")
        schema.upgrade(engine)
        db = Database(engine)
        seed_demo(db, random_seed=seed, patients=20, items=30, password_profile="fast")
        results.append(snapshot(db))
    assert results[0] == results[1]
    assert results[0] != results[2]


def test_composed_requests_are_accepted_by_the_patient_endpoint(settings, seeded) -> None:
    rng = random.Random(3)
    with served(create_app(settings, seeded)) as url:
        sim = Simulator(base_url=url, rate_per_second=100, patients=5, rng=rng)
        lines = [sim.step() for _ in range(12)]
    assert all(
        " filed a " in line or " replied on " in line or " followed up on " in line
        for line in lines
    )
    with seeded.read() as session:
        count = session.scalar(select(func.count()).select_from(Item))
    assert count >= 60 + sum(" filed a " in line for line in lines)


def test_compose_request_covers_every_kind() -> None:
    rng = random.Random(1)
    kinds = {compose_request(rng)["kind"] for _ in range(100)}
    assert kinds == {"refill", "appointment", "message"}


def test_simulator_runs_for_its_duration(settings, seeded) -> None:
    with served(create_app(settings, seeded)) as url:
        sim = Simulator(
            base_url=url, rate_per_second=20, duration=0.6, patients=5, rng=random.Random(2)
        )
        assert sim.run() == 0
    assert sim.sent >= 3
    assert sim.failed == 0
