"""Secrets (the refresh token and the cache key) live only in the OS keyring.

One small interface over `keyring`. If no secure backend is available it says so plainly and
keeps secrets in memory for this session only; the plain-text backends of `keyrings.alt` are
refused as insecure. `PYTHON_KEYRING_BACKEND` is honoured, as `keyring` does.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from dataclasses import dataclass

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from .urls import normalise_server_url

log = logging.getLogger(__name__)

REFRESH_TOKEN = "refresh_token"
CACHE_KEY = "cache_key"
# Windows' credential store holds at most 2,560 bytes per secret: keep secrets small.
MAX_SECRET_BYTES = 2560
INSECURE_BACKENDS = ("keyrings.alt.file", "keyring.backends.fail", "keyring.backends.null")


def service_name(server_url: str) -> str:
    return f"triage-desk:{normalise_server_url(server_url)}"


@dataclass(frozen=True)
class BackendStatus:
    secure: bool
    name: str
    problem: str | None = None


def backend_status(backend: KeyringBackend | None = None) -> BackendStatus:
    backend = backend or keyring.get_keyring()
    module = type(backend).__module__
    name = f"{module}.{type(backend).__name__}"
    if module.startswith(INSECURE_BACKENDS) or "Plaintext" in type(backend).__name__:
        return BackendStatus(
            False,
            name,
            "no secure password store (keyring) is available on this computer, so you will "
            "have to sign in each time and the local copy is rebuilt at every start",
        )
    try:
        if backend.priority <= 0:
            return BackendStatus(False, name, "the password store (keyring) is not usable")
    except Exception:  # priority may raise when the backend is unavailable
        return BackendStatus(False, name, "the password store (keyring) is not usable")
    return BackendStatus(True, name)


class CredentialStore:
    """Secrets for one server, per username. Falls back to memory when no keyring works."""

    def __init__(self, server_url: str, backend: KeyringBackend | None = None) -> None:
        self.service = service_name(server_url)
        self._backend = backend or keyring.get_keyring()
        self.status = backend_status(self._backend)
        self._memory: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        if not self.status.secure:
            log.warning("secrets kept in memory only: %s", self.status.problem)

    @property
    def persistent(self) -> bool:
        return self.status.secure

    def _account(self, username: str, what: str) -> str:
        return f"{username.strip().lower()}:{what}"

    def get(self, username: str, what: str) -> str | None:
        account = self._account(username, what)
        if not self.status.secure:
            with self._lock:
                return self._memory.get((self.service, account))
        try:
            return self._backend.get_password(self.service, account)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring read failed (%s)", type(exc).__name__)
            with self._lock:
                return self._memory.get((self.service, account))

    def set(self, username: str, what: str, secret: str | None) -> None:
        account = self._account(username, what)
        if secret is not None and len(secret.encode()) > MAX_SECRET_BYTES:
            raise ValueError("secret too large for the platform's credential store")
        with self._lock:
            if secret is None:
                self._memory.pop((self.service, account), None)
            else:
                self._memory[(self.service, account)] = secret
        if not self.status.secure:
            return
        try:
            if secret is None:
                with contextlib.suppress(keyring.errors.PasswordDeleteError):
                    self._backend.delete_password(self.service, account)
            else:
                self._backend.set_password(self.service, account, secret)
        except keyring.errors.KeyringError as exc:
            log.warning("keyring write failed (%s); kept in memory", type(exc).__name__)

    def refresh_token(self, username: str) -> str | None:
        return self.get(username, REFRESH_TOKEN)

    def set_refresh_token(self, username: str, token: str | None) -> None:
        self.set(username, REFRESH_TOKEN, token)

    def cache_key(self, username: str, *, create: bool = True) -> str | None:
        """The 256-bit key of this user's encrypted cache (hex), made on first use."""
        key = self.get(username, CACHE_KEY)
        if key is None and create:
            key = secrets.token_hex(32)
            self.set(username, CACHE_KEY, key)
        return key
