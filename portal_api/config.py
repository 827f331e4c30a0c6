"""Service settings, declared once, read from the command line or `PORTAL_API_*` variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "triage-desk-portal"


def default_database_url() -> str:
    """A SQLite file in the platform's user data folder."""
    folder = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return f"sqlite:///{folder / 'portal.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    access_token_minutes: float = 15.0
    refresh_token_days: float = 14.0
    lockout_attempts: int = 5
    lockout_window_minutes: float = 15.0
    idempotency_days: float = 8.0
    heartbeat_seconds: float = 15.0
    # An open event stream re-checks in the database this often that its session still
    # stands (a sign-out in this process ends it at once; see routes/sync.py `events`).
    session_check_seconds: float = 5.0
    # What one patient may send (new requests and messages on them together), counted from
    # the messages they wrote; beyond it `429` with Retry-After. 0 turns a limit off.
    patient_messages_per_minute: int = 10
    patient_messages_per_day: int = 60
    # Password hashing cost: "standard" (argon2id, RFC 9106 low-memory profile) or "fast"
    # (tests and throwaway demo databases only).
    password_profile: str = "standard"
    # Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    trust_forwarded_for: bool = False
    # Scheduled jobs (escalation, notifications, upkeep); one process leads, see jobs/.
    scheduler: bool = True
    escalation_check_seconds: float = 60.0
    notification_check_seconds: float = 5.0
    # Escalations are also POSTed here, signed with HMAC-SHA256 of the body under the secret
    # (`X-Triage-Signature: sha256=<hex>`); failures are retried from this many seconds,
    # doubling each time up to an hour.
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_retry_seconds: float = 30.0
    # The audit chain's head is appended to this file (one JSON line) every so many seconds
    # when it has moved; `portal-api audit verify --anchors FILE` checks every line still
    # holds. Empty: no anchors (see anchors.py).
    audit_anchor_file: str = ""
    audit_anchor_seconds: float = 300.0

    def __post_init__(self) -> None:
        for name in (
            "escalation_check_seconds",
            "notification_check_seconds",
            "audit_anchor_seconds",
            "session_check_seconds",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"PORTAL_API_{name.upper()} must be more than 0")
        for name in ("patient_messages_per_minute", "patient_messages_per_day"):
            if getattr(self, name) < 0:
                raise ValueError(f"PORTAL_API_{name.upper()} must be 0 (no limit) or more")
        if self.webhook_url:
            if not self.webhook_url.startswith(("http://", "https://")):
                raise ValueError("PORTAL_API_WEBHOOK_URL must be an http:// or https:// URL")
            if len(self.webhook_secret) < 16:
                raise ValueError(
                    "PORTAL_API_WEBHOOK_SECRET must be set (16 characters or more) to sign "
                    "the webhook"
                )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"PORTAL_API_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _coerce(name: str, raw: str, kind: object) -> object:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind_name == "float":
            return float(raw)
        if kind_name == "int":
            return int(raw)
        if kind_name == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
    except ValueError:
        raise ValueError(f"PORTAL_API_{name.upper()} has an invalid value") from None
    return raw
