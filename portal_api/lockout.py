"""Sign-in lockout: at most `lockout_attempts` passwords checked per name in the window.

Each attempt is reserved (a `LoginFailure` row) before its password is checked, under a lock
per name: a PostgreSQL advisory transaction lock, or SQLite's one writer (`BEGIN IMMEDIATE`).
Reading the count before the slow check and writing it after let 40 simultaneous guesses all
through (the count was 0 for each of them); a reservation counts at once, pending or failed, so
the sixth guess is refused however the guesses arrive. A reservation is pending (its scope
marked with `?`) until its check ends: a failed check turns it into a failure, a successful one
removes it and the failures *finished* before it. Guesses still being checked meanwhile are not
cleared by a success: when they fail, they count.

Names are never stored as typed (a password typed into the name field would be kept): a row
holds the HMAC-SHA256 of the scope and normalised name under a secret made once per database
(`meta.login_key`). Rows older than the window are purged by the upkeep job.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .db import Database
from .errors import ApiError
from .models import LoginFailure, Meta

LOGIN_KEY = "login_key"
# The advisory lock space of sign-in attempts (two-int form: apart from the one-bigint locks
# of migrations and leadership).
LOCK_SPACE = 74125002


def pending(scope: str) -> str:
    """How a reservation whose password is still being checked is marked."""
    return f"{scope}?"


@dataclass(frozen=True)
class Reservation:
    attempt_id: int | None  # None: refused
    refusal: ApiError | None = None


def account_detail(account_id: str | None) -> dict[str, Any]:
    """What the audit keeps of a failed or refused sign-in: whether the name is an account,
    and which; never the typed name (it may be a password)."""
    if account_id is None:
        return {"known_account": False}
    return {"known_account": True, "account_id": account_id}


class Lockout:
    def __init__(self, db: Database, attempts: int, window_minutes: float) -> None:
        self.db = db
        self.attempts = attempts
        self.window = timedelta(minutes=window_minutes)
        self._secret: bytes | None = None
        self._secret_lock = threading.Lock()

    def key(self, scope: str, name: str) -> str:
        """The stored stand-in for a normalised name: HMAC-SHA256, hex."""
        message = f"{scope}\n{name}".encode()
        return hmac.new(self._key_secret(), message, hashlib.sha256).hexdigest()

    def _key_secret(self) -> bytes:
        with self._secret_lock:
            if self._secret is None:
                self._secret = bytes.fromhex(self._load_or_make_secret())
            return self._secret

    def _load_or_make_secret(self) -> str:
        insert = pg_insert if self.db.postgres else sqlite_insert
        with self.db.write() as session:
            # Several processes may start at once: the first insert wins, all read the same.
            session.execute(
                insert(Meta)
                .values(key=LOGIN_KEY, value=secrets.token_hex(32))
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return str(session.scalar(select(Meta.value).where(Meta.key == LOGIN_KEY)))

    def reserve(self, session: Session, scope: str, key: str, now: datetime) -> Reservation:
        """Count this attempt before its password is checked, or refuse it (429) while the
        name has `attempts` attempts in the window, pending ones included."""
        if self.db.postgres:
            session.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:k AS integer))"),
                {"space": LOCK_SPACE, "k": int.from_bytes(bytes.fromhex(key[:8]), signed=True)},
            )
        counted = session.scalars(
            select(LoginFailure.at)
            .where(
                LoginFailure.scope.in_((scope, pending(scope))),
                LoginFailure.username == key,
                LoginFailure.at > now - self.window,
            )
            .order_by(LoginFailure.at.desc())
            .limit(self.attempts)
        ).all()
        if len(counted) >= self.attempts:
            # Locked until the oldest of the counted attempts leaves the window.
            retry_after = max(1, int((min(counted) + self.window - now).total_seconds()) + 1)
            return Reservation(
                None,
                ApiError(
                    429,
                    "throttled",
                    "Too many failed sign-in attempts. Try again later.",
                    {"retry_after": retry_after},
                    headers={"Retry-After": str(retry_after)},
                ),
            )
        attempt = LoginFailure(scope=pending(scope), username=key, at=now)
        session.add(attempt)
        session.flush()
        return Reservation(attempt.id)

    @staticmethod
    def failed(session: Session, scope: str, attempt_id: int) -> None:
        """The check of this attempt failed: from pending to a failure (it keeps counting)."""
        session.execute(
            update(LoginFailure).where(LoginFailure.id == attempt_id).values(scope=scope)
        )

    @staticmethod
    def clear(session: Session, scope: str, key: str, attempt_id: int) -> None:
        """A successful sign-in: its own reservation and the failures finished before it stop
        counting; guesses still being checked (pending) are left to count when they fail."""
        session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.scope == scope,
                LoginFailure.username == key,
                LoginFailure.id < attempt_id,
            )
        )

    def purge(self, session: Session, now: datetime) -> None:
        """Rows that no longer count (the upkeep job, every 10 minutes)."""
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - self.window))
