"""Sign-in, token rotation, lockout and bearer-token checks for staff and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from triage_core.sessions import session_idle_hours

from . import audit
from .config import Settings
from .db import Database, rows_affected
from .errors import ApiError, unauthorized
from .lockout import Lockout, account_detail
from .models import (
    AccessToken,
    AuthSession,
    Patient,
    Policy,
    RefreshToken,
    Staff,
    utcnow,
)
from .security import new_token, token_hash, verify_password
from .session_ends import SessionEnds

STAFF = "staff"
PATIENT = "patient"


@dataclass(frozen=True)
class Principal:
    """Who is calling: plain data, safe to pass around (no ORM object, no token)."""

    kind: str  # "staff" or "patient"
    id: str
    session_id: str
    role: str | None = None  # staff role


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    principal_id: str


def normalise_username(username: str) -> str:
    return username.strip().lower()


class AuthService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.lockout = Lockout(db, settings.lockout_attempts, settings.lockout_window_minutes)
        self.ends = SessionEnds()

    # ---- login -------------------------------------------------------------------------------

    def login(self, scope: str, username: str, password: str, ip: str | None) -> IssuedTokens:
        name = normalise_username(username)
        key = self.lockout.key(scope, name)
        now = utcnow()
        principal_id, stored_hash, active = self._lookup(scope, name)
        with self.db.write() as session:
            # The attempt counts before its (slow) password check: see lockout.py.
            reservation = self.lockout.reserve(session, scope, key, now)
            if reservation.refusal is not None:
                audit.append(
                    session,
                    actor_kind="anonymous",
                    actor_id=None,
                    action=f"{scope}.login_throttled",
                    ip=ip,
                    detail=account_detail(principal_id),
                )
        if reservation.refusal is not None:
            raise reservation.refusal
        assert reservation.attempt_id is not None

        ok = verify_password(stored_hash, password, self.settings.password_profile) and active
        with self.db.write() as session:
            if not ok:
                # The reserved attempt stays: it is the failure.
                self.lockout.failed(session, scope, reservation.attempt_id)
                audit.append(
                    session,
                    actor_kind="anonymous",
                    actor_id=None,
                    action=f"{scope}.login_failed",
                    ip=ip,
                    detail=account_detail(principal_id),
                )
            else:
                assert principal_id is not None
                self.lockout.clear(session, scope, key, reservation.attempt_id)
                tokens = self._issue(session, scope, principal_id, now)
                audit.append(
                    session,
                    actor_kind=scope,
                    actor_id=principal_id,
                    action=f"{scope}.login",
                    patient_id=principal_id if scope == PATIENT else None,
                    ip=ip,
                )
        if not ok:
            raise unauthorized("Wrong username or password.")
        return tokens

    def _lookup(self, scope: str, name: str) -> tuple[str | None, str | None, bool]:
        with self.db.read() as session:
            if scope == STAFF:
                row = session.execute(
                    select(Staff.id, Staff.password_hash, Staff.active).where(
                        func.lower(Staff.username) == name
                    )
                ).first()
                return (row[0], row[1], bool(row[2])) if row else (None, None, False)
            prow = session.execute(
                select(Patient.id, Patient.password_hash).where(
                    func.lower(Patient.username) == name
                )
            ).first()
            return (prow[0], prow[1], prow[1] is not None) if prow else (None, None, False)

    def _issue(
        self,
        session: Session,
        scope: str,
        principal_id: str,
        now: datetime,
        session_id: str | None = None,
    ) -> IssuedTokens:
        if session_id is None:
            login = AuthSession(principal_kind=scope, principal_id=principal_id, created_at=now)
            session.add(login)
            session.flush()
            session_id = login.id
        access, refresh = new_token(), new_token()
        access_life = timedelta(minutes=self.settings.access_token_minutes)
        session.add(
            AccessToken(
                token_hash=token_hash(access), session_id=session_id, expires_at=now + access_life
            )
        )
        session.add(
            RefreshToken(
                token_hash=token_hash(refresh),
                session_id=session_id,
                expires_at=now + timedelta(days=self.settings.refresh_token_days),
            )
        )
        return IssuedTokens(access, refresh, int(access_life.total_seconds()), principal_id)

    # ---- refresh and logout ------------------------------------------------------------------

    def refresh(self, scope: str, refresh_token: str, ip: str | None) -> IssuedTokens:
        now = utcnow()
        digest = token_hash(refresh_token)
        outcome: IssuedTokens | None = None
        ended: ApiError | None = None
        with self.db.write() as session:
            row = session.execute(
                select(RefreshToken, AuthSession)
                .join(AuthSession, AuthSession.id == RefreshToken.session_id)
                .where(RefreshToken.token_hash == digest)
            ).first()
            if row is None:
                pass
            else:
                token, login = row
                if login.principal_kind != scope or login.revoked_at is not None:
                    pass
                elif token.used_at is not None:
                    # A used token came back: someone holds a copy. End the whole login.
                    self._revoke(session, login.id, now, "refresh_reuse")
                    audit.append(
                        session,
                        actor_kind=scope,
                        actor_id=login.principal_id,
                        action=f"{scope}.refresh_reuse",
                        ip=ip,
                    )
                elif token.expires_at <= now or not self._still_allowed(session, login):
                    pass
                elif (ended := self._session_limit(session, login, now)) is not None:
                    self._revoke(session, login.id, now, ended.code)
                    audit.append(
                        session,
                        actor_kind=scope,
                        actor_id=login.principal_id,
                        action=f"{scope}.{ended.code}",
                        ip=ip,
                        detail=ended.details,
                    )
                else:
                    claimed = rows_affected(
                        session.execute(
                            update(RefreshToken)
                            .where(
                                RefreshToken.token_hash == digest, RefreshToken.used_at.is_(None)
                            )
                            .values(used_at=now)
                        )
                    )
                    if claimed == 1:
                        outcome = self._issue(session, scope, login.principal_id, now, login.id)
                    else:
                        self._revoke(session, login.id, now, "refresh_reuse")
        if outcome is None:
            if ended is not None:
                raise ended
            raise unauthorized("The session has ended. Sign in again.")
        return outcome

    def _session_limit(
        self, session: Session, login: AuthSession, now: datetime
    ) -> ApiError | None:
        """The 401 for a staff login past its limits: its refresh token unused for the
        policy's `session_idle_hours` (an unattended PC), or older than the refresh token's
        life since the password was given (a rotating token does not extend it)."""
        if login.principal_kind != STAFF:
            return None
        if login.created_at + timedelta(days=self.settings.refresh_token_days) <= now:
            return ApiError(
                401,
                "session_expired",
                "The session has reached its time limit. Sign in again.",
                {"days": self.settings.refresh_token_days},
                headers={"WWW-Authenticate": "Bearer"},
            )
        # The unused token was issued when the one before it was used (or at sign-in).
        last_used = session.scalar(
            select(func.max(RefreshToken.used_at)).where(RefreshToken.session_id == login.id)
        )
        issued = max(login.created_at, last_used) if last_used else login.created_at
        policy = session.get(Policy, 1)
        hours = session_idle_hours(policy.document if policy is not None else None)
        if issued + timedelta(hours=hours) > now:
            return None
        return ApiError(
            401,
            "session_idle",
            f"The session ended after {hours:g} hours without use. Sign in again.",
            {"hours": hours},
            headers={"WWW-Authenticate": "Bearer"},
        )

    def _still_allowed(self, session: Session, login: AuthSession) -> bool:
        if login.principal_kind == STAFF:
            active = session.scalar(select(Staff.active).where(Staff.id == login.principal_id))
            return bool(active)
        return session.get(Patient, login.principal_id) is not None

    def _revoke(self, session: Session, session_id: str, now: datetime, reason: str) -> None:
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        session.execute(delete(AccessToken).where(AccessToken.session_id == session_id))
        # Open event streams of this session end once the revocation is committed.
        self.ends.after_commit(session, session_id)

    def logout(self, principal: Principal, ip: str | None) -> None:
        with self.db.write() as session:
            self._revoke(session, principal.session_id, utcnow(), "logout")
            audit.append(
                session,
                actor_kind=principal.kind,
                actor_id=principal.id,
                action=f"{principal.kind}.logout",
                ip=ip,
            )

    # ---- bearer tokens -----------------------------------------------------------------------

    def authenticate(self, access_token: str) -> Principal:
        now = utcnow()
        with self.db.read() as session:
            row = session.execute(
                select(AuthSession.id, AuthSession.principal_kind, AuthSession.principal_id)
                .join(AccessToken, AccessToken.session_id == AuthSession.id)
                .where(
                    AccessToken.token_hash == token_hash(access_token),
                    AccessToken.expires_at > now,
                    AuthSession.revoked_at.is_(None),
                )
            ).first()
            if row is None:
                raise unauthorized("The access token is invalid or has expired.")
            session_id, kind, principal_id = row
            if kind == STAFF:
                staff = session.execute(
                    select(Staff.role, Staff.active).where(Staff.id == principal_id)
                ).first()
                if staff is None or not staff[1]:
                    raise unauthorized("This account is no longer active.")
                return Principal(STAFF, principal_id, session_id, staff[0])
            return Principal(PATIENT, principal_id, session_id)

    def session_stands(self, session_id: str) -> bool:
        """Whether a login is still good: not revoked, its staff member still active (what an
        open event stream re-checks; a deactivation elsewhere revokes or deactivates)."""
        with self.db.read() as session:
            row = session.execute(
                select(AuthSession.principal_kind, AuthSession.principal_id).where(
                    AuthSession.id == session_id, AuthSession.revoked_at.is_(None)
                )
            ).first()
            if row is None:
                return False
            if row[0] == STAFF:
                return bool(session.scalar(select(Staff.active).where(Staff.id == row[1])))
            return True

    def purge_expired(self, now: datetime | None = None) -> None:
        """Drop tokens and lockout rows that can no longer matter."""
        now = now or utcnow()
        with self.db.write() as session:
            session.execute(delete(AccessToken).where(AccessToken.expires_at <= now))
            session.execute(
                delete(RefreshToken).where(RefreshToken.expires_at <= now - timedelta(days=1))
            )
            self.lockout.purge(session, now)
