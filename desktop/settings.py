"""Every desktop setting, declared once: its key, type, default and what it is for.

Two kinds, kept apart: *preferences* (what a person chose: the server, the last username)
and *window state* (sizes, splitters, columns, the open queue), per server and user. Keys name
the server by its slug (no `//` inside keys). The schema version lives in the file itself;
`migrate` brings an older file up to date on start, so a new version never loses a person's
choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from portal_client.urls import server_slug

SCHEMA_VERSION = 2
VERSION_KEY = "settings_version"


@dataclass(frozen=True)
class Setting:
    key: str  # may name {server} (a slug) and {user}
    type: type
    default: Any
    description: str

    def key_for(self, server: str = "", user: str = "") -> str:
        return self.key.format(server=server_slug(server) if server else "", user=user)


# ---- preferences -----------------------------------------------------------------------------
SERVER = Setting("preferences/server", str, "", "The portal address last signed in to.")
LAST_USER = Setting(
    "preferences/{server}/last_user", str, "", "The username last used with that server."
)
URGENT_SOUND = Setting(
    "preferences/urgent_sound", bool, False, "Beep with each urgent-work notification."
)
PREFERENCES = (SERVER, LAST_USER, URGENT_SOUND)

# ---- window state (per server and user) ------------------------------------------------------
GEOMETRY = Setting("window/{server}/{user}/geometry", QByteArray, None, "Size and place.")
SPLITTER = Setting("window/{server}/{user}/splitter", QByteArray, None, "Pane widths.")
COLUMNS = Setting("window/{server}/{user}/columns", QByteArray, None, "Inbox column layout.")
QUEUE = Setting("window/{server}/{user}/queue", str, "mine", "The queue shown at start.")
WINDOW_STATE = (GEOMETRY, SPLITTER, COLUMNS, QUEUE)

ALL = PREFERENCES + WINDOW_STATE


class DeskSettings:
    """Typed access to a QSettings store (the user's, or a file in tests)."""

    def __init__(self, store: QSettings) -> None:
        self.store = store
        migrate(store)

    def get(self, setting: Setting, *, server: str = "", user: str = "") -> Any:
        value = self.store.value(setting.key_for(server, user))
        if value is None or (setting.type is not QByteArray and value == ""):
            return setting.default
        if setting.type is QByteArray:
            return value if isinstance(value, QByteArray) else setting.default
        if setting.type is bool:  # an INI file gives "true"/"false" back as text
            return value in (True, 1, "true", "1")
        try:
            return setting.type(value)
        except (TypeError, ValueError):
            return setting.default

    def put(self, setting: Setting, value: Any, *, server: str = "", user: str = "") -> None:
        self.store.setValue(setting.key_for(server, user), value)

    def sync(self) -> None:
        self.store.sync()


def migrate(store: QSettings) -> None:
    """Version 1 (unversioned): `server`, `last_user/<url>`, `ui/<url>/<user>/<name>`."""
    stored = store.value(VERSION_KEY)
    version = int(str(stored)) if stored is not None else (1 if store.allKeys() else 2)
    if version < 2:
        for key in store.allKeys():
            value = store.value(key)
            if key == "server":
                store.setValue(SERVER.key, value)
            elif key.startswith("last_user/"):
                url = _url(key.removeprefix("last_user/"))
                store.setValue(LAST_USER.key_for(url), value)
            elif key.startswith("ui/") and key.count("/") >= 3:
                url_part, user, name = key.removeprefix("ui/").rsplit("/", 2)
                known = {s.key.rsplit("/", 1)[1]: s for s in WINDOW_STATE}
                if name in known:
                    store.setValue(known[name].key_for(_url(url_part), user), value)
            else:
                continue
            store.remove(key)
    store.setValue(VERSION_KEY, SCHEMA_VERSION)


def _url(text: str) -> str:
    """QSettings may fold `//` in a key: `http:/host:1` is `http://host:1`."""
    for scheme in ("http", "https"):
        prefix = f"{scheme}:/"
        if text.startswith(prefix) and not text.startswith(prefix + "/"):
            return f"{scheme}://" + text.removeprefix(prefix)
    return text
