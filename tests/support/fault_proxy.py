"""A reverse proxy in front of the real portal API that injects faults on request.

`proxy.fail("/api/v1/sync", "reset", "html")` makes the next two sync requests fail in those
ways; everything else is forwarded untouched. Faults: reset (drop the connection without a
reply), 500, forbidden (a 403 with its error body), html (a 200 of HTML), truncated (JSON
cut short), shape (valid JSON, wrong shape), slow:<seconds> (answer late), after:<n>
(forward n more, then reset every time).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

HOP_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.cut_after: dict[str, int] = {}
        self.seen: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fail(self, path: str, *faults: str) -> None:
        with self.lock:
            for fault in faults:
                if fault.startswith("after:"):
                    self.cut_after[path] = int(fault.split(":")[1])
                else:
                    self.faults[path].append(fault)

    def heal(self) -> None:
        with self.lock:
            self.faults.clear()
            self.cut_after.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next_fault(self, path: str) -> str | None:
        with self.lock:
            for prefix, queue in self.faults.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
            for prefix, allowed in self.cut_after.items():
                if path.startswith(prefix):
                    self.seen[prefix] += 1
                    if self.seen[prefix] > allowed:
                        return "reset"
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._next_fault(handler.path)
        if fault == "reset":
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            handler.connection.close()
            handler.close_connection = True
            return
        if fault == "500":
            return self._reply(
                handler,
                500,
                b'{"error": {"code": "server_error", "message": "boom", "details": {}}}',
            )
        if fault == "forbidden":
            return self._reply(
                handler,
                403,
                b'{"error": {"code": "forbidden", "message": "Not for you.", "details": {}}}',
            )
        if fault == "html":
            return self._reply(
                handler, 200, b"<html><body>Gateway login</body></html>", "text/html"
            )
        if fault == "shape":
            return self._reply(handler, 200, b'{"items": "not a list", "cursor": 5}')
        if fault and fault.startswith("slow:"):
            time.sleep(float(fault.split(":")[1]))
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_HEADERS}
        upstream = requests.request(
            handler.command, self.upstream + handler.path, headers=headers, data=body, timeout=60
        )
        content = upstream.content
        if fault == "truncated":
            content = content[: max(1, len(content) // 2)]
        self._reply(
            handler,
            upstream.status_code,
            content,
            upstream.headers.get("content-type", "application/json"),
        )

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/json",
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass
