"""What the widgets may ask of the desktop: reads of the cache, and actions (queued through the
serial write worker, never on the GUI thread)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from portal_client.api import User
from portal_client.cache import Cache
from portal_client.engine import State, SyncEngine
from portal_client.inbox import Alerts, Inbox, InboxRow
from portal_client.sla import describe_left
from portal_client.sla_report import Report, build_report

from .bridge import EngineBridge
from .ops import Operations


@dataclass
class DeskServices:
    user: User
    cache: Cache
    engine: SyncEngine
    bridge: EngineBridge
    ops: Operations
    inbox: Inbox
    server: str
    sign_out: Callable[[], None] | None = None
    alerts: Alerts | None = None

    def describe_clock(self, row: InboxRow) -> tuple[str, str]:
        """Words and state for the inbox's time-left column, as of now."""
        return describe_left(
            row.due_at,
            row.risk_at,
            row.clock,
            bool(row.clock_business),
            datetime.now(UTC),
            self.cache.calendar,
        )

    def sla_report(
        self,
        start: date,
        end: date,
        grouping: str,
        on_done: Callable[[Report], None],
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        """Build the SLA report from the cache on a read worker (works offline)."""
        policy = self.policy()
        calendar = self.cache.calendar

        def work() -> Report:
            if calendar is None or not policy:
                raise ValueError("the practice policy has not been synced yet")
            return build_report(
                self.cache.all_items(),
                policy,
                calendar,
                start=start,
                end=end,
                grouping=grouping,
                now=datetime.now(UTC),
                staff_names=self.staff_names(),
            )

        self.ops.read(work, on_success=on_done, on_failure=on_failure)

    def save_policy(
        self,
        policy: dict[str, Any],
        on_saved: Callable[[dict[str, Any]], None],
        on_failed: Callable[[Exception], None],
    ) -> None:
        """PUT /policy on the write worker (its own connection), then use it here at once;
        other desktops pick it up at their next sync."""
        api = self.engine.api.sibling()

        def work() -> dict[str, Any]:
            try:
                saved = api.put_policy(policy)
            finally:
                api.close()
            self.cache.set_policy(saved)
            return saved

        self.ops.write(work, on_success=on_saved, on_failure=on_failed)

    def write_text(
        self, path: str, text: str, on_failure: Callable[[Exception], None] | None = None
    ) -> None:
        self.ops.write(lambda: Path(path).write_text(text, encoding="utf-8"), on_failure=on_failure)

    def item(self, item_id: str) -> dict[str, Any] | None:
        return self.cache.item(item_id)

    def patient(self, patient_id: str) -> dict[str, Any] | None:
        return self.inbox.patient(patient_id)

    def staff_names(self) -> dict[str, str]:
        return self.cache.staff_names()

    def policy(self) -> dict[str, Any]:
        return self.cache.policy() or {}

    def notices(self) -> list[dict[str, Any]]:
        return self.cache.notices()

    def dismiss_notice(self, notice_id: int) -> None:
        self.ops.write(
            lambda: self.cache.dismiss_notice(notice_id),
            on_success=lambda _r: self.bridge.notices_changed.emit(),
        )

    def act(
        self,
        item_id: str,
        action: dict[str, Any],
        *,
        if_match: int | None = None,
        on_failure: Callable[[Exception], None] | None = None,
    ) -> None:
        """Queue an action: shown at once (optimistic), confirmed by the sync."""
        self.ops.write(
            lambda: self.engine.enqueue(item_id, action, if_match=if_match), on_failure=on_failure
        )

    @property
    def state(self) -> State:
        return self.engine.status.state
