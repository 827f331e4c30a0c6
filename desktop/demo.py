"""Demo mode: the portal API inside the app on a free loopback port, a fresh synthetic practice
in a temporary folder, and simulated patients filing requests every few seconds."""

from __future__ import annotations

import logging
import random
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

if TYPE_CHECKING:
    import uvicorn

    from portal_api.simulate import Simulator

log = logging.getLogger(__name__)


class DemoKeyring(KeyringBackend):
    """Demo secrets stay in memory: a throwaway practice never touches the OS keyring."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def demo_available() -> str | None:
    """None when the demo can run here; else what to install (the desktop alone does not
    bring the portal service, which the demo runs inside the app)."""
    import importlib.util

    missing = [
        name for name in ("fastapi", "uvicorn", "alembic") if importlib.util.find_spec(name) is None
    ]
    if missing:
        return (
            "demo mode runs the portal service inside the app and needs its packages "
            f"({', '.join(missing)} missing): pip install 'triage-desk[demo]'"
        )
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoPortal:
    def __init__(self, *, items: int = 360, rate_per_minute: float = 12.0, seed: int = 1) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="triage-desk-demo-"))
        self.items = items
        self.rate = rate_per_minute / 60.0
        self.seed = seed
        self.url = ""
        self.keyring = DemoKeyring()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._simulator: Simulator | None = None

    @property
    def data_dir(self) -> Path:
        return self.folder / "desktop"

    def start(self, *, simulate: bool = True) -> str:
        import uvicorn

        from portal_api import schema
        from portal_api.app import create_app
        from portal_api.config import Settings
        from portal_api.db import Database, create_db_engine
        from portal_api.seed import seed_demo
        from portal_api.simulate import Simulator

        logging.getLogger("alembic").setLevel(logging.WARNING)
        settings = Settings(
            database_url=f"sqlite:///{self.folder / 'portal.sqlite3'}", password_profile="fast"
        )
        engine = create_db_engine(settings.database_url)
        schema.upgrade(engine)
        db = Database(engine)
        seed_demo(db, random_seed=self.seed, items=self.items, password_profile="fast")
        port = _free_port()
        config = uvicorn.Config(
            create_app(settings, db),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="demo-portal", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the demo portal did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        if simulate:
            self._simulator = Simulator(
                base_url=self.url,
                rate_per_second=self.rate,
                rng=random.Random(self.seed),  # noqa: S311
            )
            threading.Thread(target=self._simulate, name="demo-patients", daemon=True).start()
        return self.url

    def _simulate(self) -> None:
        assert self._simulator is not None
        try:
            self._simulator.run()
        except Exception as exc:
            log.warning("demo patients stopped: %s", type(exc).__name__)

    def stop(self) -> None:
        if self._simulator is not None:
            self._simulator.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)
