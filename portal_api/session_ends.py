"""In-process notice that a login has ended, for the event streams open on it.

A sign-out or a revoked login in this process ends its open `/events` streams at once (after
the revocation commits). Revocations by another process (another server, `portal-api staff
deactivate`) reach a stream through its periodic check in the database instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


class SessionEnds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: dict[str, set[Callable[[], None]]] = {}

    def watch(self, session_id: str, on_end: Callable[[], None]) -> Callable[[], None]:
        """Call `on_end` (from any thread) when this login ends; returns the unwatch."""
        with self._lock:
            self._watchers.setdefault(session_id, set()).add(on_end)

        def unwatch() -> None:
            with self._lock:
                watchers = self._watchers.get(session_id)
                if watchers is not None:
                    watchers.discard(on_end)
                    if not watchers:
                        del self._watchers[session_id]

        return unwatch

    def announce(self, session_id: str) -> None:
        with self._lock:
            watchers = list(self._watchers.get(session_id, ()))
        for on_end in watchers:
            try:
                on_end()
            except Exception as exc:  # a stream's trouble never fails the sign-out itself
                log.warning("could not end an event stream: %s", type(exc).__name__)

    def after_commit(self, session: Session, session_id: str) -> None:
        """Announce the end of `session_id` once `session`'s transaction commits."""

        def committed(_session: Session) -> None:
            self.announce(session_id)

        event.listen(session, "after_commit", committed, once=True)

    @property
    def watched(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._watchers.values())
