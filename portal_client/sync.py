"""Pull (`/sync` pages into the cache) and push (the outbox to the server), once each.

The engine (`engine.py`) decides when; this module decides how. Qt-free, no threads here.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .api import ApiClient, User
from .cache import Cache
from .errors import (
    BadCursor,
    Conflict,
    Forbidden,
    Invalid,
    MalformedReply,
    NotFound,
    Offline,
    PortalError,
    PreconditionFailed,
    ServerError,
)
from .notices import describe_conflict

log = logging.getLogger(__name__)

RETRYABLE = (Offline, ServerError, MalformedReply)


def backoff_delay(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Capped exponential backoff with full jitter: uniform in [cap'/2, cap'] for
    cap' = min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * (2 ** max(0, min(attempt, 30))))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass
class PullResult:
    items: int = 0
    pages: int = 0
    resynced: bool = False
    changed_ids: list[str] = field(default_factory=list)


@dataclass
class PushResult:
    delivered: int = 0
    refused: int = 0
    retry_in: float | None = None
    error: str | None = None
    changed_ids: list[str] = field(default_factory=list)


class Syncer:
    def __init__(
        self,
        api: ApiClient,
        cache: Cache,
        user: User,
        *,
        page_limit: int = 500,
        rng: random.Random | None = None,
    ) -> None:
        self.api = api
        self.cache = cache
        self.user = user
        self.page_limit = page_limit
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets

    def refresh_reference(self) -> None:
        """Staff list and policy: small, fetched on start and now and then."""
        self.cache.feed.set_staff(self.api.staff())
        self.refresh_policy(force=True)

    def refresh_policy(self, *, force: bool = False) -> bool:
        """Fetch the policy if it changed (a 304 costs next to nothing); True if it did."""
        etag = None if force else self.cache.meta("policy_etag")
        try:
            policy, new_etag = self.api.policy_if_changed(etag)
        except NotFound:
            log.info("the server has no policy yet")
            return False
        if policy is None:
            return False
        self.cache.set_policy(policy)
        self.cache.set_meta(policy_etag=new_etag)
        return True

    def pull(
        self,
        *,
        collect_ids: bool = True,
        on_page: Callable[[list[str]], None] | None = None,
    ) -> PullResult:
        """Follow `/sync` to the end. Each page and its cursor land in one transaction, so a
        crash between pages loses nothing; `bad_cursor` starts a clean full resync. The next
        page is fetched while this one is written (at most two pages in memory)."""
        result = PullResult()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-fetch") as fetcher:
            pending: Future[dict[str, Any]] = fetcher.submit(
                self.api.sync, self.cache.cursor, self.page_limit
            )
            while True:
                try:
                    page = pending.result()
                except BadCursor:
                    if result.resynced:
                        raise
                    log.warning("the server refused the sync cursor; resyncing from scratch")
                    self.cache.feed.reset_for_resync()
                    result.resynced = True
                    pending = fetcher.submit(self.api.sync, None, self.page_limit)
                    continue
                if page["has_more"]:
                    pending = fetcher.submit(self.api.sync, page["cursor"], self.page_limit)
                ids = self.cache.feed.apply_page(page)
                result.pages += 1
                result.items += len(ids)
                if collect_ids:
                    result.changed_ids.extend(ids)
                if on_page is not None and ids:
                    on_page(ids)
                if not page["has_more"]:
                    return result

    def deliver_views(self) -> int:
        """Send the recorded views in batches; a network failure leaves the rest for the next
        cycle (they are kept in the cache). A batch the server refuses as invalid would be
        refused forever: it is dropped, with a warning, so the others still go."""
        delivered = 0
        while True:
            batch = self.cache.views.batch()
            if not batch:
                return delivered
            ids = [view["id"] for view in batch]
            try:
                self.api.record_views(batch)
            except (*RETRYABLE, NotFound, Forbidden):
                # Kept for the next cycle (or a server that records views, or a session the
                # server accepts again after signing in).
                return delivered
            except Invalid as exc:
                log.warning("%d recorded views refused by the server: %s", len(ids), exc.code)
            self.cache.views.delivered(ids)
            delivered += len(ids)

    def push(self, *, max_actions: int | None = None) -> PushResult:
        """Send queued actions in order, one at a time, until done or the network fails."""
        result = PushResult()
        sent = 0
        while max_actions is None or sent < max_actions:
            row = self.cache.outbox.next()
            if row is None:
                return result
            wait = row["next_attempt_at"] - time.time()
            if wait > 0:
                result.retry_in = wait
                return result
            action = json.loads(row["action_json"])
            sent += 1
            try:
                item = self.api.act(row["item_id"], action, row["idem_key"], row["if_match"])
            except RETRYABLE as exc:
                delay = backoff_delay(row["attempts"], rng=self.rng)
                self.cache.outbox.retry_later(row["id"], delay, exc.message)
                result.retry_in, result.error = delay, exc.message
                return result
            except (Conflict, PreconditionFailed) as exc:
                current = (
                    exc.details.get("item") if isinstance(exc.details.get("item"), dict) else None
                )
                message, actor = describe_conflict(
                    current,
                    me=self.user.id,
                    staff_names=self._staff_names(current),
                    fallback=exc.message,
                    tz=self._zone(),
                )
                self.cache.outbox.refused(
                    row["id"],
                    row["item_id"],
                    kind="conflict",
                    message=message,
                    actor_id=actor,
                    current=current,
                )
                result.refused += 1
            except (Forbidden, Invalid, NotFound) as exc:
                self.cache.outbox.refused(
                    row["id"],
                    row["item_id"],
                    kind="rejected",
                    message=exc.message,
                    actor_id=None,
                    current=None,
                )
                result.refused += 1
            else:
                self.cache.outbox.delivered(row["id"], row["item_id"], item)
                result.delivered += 1
            result.changed_ids.append(row["item_id"])
        return result

    def _staff_names(self, current: dict[str, Any] | None) -> dict[str, str]:
        """Names for a notice; a colleague added since the last refresh gets fetched."""
        names = self.cache.queries.staff_names()
        authors = {
            e.get("author", {}).get("id")
            for e in (current or {}).get("entries", [])
            if e.get("author", {}).get("kind") == "staff"
        }
        if authors - set(names) - {None}:
            try:
                self.cache.feed.set_staff(self.api.staff())
                names = self.cache.queries.staff_names()
            except PortalError as exc:
                log.info("could not refresh the staff list: %s", exc.message)
        return names

    def _zone(self) -> ZoneInfo | None:
        policy = self.cache.policy()
        try:
            return ZoneInfo(policy["timezone"]) if policy else None
        except (ZoneInfoNotFoundError, KeyError, ValueError):
            return None
