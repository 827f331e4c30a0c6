"""Shared helpers for tests that drive the real portal API."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_api.db import Database
from portal_api.models import Item, Patient, Staff

STAFF_USERS = ("frontdesk", "nurse", "doctor", "admin")


def login(client: TestClient, username: str, password: str = "demo") -> dict[str, Any]:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return reply.json()


def patient_login(client: TestClient, username: str, password: str = "demo") -> dict[str, Any]:
    reply = client.post(
        "/api/v1/patient/auth/login", json={"username": username, "password": password}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def act(
    client: TestClient,
    tokens: dict[str, Any],
    item_id: str,
    body: dict[str, Any],
    *,
    key: str | None = None,
    if_match: str | None = None,
) -> Any:
    headers = {**bearer(tokens), "Idempotency-Key": key or str(uuid.uuid4())}
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.post(f"/api/v1/items/{item_id}/actions", json=body, headers=headers)


def find_item(db: Database, **where: Any) -> Item:
    with db.read() as session:
        query = select(Item)
        for column, value in where.items():
            query = query.where(getattr(Item, column) == value)
        item = session.scalars(query.order_by(Item.created_at).limit(1)).first()
        assert item is not None, f"no seeded item with {where}"
        return item


def staff_id(db: Database, username: str) -> str:
    with db.read() as session:
        return session.scalar(select(Staff.id).where(Staff.username == username))  # type: ignore[return-value]


def patient_by_username(db: Database, username: str) -> Patient:
    with db.read() as session:
        patient = session.scalar(select(Patient).where(Patient.username == username))
        assert patient is not None
        return patient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve the app with uvicorn on a loopback port (random unless given) in a thread;
    yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout=10, interval=0.02)
    if not server.started:
        raise RuntimeError("test server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class SseReader(threading.Thread):
    """Reads a server-sent event stream over a raw HTTP/1.0 socket (so close() is instant).

    Yields ("comment", text) for comment lines and (event, data) for events.
    """

    def __init__(self, base_url: str, token: str, path: str = "/api/v1/events") -> None:
        super().__init__(daemon=True)
        import queue
        from urllib.parse import urlparse

        parsed = urlparse(base_url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=30)
        request = (
            f"GET {path} HTTP/1.0\r\nHost: {parsed.hostname}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.status: int | None = None

    def run(self) -> None:
        try:
            with self.sock.makefile("rb") as stream:
                self._read(stream)
        except (OSError, ValueError, IndexError):
            pass  # closed by close()

    def _read(self, stream: Any) -> None:
        event = None
        status_line = stream.readline().decode()
        self.status = int(status_line.split()[1])
        while stream.readline() not in (b"\r\n", b"\n", b""):
            pass  # headers
        for raw in stream:
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                self.lines.put(("comment", line[1:].strip()))
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event:
                self.lines.put((event, line.split(":", 1)[1].strip()))
                event = None

    def next_event(self, name: str, timeout: float = 5.0) -> str:
        while True:
            kind, value = self.lines.get(timeout=timeout)
            if kind == name:
                return value

    def close(self) -> None:
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


# ---- talking to a served portal over real HTTP (as another person would) ---------------------


def http_login(base_url: str, username: str, *, patient: bool = False) -> dict[str, Any]:
    import requests

    path = "/api/v1/patient/auth/login" if patient else "/api/v1/auth/login"
    reply = requests.post(
        f"{base_url}{path}", json={"username": username, "password": "demo"}, timeout=10
    )
    reply.raise_for_status()
    return dict(reply.json())


def http_act(
    base_url: str, tokens: dict[str, Any], item_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Another staff member acts on an item."""
    import requests

    reply = requests.post(
        f"{base_url}/api/v1/items/{item_id}/actions",
        json=body,
        timeout=10,
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    reply.raise_for_status()
    return dict(reply.json()["item"])


def http_request(base_url: str, tokens: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A patient files a request."""
    import requests

    reply = requests.post(
        f"{base_url}/api/v1/patient/requests",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    reply.raise_for_status()
    return dict(reply.json()["item"])


def http_admin_get(base_url: str, path: str) -> dict[str, Any]:
    """GET an API path as the administrator (what the server has now)."""
    import requests

    tokens = http_login(base_url, "admin")
    reply = requests.get(
        f"{base_url}/api/v1{path}",
        timeout=10,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    reply.raise_for_status()
    return dict(reply.json())


def http_policy(base_url: str) -> dict[str, Any]:
    """The practice policy as the server has it now."""
    return http_admin_get(base_url, "/policy")


def set_on_call(client: TestClient, on_call: dict[str, Any]) -> None:
    """The admin puts a new on-call schedule into the practice policy."""
    admin = login(client, "admin")
    policy = client.get("/api/v1/policy", headers=bearer(admin)).json()
    reply = client.put("/api/v1/policy", json={**policy, "on_call": on_call}, headers=bearer(admin))
    assert reply.status_code == 200, reply.text


def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll a condition that no signal announces (threads, other processes); the one place
    tests outside Qt wait. Returns whether it became true in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def http_item(base_url: str, item_id: str) -> dict[str, Any]:
    """The item as the server has it now (an administrator receives items as headers, so
    the check opens it as break-the-glass, with its reason)."""
    return dict(http_admin_get(base_url, f"/items/{item_id}?reason=test+check")["item"])


@contextmanager
def portal_process(
    database_url: str, *, capture: bool = True, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`portal-api serve` in its own process on a free loopback port; yields its base URL.
    Scheduled jobs are off unless `env` turns them on (PORTAL_API_SCHEDULER=true)."""
    import os
    import subprocess
    import sys

    import requests

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portal_api",
            "serve",
            "--port",
            str(port),
            "--database",
            database_url,
            "--log-level",
            "warning",
        ],
        env={
            **os.environ,
            "PORTAL_API_PASSWORD_PROFILE": "fast",
            "PORTAL_API_SCHEDULER": "false",
            **(env or {}),
        },
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            return True  # exited: reported below
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        if not wait_until(healthy, timeout=30, interval=0.1) or proc.poll() is not None:
            output = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"server did not start: {output[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
