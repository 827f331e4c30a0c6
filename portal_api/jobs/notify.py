"""Telling a person outside the app: pluggable notifiers and the outbox they are fed from.

An escalation writes one `Notification` row per channel in its own transaction, so nothing is
lost if the process stops; the delivery job sends what is due and retries a failure with
exponential backoff until it is delivered or out of attempts.

Channels:
- `log`: a WARNING line in the service log (always on; a log watcher can page from it).
- `webhook`: an HTTP POST of the JSON payload, signed with HMAC-SHA256 over the exact body
  bytes with the shared secret: `X-Triage-Signature: sha256=<hex>`. Any 2xx is delivered.

Payloads name the item, its red-flag categories and the on-call clinician; never the patient's
name or words (they travel through systems outside the practice's record).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Notification, utcnow

log = logging.getLogger("portal_api.notify")

SIGNATURE_HEADER = "X-Triage-Signature"
MAX_ATTEMPTS = 10
BACKOFF_CAP = timedelta(hours=1)
BATCH = 50
LEASE = timedelta(minutes=2)
TIME_BUDGET_SECONDS = 20.0  # a run stops starting new deliveries after this (jobs are short)


class DeliveryError(Exception):
    """A notifier could not deliver (said without secrets or payload)."""


class Notifier(Protocol):
    def send(self, payload: Mapping[str, Any], delivery_id: str) -> None: ...


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The header value a receiver recomputes to check the body came from this service."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class LogNotifier:
    def send(self, payload: Mapping[str, Any], delivery_id: str) -> None:
        on_call = payload.get("on_call") or {}
        log.warning(
            "ESCALATION item %s (%s): %s; on call: %s",
            payload.get("item_id"),
            ", ".join(payload.get("categories") or []) or "urgent",
            payload.get("reason"),
            on_call.get("name") or "nobody named in the policy",
        )


class WebhookNotifier:
    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.http = requests.Session()

    def send(self, payload: Mapping[str, Any], delivery_id: str) -> None:
        body = body_bytes(payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "triage-desk-portal",
            SIGNATURE_HEADER: signature(self.secret, body),
            "X-Triage-Event": str(payload.get("event", "")),
            "X-Triage-Delivery": delivery_id,
        }
        try:
            reply = self.http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from None
        if not 200 <= reply.status_code < 300:
            raise DeliveryError(f"webhook answered HTTP {reply.status_code}")


def enqueue(session: Session, channel: str, payload: dict[str, Any], now: datetime) -> None:
    """A notification for a channel, due now, in the caller's transaction."""
    session.add(
        Notification(
            channel=channel, payload=payload, created_at=now, attempts=0, next_attempt_at=now
        )
    )


def backoff(attempts: int, base: float) -> timedelta:
    """Wait before the next try: base, twice that, four times … up to an hour."""
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), BACKOFF_CAP)


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


class Outbox:
    """Sends due notifications through the notifier of their channel."""

    def __init__(
        self, db: Database, notifiers: Mapping[str, Notifier], retry_base_seconds: float = 30.0
    ) -> None:
        self.db = db
        self.notifiers = dict(notifiers)
        self.retry_base_seconds = retry_base_seconds

    @property
    def channels(self) -> list[str]:
        return sorted(self.notifiers)

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        now = now or utcnow()
        with self.db.write() as session:
            rows = session.scalars(
                select(Notification)
                .where(
                    Notification.delivered_at.is_(None),
                    Notification.failed_at.is_(None),
                    Notification.next_attempt_at <= now,
                )
                .order_by(Notification.next_attempt_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            # Leased: another process (a new leader during a handover) skips them meanwhile,
            # and if this one stops mid-send they are tried again when the lease ends.
            for row in rows:
                row.next_attempt_at = now + LEASE
            due = [(row.id, row.channel, row.payload, row.attempts) for row in rows]
        delivered = retrying = failed = 0
        started = time.monotonic()
        for notification_id, channel, payload, attempts in due:
            if time.monotonic() - started > TIME_BUDGET_SECONDS:
                break
            error = self._send(channel, payload, notification_id)
            attempts += 1
            with self.db.write() as session:
                kept = session.get(Notification, notification_id)
                if kept is None or kept.delivered_at is not None:
                    continue
                kept.attempts = attempts
                if error is None:
                    kept.delivered_at = utcnow()
                    kept.last_error = None
                    delivered += 1
                elif attempts >= MAX_ATTEMPTS or channel not in self.notifiers:
                    kept.failed_at = utcnow()
                    kept.last_error = error[:300]
                    failed += 1
                    log.error(
                        "notification %s (%s) given up after %d attempts: %s",
                        notification_id,
                        channel,
                        attempts,
                        error,
                    )
                else:
                    kept.next_attempt_at = now + backoff(attempts, self.retry_base_seconds)
                    kept.last_error = error[:300]
                    retrying += 1
                    log.warning(
                        "notification %s (%s) failed, retrying: %s", notification_id, channel, error
                    )
        return DeliveryReport(delivered, retrying, failed)

    def _send(self, channel: str, payload: dict[str, Any], delivery_id: str) -> str | None:
        notifier = self.notifiers.get(channel)
        if notifier is None:
            return f"no {channel} notifier is configured"
        try:
            notifier.send(payload, delivery_id)
        except DeliveryError as exc:
            return str(exc)
        except Exception as exc:  # a notifier's bug must not stop the others
            return f"{channel} notifier failed ({type(exc).__name__})"
        return None
