"""Desktop settings: declared once, typed, and carried over from an older layout."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from desktop.settings import (
    ALL,
    GEOMETRY,
    LAST_USER,
    PREFERENCES,
    QUEUE,
    SCHEMA_VERSION,
    SERVER,
    WINDOW_STATE,
    DeskSettings,
)


def test_every_setting_is_declared_once_with_a_description() -> None:
    keys = [setting.key for setting in ALL]
    assert len(keys) == len(set(keys))
    assert all(setting.description for setting in ALL)
    assert all(s.key.startswith("preferences/") for s in PREFERENCES)
    assert all(s.key.startswith("window/") for s in WINDOW_STATE)


def test_server_addresses_never_put_slashes_into_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = DeskSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.put(LAST_USER, "nurse", server="https://portal.example.org/api")
    key = LAST_USER.key_for("https://portal.example.org/api")
    assert "//" not in key and key.count("/") == 2
    assert settings.get(LAST_USER, server="https://portal.example.org/api") == "nurse"
    assert settings.get(LAST_USER, server="https://elsewhere.example.org") == ""


def test_settings_of_an_older_version_are_carried_over(tmp_path) -> None:
    store = QSettings(str(tmp_path / "old.ini"), QSettings.Format.IniFormat)
    url = "http://127.0.0.1:8765"
    store.setValue("server", url)
    store.setValue(f"last_user/{url}", "nurse")
    store.setValue(f"ui/{url}/nurse/queue", "waiting")
    store.setValue(f"ui/{url}/nurse/geometry", QByteArray(b"abc"))
    store.sync()
    settings = DeskSettings(QSettings(str(tmp_path / "old.ini"), QSettings.Format.IniFormat))
    assert settings.get(SERVER) == url
    assert settings.get(LAST_USER, server=url) == "nurse"
    assert settings.get(QUEUE, server=url, user="nurse") == "waiting"
    assert settings.get(GEOMETRY, server=url, user="nurse") == QByteArray(b"abc")
    assert settings.get(QUEUE, server=url, user="someone") == "mine"  # the default
    assert int(settings.store.value("settings_version")) == SCHEMA_VERSION
    assert not any(key.startswith(("ui/", "last_user/")) for key in settings.store.allKeys())
