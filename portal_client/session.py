"""Where a user's cache lives, and signing in to a server with keyring-held secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .api import ApiClient, Timeouts, User
from .cache import Cache
from .credentials import CredentialStore
from .errors import SignInRequired
from .unlock import remember_password
from .urls import normalise_server_url, server_slug

APP_NAME = "triage-desk"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_folder(data_dir: Path, server_url: str, username: str) -> Path:
    safe_user = re.sub(r"[^a-z0-9._-]+", "_", username.strip().lower()) or "user"
    return data_dir / server_slug(normalise_server_url(server_url)) / safe_user


def open_cache(
    server_url: str,
    username: str,
    credentials: CredentialStore,
    data_dir: Path | None = None,
    *,
    create_key: bool = True,
    full_check: bool = False,
) -> Cache:
    """Open (or make) this user's cache with the key from the keyring; no network."""
    key = credentials.cache_key(username, create=create_key)
    if key is None:
        raise SignInRequired("no cache key in the keyring for this user; sign in first")
    folder = cache_folder(data_dir or default_data_dir(), server_url, username)
    return Cache.open(folder, key, full_check=full_check)


@dataclass
class SignedIn:
    api: ApiClient
    cache: Cache
    user: User
    credentials: CredentialStore


def sign_in(
    server_url: str,
    username: str,
    password: str | None = None,
    *,
    data_dir: Path | None = None,
    credentials: CredentialStore | None = None,
    timeouts: Timeouts | None = None,
) -> SignedIn:
    """With a password: a fresh sign-in. Without: resume with the keyring's refresh token."""
    server_url = normalise_server_url(server_url)
    credentials = credentials or CredentialStore(server_url)

    def remember(token: str | None) -> None:
        credentials.set_refresh_token(username, token)

    api = ApiClient(server_url, timeouts=timeouts, on_refresh_token=remember)
    if password is not None:
        user = api.login(username, password)
    else:
        token = credentials.refresh_token(username)
        if token is None:
            raise SignInRequired(f"no saved session for {username}; sign in with a password")
        api.use_refresh_token(token)
        user = api.me()
    cache = open_cache(server_url, username, credentials, data_dir)
    known = cache.meta("user_id")
    if known is not None and known != user.id:
        cache.feed.reset_for_resync()  # the account was replaced: this cache's rows are not theirs
    cache.set_meta(user_id=user.id, username=user.username, role=user.role, server=server_url)
    if password is not None:  # the lock screen can check it when the server cannot
        remember_password(cache, password)
    return SignedIn(api, cache, user, credentials)
