"""The sync engine the desktop drives: start/stop, sync now, enqueue, and change notices.

One worker thread does every pull and push (so cache writes of the sync are serialised); one
listener thread follows `/events` and wakes the worker on each `changed`; the worker also
wakes every `poll_seconds` as a safety net, and when a queued action is due for a retry.
Notifications are plain Python calls carrying ids, never ORM objects; the desktop turns them
into Qt signals.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from triage_core.times import rfc3339, utcnow

from .api import ApiClient, User
from .cache import Cache
from .errors import NotFound, Offline, PortalError, SignInRequired
from .sync import RETRYABLE, PullResult, PushResult, Syncer, backoff_delay

log = logging.getLogger(__name__)


DAMAGED = (
    "the local copy is damaged; it will be rebuilt from the server at the next start (nothing "
    "you queued is lost)"
)


class State(Enum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    SIGN_IN_NEEDED = "sign_in_needed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Change:
    """What changed: `items` (ids), `state`, `notices` (new refusals) or `reference`."""

    kind: str
    ids: tuple[str, ...] = ()


@dataclass
class Status:
    state: State = State.STARTING
    offline_since: float | None = None
    last_sync_at: str | None = None
    last_error: str | None = None
    # What a person should be told about syncing now (cleared by a good cycle; a damaged cache
    # stays said until the next start).
    problem: str | None = None
    events_available: bool | None = None
    cycles: int = 0
    # Counted on the engine's threads after each cycle and each queued action, so a screen
    # can show them without reading the cache itself.
    pending_actions: int = 0
    open_notices: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Change], None]


class SyncEngine:
    def __init__(
        self,
        api: ApiClient,
        cache: Cache,
        user: User,
        *,
        poll_seconds: float = 30.0,
        use_events: bool = True,
        page_limit: int = 500,
        rng: random.Random | None = None,
    ) -> None:
        self.api = api
        self.cache = cache
        self.user = user
        self.poll_seconds = poll_seconds
        self.use_events = use_events
        self.syncer = Syncer(api, cache, user, page_limit=page_limit, rng=rng)
        self.status = Status(last_sync_at=cache.meta("last_sync_at"))
        self._count_work()
        self._listeners: list[Listener] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._events: threading.Thread | None = None
        self._events_api: ApiClient | None = None
        self._failures = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.cycle_done = threading.Condition()

    # ---- the desktop's API -------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        self._stopping.clear()
        self._worker = threading.Thread(target=self._work, name="sync-worker", daemon=True)
        self._worker.start()
        if self.use_events:
            self._events = threading.Thread(target=self._listen, name="sync-events", daemon=True)
            self._events.start()
        self.sync_now()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._events_api is not None:
            self._events_api.interrupt_stream()
        for thread in (self._worker, self._events):
            if thread is not None:
                thread.join(timeout=timeout)
        self._set_state(State.STOPPED)

    def sync_now(self) -> None:
        self._wake.set()

    def enqueue(self, item_id: str, action: dict[str, Any], *, if_match: int | None = None) -> int:
        """Queue a staff action: optimistic change plus outbox row in one cache transaction.
        Call from a worker, never the GUI thread (it writes to disk)."""
        outbox_id = self.cache.outbox.enqueue(item_id, action, self.user.id, if_match)
        self._count_work()
        self._emit(Change("items", (item_id,)))
        self.sync_now()
        return outbox_id

    def resume(self, api: ApiClient) -> None:
        """After signing in again: continue with the new session."""
        self.api = api
        self.syncer.api = api
        self._set_state(State.STARTING)
        self.sync_now()

    def wait_for_cycle(self, after: int, timeout: float = 10.0) -> bool:
        """Block until a sync cycle numbered above `after` has finished (for tests, CLI)."""
        with self.cycle_done:
            return self.cycle_done.wait_for(lambda: self.status.cycles > after, timeout)

    # ---- one cycle ---------------------------------------------------------------------------

    def run_once(self) -> dict[str, Any]:
        """Push, then pull, then push what arrived meanwhile; raise on failure."""
        started = time.perf_counter()
        if "integrity" not in self.status.extra:
            self.status.extra["integrity"] = self.cache.verify()
            if self.status.extra["integrity"] != "ok":
                self.status.last_error = self.status.problem = DAMAGED
                self._emit(Change("state"))
        if self.status.cycles == 0 or self.cache.meta("staff_loaded") is None:
            self.syncer.refresh_reference()
            self.cache.set_meta(staff_loaded=rfc3339(utcnow()))
            self._emit(Change("reference"))
        elif self.syncer.refresh_policy():
            self._emit(Change("reference"))
        pushed = self.syncer.push()
        # Each page is announced as it lands; nothing accumulates over a large sync.
        pulled = self.syncer.pull(collect_ids=False, on_page=self._announce_page)
        more = self.syncer.push() if pushed.retry_in is None else PushResult()
        if pushed.error is None:
            self.syncer.deliver_views()
        self._after_cycle(pushed, pulled, more)
        return {
            "pulled_items": pulled.items,
            "pages": pulled.pages,
            "resynced": pulled.resynced,
            "delivered": pushed.delivered + more.delivered,
            "refused": pushed.refused + more.refused,
            "retry_in": pushed.retry_in,
            "push_error": pushed.error,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        }

    def _count_work(self) -> None:
        """Actions still waiting to go out, and refusals nobody has dismissed."""
        self.status.pending_actions = self.cache.outbox.pending_count()
        self.status.open_notices = len(self.cache.outbox.notices())

    def record_view(self, item_id: str) -> str | None:
        """Note that this person opened the item (a cache write: call from a worker); it
        goes to the audit log with the next cycle."""
        return self.cache.views.record(item_id)

    def dismiss_notice(self, notice_id: int) -> None:
        """Mark a refusal notice read (a cache write: call from a worker)."""
        self.cache.outbox.dismiss_notice(notice_id)
        self._count_work()
        self._emit(Change("notices"))

    def _announce_page(self, ids: list[str]) -> None:
        self._emit(Change("items", tuple(ids)))

    def _after_cycle(self, pushed: PushResult, pulled: PullResult, more: PushResult) -> None:
        changed = tuple(
            dict.fromkeys([*pushed.changed_ids, *pulled.changed_ids, *more.changed_ids])
        )
        if changed:
            self._emit(Change("items", changed))
        if pushed.refused or more.refused:
            self._emit(Change("notices", changed))
        self.status.last_sync_at = rfc3339(utcnow())
        self._count_work()
        self._say(DAMAGED if self.status.extra.get("integrity", "ok") != "ok" else None)
        if pushed.error:
            self._went_offline(pushed.error)
        else:
            self._set_state(State.ONLINE)

    # ---- threads -----------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            timeout = self.poll_seconds
            try:
                if self.status.state is not State.SIGN_IN_NEEDED:
                    summary = self.run_once()
                    self._failures = 0
                    if summary["retry_in"] is not None:
                        timeout = min(timeout, summary["retry_in"])
            except SignInRequired as exc:
                self.status.last_error = exc.message
                self._set_state(State.SIGN_IN_NEEDED)
            except RETRYABLE as exc:
                self._failures += 1
                self._went_offline(exc.message)
                timeout = min(timeout, backoff_delay(self._failures, rng=self._rng))
            except PortalError as exc:
                log.warning("sync failed: %s", type(exc).__name__)
                self.status.last_error = exc.message
                self._say(exc.message)
            except Exception:  # never let the worker die silently
                log.exception("sync worker error")
                self.status.last_error = "unexpected error in sync; see the log"
                self._say(self.status.last_error)
            finally:
                with self.cycle_done:
                    self.status.cycles += 1
                    self.cycle_done.notify_all()
            self._wake.wait(timeout)
            self._wake.clear()

    def _listen(self) -> None:
        """Follow `/events`; wake the worker on each change. Reconnect with backoff."""
        failures = 0
        events_api = self._events_api = self.api.sibling()
        while not self._stopping.is_set():
            if self.status.state is State.SIGN_IN_NEEDED:
                self._stopping.wait(1.0)
                continue
            try:
                for cursor in events_api.events(read_timeout=60.0):
                    self.status.events_available = True
                    failures = 0
                    if self._stopping.is_set():
                        return
                    if cursor and cursor != self.cache.cursor:
                        self.sync_now()
            except NotFound:
                log.info("the server offers no event stream; polling every %s s", self.poll_seconds)
                self.status.events_available = False
                return
            except SignInRequired:
                pass  # the worker will say so
            except (Offline, PortalError) as exc:
                log.debug("event stream interrupted: %s", exc.message)
            failures += 1
            self._stopping.wait(backoff_delay(failures, cap=30.0, rng=self._rng))
            events_api = self._events_api = self.api.sibling()

    # ---- state -------------------------------------------------------------------------------

    def _say(self, problem: str | None) -> None:
        if problem != self.status.problem:
            self.status.problem = problem
            self._emit(Change("state"))

    def _went_offline(self, reason: str) -> None:
        self.status.last_error = reason
        if self.status.state is not State.OFFLINE:
            self.status.offline_since = time.time()
        self._set_state(State.OFFLINE)

    def _set_state(self, state: State) -> None:
        if state is not State.OFFLINE:
            self.status.offline_since = None
        if state is not self.status.state:
            self.status.state = state
            self._emit(Change("state"))

    def _emit(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("a change listener failed")
