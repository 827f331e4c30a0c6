"""Keeps the queues, the inbox and the detail pane in step with the cache.

Everything is asked for on workers through `DeskServices`; answers arrive on the GUI thread
and only the newest of each kind is applied (typing fast asks for several views: the last one
wins). The controller holds the logic; the panes only show what they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from portal_client.inbox import InboxFilter, InboxPage, InboxRow
from triage_core.vocabulary import Queue

from .inbox_model import PROTOCOL_COLUMN

if TYPE_CHECKING:
    from desktop.services import Counts, DeskServices, ItemAnswer, Reference, ViewAnswer

    from .detail_pane import DetailPane
    from .inbox_model import InboxModel
    from .inbox_pane import InboxPane
    from .queue_pane import QueuePane


class InboxController(QObject):
    counts_changed = Signal(object)  # Counts
    view_loaded = Signal()  # the inbox shows the newest answer for the current filter
    item_shown = Signal(str)

    def __init__(
        self,
        services: DeskServices,
        queues: QueuePane,
        inbox: InboxPane,
        model: InboxModel,
        detail: DetailPane,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.queues = queues
        self.inbox = inbox
        self.model = model
        self.detail = detail
        self._asked = {"view": 0, "item": 0, "counts": 0}
        self._answered = dict(self._asked)
        self._shown_filter: InboxFilter | None = None
        # The open item as fetched with a reason (break the glass): shown instead of its
        # header until it changes or another item is opened. Never cached.
        self._glass: dict[str, dict[str, Any]] = {}
        self._opening: str | None = None  # the item last asked to be shown
        queues.queue_selected.connect(self._queue_changed)
        inbox.filter_changed.connect(self.reload)
        inbox.item_selected.connect(self.open_item)
        detail.break_glass_requested.connect(self.break_glass)
        services.bridge.items_changed.connect(self.on_items_changed)
        services.bridge.notices_changed.connect(self.on_notices_changed)
        services.bridge.reference_changed.connect(self.on_reference_changed)

    def _ask(self, kind: str) -> int:
        self._asked[kind] += 1
        return self._asked[kind]

    def _current(self, kind: str, token: int) -> bool:
        self._answered[kind] = max(self._answered[kind], token)
        return self._asked[kind] == token

    def idle(self) -> bool:
        """Every answer asked for has arrived and nothing typed waits to be asked (the panes
        show the newest state)."""
        return (
            self._answered == self._asked
            and not self.model.loading()
            and not self.inbox.search_pending()
        )

    # ---- the inbox ---------------------------------------------------------------------------

    def current_filter(self) -> InboxFilter:
        return self.inbox.current_filter(self.queues.current())

    def _queue_changed(self, queue: str) -> None:
        self.inbox.reset_sort()
        # The protocol's verdict is the clinician's column: where refills wait for sign-off.
        self.inbox.table.setColumnHidden(PROTOCOL_COLUMN, queue != Queue.CLINICIAN)
        self.reload()

    def reload(self) -> None:
        """A new queue, filter, sort or search: ask for the view; keep the selection."""
        token = self._ask("view")
        self.services.load_view(self.current_filter(), partial(self._view_arrived, token, None))

    def _view_arrived(self, token: int, changed: set[str] | None, answer: ViewAnswer) -> None:
        if not self._current("view", token) or answer.filter != self.current_filter():
            return
        selected = self.inbox.selected_id()
        fetch_window = partial(self._fetch_window, answer.filter)
        if changed is not None and answer.filter == self._shown_filter:
            self.model.refresh(answer.page, answer.rows, fetch_window, changed)
        else:
            self.model.set_view(answer.page, answer.rows, fetch_window)
            if selected:
                self.inbox.select_id(selected)
        self._shown_filter = answer.filter
        self.inbox.show_result(answer.page.total, answer.filter)
        self.view_loaded.emit()

    def _fetch_window(
        self, filter_: InboxFilter, offset: int, done: Callable[[InboxPage], None]
    ) -> None:
        self.services.load_window(filter_, offset, done)

    def fetch_rows(self, ids: list[str], done: Callable[[dict[str, InboxRow]], None]) -> None:
        self.services.load_rows(ids, done)

    def on_items_changed(self, ids: list[str]) -> None:
        """After a sync or an action: same filter, new rows; selection and scroll stay."""
        token = self._ask("view")
        self.services.load_view(self.current_filter(), partial(self._view_arrived, token, set(ids)))
        self.refresh_counts()
        current = self._wanted_id()
        if current and current in ids:
            self.show_item(current)

    def on_notices_changed(self) -> None:
        if current := self._wanted_id():
            self.show_item(current)

    def on_reference_changed(self) -> None:
        """New staff names or a new policy (its clocks were recomputed): repaint everything."""
        self.services.load_reference(self._reference_arrived)

    def _reference_arrived(self, _reference: Reference) -> None:
        self.on_items_changed(self.model.current_ids())

    def refresh_clocks(self) -> None:
        self.model.refresh_clocks()
        self.refresh_counts()

    # ---- counts ------------------------------------------------------------------------------

    def refresh_counts(self) -> None:
        token = self._ask("counts")
        self.services.load_counts(partial(self._counts_arrived, token))

    def _counts_arrived(self, token: int, counts: Counts) -> None:
        if self._current("counts", token):
            self.queues.set_counts(counts.queues)
            self.counts_changed.emit(counts)

    # ---- the open item -----------------------------------------------------------------------

    def open_item(self, item_id: str) -> None:
        """The person opened an item: shown, and recorded as a view for the audit log."""
        self.services.record_view(item_id)
        self.show_item(item_id)

    def _wanted_id(self) -> str | None:
        """The item the detail pane shows, or is about to show: a refresh after a sync must
        not bring back the item the person just left (its answer would win, being newer)."""
        if self._opening is not None:
            return self._opening
        return self.detail.item["id"] if self.detail.item else None

    def show_item(self, item_id: str) -> None:
        self._opening = item_id
        token = self._ask("item")
        self.services.load_item(item_id, partial(self._item_arrived, token))

    def _item_arrived(self, token: int, answer: ItemAnswer) -> None:
        if not self._current("item", token):
            return
        reference = self.services.reference
        item = answer.item
        glass = self._glass.get(answer.item_id)
        if (
            item is not None
            and item.get("restricted")
            and glass is not None
            and glass["version"] >= item["version"]
        ):
            item = glass  # opened with a reason, and nothing has changed since
        self._glass = {answer.item_id: glass} if glass is not None else {}
        self.detail.show_item(
            item, answer.patient, list(reference.staff), reference.policy, answer.notice
        )
        self.item_shown.emit(answer.item_id)

    def break_glass(self, item_id: str, reason: str) -> None:
        """Open a header in full with the reason given (recorded by the server)."""

        def opened(item: dict[str, Any]) -> None:
            self._glass = {item_id: item}
            if self.detail.item is not None and self.detail.item["id"] == item_id:
                self.show_item(item_id)

        def failed(exc: Exception) -> None:
            self.detail.say(f"The item could not be opened: {getattr(exc, 'message', exc)}")

        self.services.break_glass(item_id, reason, opened, failed)

    def act(self, item_id: str, action: dict[str, Any], if_match: object, on_failure: Any) -> None:
        self.services.act(
            item_id,
            action,
            if_match=if_match if isinstance(if_match, int) else None,
            on_failure=on_failure,
        )
