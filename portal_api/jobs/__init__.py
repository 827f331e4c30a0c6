"""The service's scheduled jobs (APScheduler), run by one leader among the server processes.

- `escalate` (every `escalation_check_seconds`, default 60): urgent work nobody picked up goes
  to the on-call clinician (`escalation.py`).
- `notify` (every `notification_check_seconds`, default 5): the outbox of escalation messages,
  sent through the log and, when configured, a signed webhook (`notify.py`).
- `upkeep` (every 10 minutes): purges expired tokens, lockout rows, idempotency records and
  delivered notifications.
- `anchor` (every `audit_anchor_seconds`, default 300; only with `audit_anchor_file` set): the
  audit chain's head, appended to the anchor file when it moved (`anchor.py`); once more
  when the scheduler stops.

Jobs are short (a batch each); a run that fails is logged by name and tried at the next tick.
Only the leader (`leader.py`) does the work; the other processes' ticks return at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete

from ..config import Settings
from ..db import Database
from ..models import Notification, utcnow
from ..urgency import PracticeRules
from .anchor import Anchorer
from .escalation import Escalator
from .leader import Leadership
from .notify import LogNotifier, Notifier, Outbox, WebhookNotifier

log = logging.getLogger(__name__)

UPKEEP_SECONDS = 600.0
KEEP_NOTIFICATIONS = timedelta(days=30)


def notifiers(settings: Settings) -> dict[str, Notifier]:
    chosen: dict[str, Notifier] = {"log": LogNotifier()}
    if settings.webhook_url:
        chosen["webhook"] = WebhookNotifier(settings.webhook_url, settings.webhook_secret)
    return chosen


class Jobs:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        rules: PracticeRules,
        upkeep: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.db = db
        self.leadership = Leadership(db)
        self.outbox = Outbox(db, notifiers(settings), settings.webhook_retry_seconds)
        self.escalator = Escalator(db, rules, self.outbox.channels)
        self._upkeep = upkeep
        self.anchorer = (
            Anchorer(db, Path(settings.audit_anchor_file).expanduser())
            if settings.audit_anchor_file
            else None
        )
        self.scheduler: BackgroundScheduler | None = None

    def start(self) -> None:
        if not self.settings.scheduler:
            log.info("scheduled jobs are off in this process (scheduler = false)")
            return
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        now = utcnow()
        jobs: list[tuple[str, Callable[[], object], float]] = [
            ("escalate", self.escalator.run, self.settings.escalation_check_seconds),
            ("notify", self.outbox.deliver_due, self.settings.notification_check_seconds),
            ("upkeep", self.upkeep, UPKEEP_SECONDS),
        ]
        if self.anchorer is not None:
            jobs.append(("anchor", self.anchorer.run, self.settings.audit_anchor_seconds))
        for name, work, seconds in jobs:
            scheduler.add_job(
                self._led(name, work),
                IntervalTrigger(seconds=seconds),  # (an object, not an alias: no entry points)
                id=name,
                name=name,
                next_run_time=now,
            )
        scheduler.start()
        self.scheduler = scheduler

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
            if self.anchorer is not None:  # the last head, while this process still leads
                self._led("anchor", self.anchorer.run)()
        self.leadership.release()

    def upkeep(self) -> None:
        self._upkeep()
        with self.db.write() as session:
            session.execute(
                delete(Notification).where(
                    Notification.created_at < utcnow() - KEEP_NOTIFICATIONS,
                    (Notification.delivered_at.is_not(None))
                    | (Notification.failed_at.is_not(None)),
                )
            )

    def _led(self, name: str, work: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                if self.leadership.held():
                    work()
            except Exception as exc:  # logged by name; the next tick tries again
                log.warning("scheduled job %s failed: %s", name, type(exc).__name__)

        return run


__all__ = ["Jobs"]
