"""Password hashing (argon2id) and opaque tokens (random; only their SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106 second recommended option (64 MiB, 3 passes); "fast" is for tests and demo seeds.
_HASHERS = {
    "standard": PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


def password_hasher(profile: str) -> PasswordHasher:
    try:
        return _HASHERS[profile]
    except KeyError:
        raise ValueError(f"unknown password profile {profile!r}") from None


def hash_password(password: str, profile: str = "standard") -> str:
    return password_hasher(profile).hash(password)


def verify_password(stored_hash: str | None, password: str, profile: str = "standard") -> bool:
    """Verify with the parameters stored in the hash; unknown users still cost one hash."""
    hasher = password_hasher(profile)
    if not stored_hash:
        # Spend comparable time so a missing account is not told apart by timing.
        hasher.hash(password)
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
