"""Unlocking a locked desk: the password checked by the server when it answers, else by a
verifier kept in the encrypted cache.

The verifier is an argon2id hash of the person's password, written to the cache's `meta` table
(so it is encrypted at rest with the rest of the cache) at each password sign-in and each online
unlock. It only ever unlocks this person's own, already open cache: it is no way in from a
signed-out desk, since the cache key stays in the keyring and the cache stays closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .api import ApiClient, User
from .cache import Cache
from .errors import Offline, Throttled, TlsError, Unauthorized

log = logging.getLogger(__name__)

VERIFIER_KEY = "unlock_verifier"
# RFC 9106's second recommended option, as the service uses for staff passwords: about a
# tenth of a second on an office PC, on a worker.
HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)


def make_verifier(password: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(password)


def check_verifier(verifier: str | None, password: str) -> bool:
    """Checked with the parameters stored in the hash itself."""
    if not verifier:
        return False
    try:
        return HASHER.verify(verifier, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def remember_password(cache: Cache, password: str, hasher: PasswordHasher = HASHER) -> None:
    """Keep (or replace) the offline verifier: after a password the server accepted."""
    cache.set_meta(**{VERIFIER_KEY: make_verifier(password, hasher)})


class Outcome(Enum):
    ONLINE = "online"  # the server accepted the password (fresh tokens, stored as a sign-in)
    OFFLINE = "offline"  # the server did not answer; the cache's verifier matched
    WRONG = "wrong"  # the server, or offline the verifier, refused the password
    THROTTLED = "throttled"  # the server locks the account after too many failures
    UNCHECKABLE = "uncheckable"  # offline, and no verifier on this computer yet


@dataclass(frozen=True)
class UnlockAnswer:
    outcome: Outcome
    retry_after: int = 0  # seconds, with THROTTLED

    @property
    def unlocked(self) -> bool:
        return self.outcome in (Outcome.ONLINE, Outcome.OFFLINE)

    @property
    def counts_as_wrong(self) -> bool:
        return self.outcome in (Outcome.WRONG, Outcome.THROTTLED)


def unlock(
    api: ApiClient,
    cache: Cache,
    user: User,
    password: str,
    hasher: PasswordHasher = HASHER,
) -> UnlockAnswer:
    """Check `password` for the signed-in `user` (network and hashing: call on a worker).

    Online, this is the staff sign-in itself, on the desk's shared tokens: the new tokens
    replace the old ones for the sync engine and in the keyring, as a fresh sign-in does, and
    the earlier login is ended on the server. A certificate problem is not "offline": it may be
    someone in the middle, so nothing is unlocked without the server then.
    """
    client = api.sibling()
    previous = (api.tokens.access, api.tokens.refresh)
    try:
        signed = client.login(user.username, password)
    except Unauthorized:
        return UnlockAnswer(Outcome.WRONG)
    except Throttled as exc:
        return UnlockAnswer(Outcome.THROTTLED, int(exc.details.get("retry_after") or 0))
    except TlsError:
        raise
    except Offline:
        verifier = cache.meta(VERIFIER_KEY)
        if verifier is None:
            return UnlockAnswer(Outcome.UNCHECKABLE)
        return UnlockAnswer(
            Outcome.OFFLINE if check_verifier(verifier, password) else Outcome.WRONG
        )
    finally:
        client.close()
    if signed.id != user.id:  # (the same username now names another account)
        return UnlockAnswer(Outcome.WRONG)
    remember_password(cache, password, hasher)
    _end_login(api, *previous)
    return UnlockAnswer(Outcome.ONLINE)


def _end_login(api: ApiClient, access: str | None, refresh: str | None) -> None:
    """Best effort: the login the unlock replaced is revoked (its tokens are forgotten here
    either way; nothing is written to the keyring)."""
    if access is None and refresh is None:
        return
    old = ApiClient(api.base_url, timeouts=api.timeouts)
    old.tokens.access, old.tokens.refresh = access, refresh
    try:
        old.logout()
    finally:
        old.close()
