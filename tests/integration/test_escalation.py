"""Escalation of urgent work nobody picked up: the rule, the job against SQLite and
PostgreSQL, the outbox with a real signed webhook on a loopback port, and the scheduler
(one leader among two server processes: escalated once, not twice)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from portal_api.app import create_app
from portal_api.config import Settings
from portal_api.db import Database
from portal_api.jobs.escalation import AFTER_HOURS, UNCLAIMED, Escalator, reason_to_escalate
from portal_api.jobs.notify import (
    MAX_ATTEMPTS,
    DeliveryReport,
    LogNotifier,
    Outbox,
    WebhookNotifier,
    backoff,
    enqueue,
    signature,
)
from portal_api.models import AuditEvent, Entry, Item, Notification, Policy, Staff
from portal_api.seed import seed_demo
from portal_api.urgency import PracticeRules
from tests.helpers import (
    act,
    bearer,
    free_port,
    http_login,
    login,
    patient_login,
    portal_process,
    set_on_call,
    staff_id,
    wait_until,
)
from tests.support.webhook import webhook_receiver
from triage_core.calendar import BusinessCalendar

SECRET = "a-long-shared-secret-for-tests"
NY = ZoneInfo("America/New_York")
TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=NY).astimezone(UTC)  # open
SATURDAY_10AM = datetime(2026, 12, 5, 10, 0, tzinfo=NY).astimezone(UTC)  # closed


def flagged_item(client: TestClient, patient: str = "patient1") -> str:
    tokens = patient_login(client, patient)
    reply = client.post(
        "/api/v1/patient/requests",
        json={"kind": "message", "subject": "Help", "body": "crushing chest pain and sweating"},
        headers=bearer(tokens),
    )
    assert reply.status_code == 201
    return str(reply.json()["item"]["id"])


def urgent_since(db: Database, item_id: str, moment: datetime) -> None:
    with db.write() as session:
        session.execute(update(Item).where(Item.id == item_id).values(urgent_since=moment))


def escalation_events(db: Database, item_id: str) -> list[Entry]:
    with db.read() as session:
        return [
            e
            for e in session.scalars(select(Entry).where(Entry.item_id == item_id))
            if (e.data or {}).get("action") == "escalate"
        ]


def test_the_rule_after_hours_at_once_otherwise_after_the_minutes() -> None:
    from portal_api.seed.data import demo_policy

    calendar = BusinessCalendar.from_policy(demo_policy())
    assert reason_to_escalate(SATURDAY_10AM, SATURDAY_10AM, 15, calendar) == AFTER_HOURS
    at = TUESDAY_10AM
    assert reason_to_escalate(at, at + timedelta(minutes=14, seconds=59), 15, calendar) is None
    assert reason_to_escalate(at, at + timedelta(minutes=15), 15, calendar) == UNCLAIMED
    assert reason_to_escalate(at, at + timedelta(minutes=5), 5, None) == UNCLAIMED


def test_an_unclaimed_urgent_item_is_escalated_once(client: TestClient, seeded: Database) -> None:
    item_id = flagged_item(client)
    urgent_since(seeded, item_id, TUESDAY_10AM)
    escalator = Escalator(seeded, PracticeRules(), ["log", "webhook"])
    early = escalator.run(TUESDAY_10AM + timedelta(minutes=5))
    assert item_id not in {e.item_id for e in early}

    done = escalator.run(TUESDAY_10AM + timedelta(minutes=16))
    mine = [e for e in done if e.item_id == item_id]
    assert [(e.reason, e.on_call_id) for e in mine] == [(UNCLAIMED, staff_id(seeded, "doctor"))]
    assert escalator.run(TUESDAY_10AM + timedelta(minutes=30)) == []  # once

    [event] = escalation_events(seeded, item_id)
    assert event.author_kind == "system" and event.author_id is None
    assert event.body == (
        "Escalated to Dr. Priya Patel (on call): urgent and not claimed within 15 minutes"
    )
    with seeded.read() as session:
        audited = session.scalars(
            select(AuditEvent).where(
                AuditEvent.item_id == item_id, AuditEvent.action == "item.escalated"
            )
        ).all()
        assert [a.detail["reason"] for a in audited] == [UNCLAIMED]
        assert audited[0].detail["categories"] == ["cardiac"]
        notes = session.scalars(select(Notification)).all()
        payloads = [n.payload for n in notes if n.payload["item_id"] == item_id]
        assert sorted(n.channel for n in notes if n.payload["item_id"] == item_id) == [
            "log",
            "webhook",
        ]
    payload = payloads[0]
    assert payload["on_call"]["name"] == "Dr. Priya Patel"
    assert payload["categories"] == ["cardiac"]
    assert "chest" not in str(payload)  # never the patient's words


def test_claimed_items_and_routine_items_are_not_escalated(
    client: TestClient, seeded: Database
) -> None:
    claimed = flagged_item(client, "patient2")
    urgent_since(seeded, claimed, SATURDAY_10AM)
    nurse = login(client, "nurse")
    assert act(client, nurse, claimed, {"type": "claim"}).status_code == 200
    done = Escalator(seeded, PracticeRules(), ["log"]).run(SATURDAY_10AM + timedelta(hours=1))
    assert claimed not in {e.item_id for e in done}
    with seeded.read() as session:
        escalated = {e.item_id for e in done}
        routine = session.scalars(select(Item.id).where(Item.priority == "routine")).all()
    assert not escalated & set(routine)


def test_after_hours_goes_to_the_rota_at_once_and_nobody_on_call_is_said(
    client: TestClient, seeded: Database
) -> None:
    weekend = {"starts": "2026-12-05", "ends": "2026-12-06", "staff_id": staff_id(seeded, "np")}
    set_on_call(client, {"default": None, "rota": [weekend]})
    saturday, sunday_after = flagged_item(client, "patient3"), flagged_item(client, "patient4")
    monday_night = datetime(2026, 12, 7, 21, 0, tzinfo=NY).astimezone(UTC)
    urgent_since(seeded, saturday, SATURDAY_10AM)
    urgent_since(seeded, sunday_after, monday_night)
    escalator = Escalator(seeded, PracticeRules(), ["log"])
    done = {e.item_id: e for e in escalator.run(SATURDAY_10AM + timedelta(seconds=30))}
    assert done[saturday].reason == AFTER_HOURS
    assert done[saturday].on_call_id == staff_id(seeded, "np")
    assert sunday_after not in done  # not urgent yet at that moment

    done = {e.item_id: e for e in escalator.run(monday_night + timedelta(minutes=1))}
    assert done[sunday_after].on_call_id is None  # no shift covers Monday, no default
    [event] = escalation_events(seeded, sunday_after)
    assert "no one is on call" in event.body


def test_the_webhook_is_signed_and_retried_with_backoff(seeded: Database) -> None:
    with webhook_receiver(fail_first=2) as receiver:
        outbox = Outbox(seeded, {"webhook": WebhookNotifier(receiver.url, SECRET)}, 10.0)
        start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        with seeded.write() as session:
            enqueue(
                session,
                "webhook",
                {"event": "item.escalated", "item_id": "x", "categories": []},
                start,
            )
        assert outbox.deliver_due(start).retrying == 1
        assert outbox.deliver_due(start + timedelta(seconds=5)).retrying == 0  # not yet due
        assert outbox.deliver_due(start + timedelta(seconds=10)).retrying == 1
        assert outbox.deliver_due(start + timedelta(seconds=10 + 19)).delivered == 0
        assert outbox.deliver_due(start + timedelta(seconds=10 + 20)).delivered == 1
        received = receiver.received()
    assert len(received) == 3
    assert all(d.signed_with(SECRET) for d in received)
    assert not received[0].signed_with("another secret")
    assert received[0].body == received[2].body
    assert received[0].headers["x-triage-event"] == "item.escalated"
    assert received[0].headers["x-triage-signature"] == signature(SECRET, received[0].body)
    with seeded.read() as session:
        row = session.scalars(select(Notification)).one()
        assert row.attempts == 3 and row.delivered_at is not None and row.failed_at is None


def test_an_unreachable_webhook_is_given_up_after_its_attempts(seeded: Database) -> None:
    closed_port = free_port()
    outbox = Outbox(
        seeded,
        {"webhook": WebhookNotifier(f"http://127.0.0.1:{closed_port}/", SECRET, timeout=1)},
        1.0,
    )
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    with seeded.write() as session:
        enqueue(session, "webhook", {"event": "item.escalated"}, now)
    for _ in range(MAX_ATTEMPTS):
        outbox.deliver_due(now)
        now += timedelta(hours=2)
    with seeded.read() as session:
        row = session.scalars(select(Notification)).one()
    assert row.failed_at is not None and row.delivered_at is None
    assert row.attempts == MAX_ATTEMPTS
    assert row.last_error is not None and "unreachable" in row.last_error
    assert backoff(1, 30) == timedelta(seconds=30)
    assert backoff(3, 30) == timedelta(seconds=120)
    assert backoff(20, 30) == timedelta(hours=1)


def closed_now_policy(policy: dict) -> dict:
    """The practice is open only one hour on a weekday three days away: now is after hours."""
    today = datetime.now(NY).weekday()
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(today + 3) % 7]
    hours = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hours[day] = [["09:00", "10:00"]]
    return {**policy, "business_hours": hours, "holidays": {"closed": []}}


def close_the_practice_now(db: Database) -> None:
    with db.write() as session:
        row = session.get(Policy, 1)
        assert row is not None
        row.document = closed_now_policy(row.document)
        row.version += 1


def test_the_scheduler_escalates_and_delivers_in_the_running_service(
    settings: Settings, seeded: Database
) -> None:
    close_the_practice_now(seeded)
    with webhook_receiver() as receiver:
        running = Settings(
            database_url=settings.database_url,
            password_profile="fast",
            escalation_check_seconds=0.2,
            notification_check_seconds=0.2,
            webhook_url=receiver.url,
            webhook_secret=SECRET,
        )
        with TestClient(create_app(running, seeded)) as client:
            item_id = flagged_item(client, "patient5")
            assert wait_until(lambda: escalation_events(seeded, item_id), timeout=10)
            assert wait_until(
                lambda: any(d.payload.get("item_id") == item_id for d in receiver.received()),
                timeout=10,
            )
        mine = [d for d in receiver.received() if d.payload["item_id"] == item_id]
    assert len(mine) == 1 and mine[0].signed_with(SECRET)
    assert mine[0].payload["reason"] == AFTER_HOURS
    assert len(escalation_events(seeded, item_id)) == 1


@pytest.mark.postgres
def test_two_server_processes_escalate_once_and_one_takes_over(postgres_server) -> None:  # type: ignore[no-untyped-def]
    from portal_api import schema
    from portal_api.db import create_db_engine

    url = postgres_server.new_database()
    engine = create_db_engine(url)
    schema.upgrade(engine)
    db = Database(engine)
    seed_demo(db, random_seed=3, patients=10, items=0, password_profile="fast")
    close_the_practice_now(db)
    with webhook_receiver() as receiver:
        env = {
            "PORTAL_API_SCHEDULER": "true",
            "PORTAL_API_ESCALATION_CHECK_SECONDS": "0.3",
            "PORTAL_API_NOTIFICATION_CHECK_SECONDS": "0.3",
            "PORTAL_API_WEBHOOK_URL": receiver.url,
            "PORTAL_API_WEBHOOK_SECRET": SECRET,
        }
        with ExitStack() as first_process, ExitStack() as second_process:
            first = first_process.enter_context(portal_process(url, env=env))
            second = second_process.enter_context(portal_process(url, env=env))
            first_item = http_flagged(first, "patient1")
            assert wait_until(lambda: escalation_events(db, first_item), timeout=15)
            # Several ticks of both processes later: still once, one audit record, one POST.
            wait_until(lambda: False, timeout=2)
            assert len(escalation_events(db, first_item)) == 1
            assert audited_escalations(db, first_item) == 1
            assert [d.payload["item_id"] for d in receiver.received()] == [first_item]
            # The first process (started first: the leader) stops; the second takes over.
            first_process.close()
            later_item = http_flagged(second, "patient2")
            assert wait_until(lambda: escalation_events(db, later_item), timeout=15)
            assert wait_until(
                lambda: (
                    [d.payload["item_id"] for d in receiver.received()] == [first_item, later_item]
                ),
                timeout=10,
            )
    engine.dispose()


def http_flagged(base_url: str, patient: str) -> str:
    tokens = http_login(base_url, patient, patient=True)
    reply = requests.post(
        f"{base_url}/api/v1/patient/requests",
        json={"kind": "message", "subject": "Help", "body": "my husband's face is drooping"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["item"]["id"])


def audited_escalations(db: Database, item_id: str) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.item_id == item_id, AuditEvent.action == "item.escalated")
            )
            or 0
        )


def test_a_notification_being_sent_is_leased_so_no_other_process_sends_it(
    seeded: Database,
) -> None:
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    other = Outbox(seeded, {"log": LogNotifier()})
    seen_by_other: list[object] = []

    class Slow:
        def send(self, payload: object, delivery_id: str) -> None:
            # While this one is sending, a second process's tick finds nothing to send.
            seen_by_other.append(other.deliver_due(now))

    with seeded.write() as session:
        enqueue(session, "log", {"event": "item.escalated"}, now)
    assert Outbox(seeded, {"log": Slow()}).deliver_due(now).delivered == 1
    assert seen_by_other == [DeliveryReport(0, 0, 0)]


def test_a_deactivated_rota_clinician_falls_back_to_the_default(
    client: TestClient, seeded: Database
) -> None:
    shift = {"starts": "2026-12-05", "ends": "2026-12-06", "staff_id": staff_id(seeded, "np")}
    set_on_call(client, {"default": staff_id(seeded, "doctor2"), "rota": [shift]})
    with seeded.write() as session:
        session.execute(update(Staff).where(Staff.username == "np").values(active=False))
    item_id = flagged_item(client, "patient11")
    urgent_since(seeded, item_id, SATURDAY_10AM)
    done = {e.item_id: e for e in Escalator(seeded, PracticeRules(), ["log"]).run(SATURDAY_10AM)}
    assert done[item_id].on_call_id == staff_id(seeded, "doctor2")
