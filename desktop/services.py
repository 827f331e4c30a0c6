"""What the widgets may ask of the desktop. Every cache read runs on a read worker and every write
on the write lane; answers come back on the GUI thread through the callbacks given. What the
GUI thread itself may hold is plain data: the reference snapshot (staff, policy, calendar) and
the engine's status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from portal_client.api import User
from portal_client.audit_log import AuditPage, AuditQuery, AuditRow, fetch_page, write_csv
from portal_client.batch import BatchPlan, plan_approvals
from portal_client.cache import Cache
from portal_client.engine import State, SyncEngine
from portal_client.inbox import Alert, Alerts, Inbox, InboxFilter, InboxPage, InboxRow
from portal_client.sla_report import Report, build_report
from portal_client.unlock import Outcome, UnlockAnswer, unlock
from portal_client.urgent import Urgent, UrgentWatch
from triage_core.calendar import BusinessCalendar
from triage_core.permissions import Actor
from triage_core.sessions import idle_lock_minutes

from .bridge import EngineBridge
from .ops import Operations

FIRST_ROWS = 100  # rows fetched with a view's first window: a screenful and then some

Callback = Callable[[Any], None]
Failure = Callable[[Exception], None]


@dataclass(frozen=True)
class Reference:
    """Staff list and practice policy as last synced: small, read once per change."""

    staff: tuple[dict[str, Any], ...] = ()
    policy: dict[str, Any] = field(default_factory=dict)
    calendar: BusinessCalendar | None = None

    @property
    def staff_names(self) -> dict[str, str]:
        return {member["id"]: member["display_name"] for member in self.staff}

    @property
    def tz(self) -> ZoneInfo | None:
        """The practice's time zone, when the policy has been synced."""
        if self.calendar is not None:
            return self.calendar.tz
        name = self.policy.get("timezone")
        try:
            return ZoneInfo(name) if isinstance(name, str) else None
        except (ValueError, KeyError):
            return None

    @classmethod
    def read(cls, cache: Cache) -> Reference:
        """From the cache (on a worker)."""
        return cls(tuple(cache.queries.staff()), cache.policy() or {}, cache.clock_policy.calendar)


@dataclass(frozen=True)
class ViewAnswer:
    filter: InboxFilter
    page: InboxPage
    rows: dict[str, InboxRow]


def view_answer(inbox: Inbox, filter_: InboxFilter) -> ViewAnswer:
    """The view's size, its first window of ids and the rows of its first screen (a worker's
    job: this is what one keystroke in the search box costs)."""
    page = inbox.page(filter_)
    return ViewAnswer(filter_, page, inbox.rows(page.ids[:FIRST_ROWS]))


@dataclass(frozen=True)
class ItemAnswer:
    item_id: str
    item: dict[str, Any] | None
    patient: dict[str, Any] | None
    notice: dict[str, Any] | None


@dataclass(frozen=True)
class Counts:
    queues: dict[str, dict[str, int]]
    urgent_new: int


@dataclass
class DeskServices:
    user: User
    cache: Cache
    engine: SyncEngine
    bridge: EngineBridge
    ops: Operations
    inbox: Inbox
    server: str
    alerts: Alerts
    urgent: UrgentWatch
    reference: Reference = field(default_factory=Reference)
    # sign_out(reason=None, *, next_person=False): the window goes; the sign-in window shows
    # the reason, and for the next person an empty username (a shared front-desk PC).
    sign_out: Callable[..., None] | None = None
    idle_lock_ms: int | None = None  # instead of the policy's minutes (tests, demos)
    closed: bool = False

    def close(self) -> None:
        """The window is going: nothing more reaches it (engine notices, answers in flight)."""
        self.closed = True
        self.bridge.blockSignals(True)

    def _to_window(self, callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        """The callback, unless the window has gone by the time the answer arrives."""
        if callback is None:
            return None

        def deliver(result: Any) -> None:
            if not self.closed:
                callback(result)

        return deliver

    def _read(
        self,
        what: str,
        work: Callable[[], Any],
        on_done: Callback,
        on_failure: Failure | None = None,
    ) -> None:
        if not self.closed:
            self.ops.read(what, work, self._to_window(on_done), self._to_window(on_failure))

    def _write(
        self,
        what: str,
        work: Callable[[], Any],
        on_done: Callback | None = None,
        on_failure: Failure | None = None,
    ) -> None:
        """Writes go ahead even when the window has gone; only their answers are dropped."""
        self.ops.write(what, work, self._to_window(on_done), self._to_window(on_failure))

    # ---- reads (on a worker; answers on the GUI thread) -------------------------------------

    def load_reference(self, on_done: Callback) -> None:
        def done(reference: Reference) -> None:
            self.reference = reference
            on_done(reference)

        self._read("loading the staff list and policy", lambda: Reference.read(self.cache), done)

    def load_view(self, filter_: InboxFilter, on_done: Callback) -> None:
        self._read("loading the inbox", lambda: view_answer(self.inbox, filter_), on_done)

    def load_window(self, filter_: InboxFilter, offset: int, on_done: Callback) -> None:
        self._read("loading more of the inbox", lambda: self.inbox.page(filter_, offset), on_done)

    def load_rows(self, ids: list[str], on_done: Callback) -> None:
        self._read("loading inbox rows", lambda: self.inbox.rows(ids), on_done)

    def load_counts(self, on_done: Callback) -> None:
        def work() -> Counts:
            return Counts(self.inbox.counts(), self.cache.queries.urgent_new())

        self._read("counting the queues", work, on_done)

    def load_item(self, item_id: str, on_done: Callback) -> None:
        def work() -> ItemAnswer:
            item = self.cache.queries.item(item_id)
            patient = self.cache.queries.patient(item["patient_id"]) if item else None
            return ItemAnswer(item_id, item, patient, self.cache.outbox.latest_notice(item_id))

        self._read("opening the item", work, on_done)

    def plan_batch(self, item_ids: list[str], on_done: Callback) -> None:
        """Which of these refills may be approved together (`portal_client.batch`)."""
        actor = Actor(self.user.id, self.user.role)

        def work() -> BatchPlan:
            found = [self.cache.queries.item(item_id) for item_id in item_ids]
            items = [item for item in found if item is not None]
            names = {}
            for item in items:
                patient = self.cache.queries.patient(item["patient_id"])
                if patient:
                    names[item["patient_id"]] = (
                        f"{patient.get('given_name', '')} {patient.get('family_name', '')}".strip()
                    )
            return plan_approvals(items, actor, names)

        self._read("checking the refills you chose", work, on_done)

    def check_alerts(self, on_done: Callback) -> None:
        def work() -> list[Alert]:
            return self.alerts.due()

        self._read("checking response clocks", work, on_done)

    def check_urgent(self, on_done: Callback) -> None:
        def work() -> list[Urgent]:
            return self.urgent.due(datetime.now(UTC))

        self._read("checking urgent work", work, on_done)

    def remember_alerts(self, alerts: list[Alert]) -> None:
        self.alerts.note_shown(alerts)
        self._write("remembering notices shown", self.alerts.persist)

    def sla_report(
        self,
        start: date,
        end: date,
        grouping: str,
        on_done: Callback,
        on_failure: Failure | None = None,
    ) -> None:
        """Build the SLA report from the cache on a read worker (works offline)."""
        reference = self.reference

        def work() -> Report:
            if reference.calendar is None or not reference.policy:
                raise ValueError("the practice policy has not been synced yet")
            return build_report(
                self.cache.queries.all_items(),
                reference.policy,
                reference.calendar,
                start=start,
                end=end,
                grouping=grouping,
                now=datetime.now(UTC),
                staff_names=reference.staff_names,
            )

        self._read("making the SLA report", work, on_done, on_failure)

    # ---- writes (in order, on the write lane) ------------------------------------------------

    def act(
        self,
        item_id: str,
        action: dict[str, Any],
        *,
        if_match: int | None = None,
        on_failure: Failure | None = None,
    ) -> None:
        """Queue an action: shown at once (optimistic), confirmed by the sync."""
        self._write(
            "saving your action on this computer",
            lambda: self.engine.enqueue(item_id, action, if_match=if_match),
            on_failure=on_failure,
        )

    def record_view(self, item_id: str) -> None:
        """This person opened the item: recorded for the audit log (delivered by the sync;
        a repeat open within a minute counts once)."""
        self._write("recording that you opened the item", lambda: self.engine.record_view(item_id))

    def break_glass(
        self, item_id: str, reason: str, on_done: Callback, on_failure: Failure
    ) -> None:
        """Open an item the role receives as a header, with the reason (the server records
        the access). On a worker: a network call; the item is shown, not cached."""
        api = self.engine.api.sibling()

        def work() -> dict[str, Any]:
            try:
                return api.item_with_reason(item_id, reason)
            finally:
                api.close()

        self._read("opening the item", work, on_done, on_failure)

    def dismiss_notice(self, notice_id: int) -> None:
        self._write("dismissing the notice", lambda: self.engine.dismiss_notice(notice_id))

    def save_policy(self, policy: dict[str, Any], on_saved: Callback, on_failed: Failure) -> None:
        """PUT /policy on the write lane (its own connection), then use it here at once; other
        desktops pick it up at their next sync."""
        api = self.engine.api.sibling()

        def work() -> dict[str, Any]:
            try:
                saved = api.put_policy(policy)
            finally:
                api.close()
            self.cache.set_policy(saved)
            return saved

        self._write("saving the practice policy", work, on_saved, on_failed)

    def unlock(self, password: str, on_done: Callback, on_failure: Failure) -> None:
        """Check the password of the locked desk (the server, else the cache's verifier) on
        the write lane: a sign-in replaces the tokens and writes the verifier. Sync never
        stopped; a session the server ended meanwhile resumes with the new tokens."""
        engine, cache, user = self.engine, self.cache, self.user

        def work() -> UnlockAnswer:
            answer = unlock(engine.api, cache, user, password)
            if answer.outcome is Outcome.ONLINE and engine.status.state is State.SIGN_IN_NEEDED:
                engine.resume(engine.api)
            return answer

        self._write("checking your password", work, on_done, on_failure)

    def idle_lock_timeout_ms(self) -> int:
        """How long without input before the desk locks: the practice policy's minutes."""
        if self.idle_lock_ms is not None:
            return self.idle_lock_ms
        return idle_lock_minutes(self.reference.policy) * 60_000

    def write_text(self, path: str, text: str, on_failure: Failure | None = None) -> None:
        self._write(
            "writing the file",
            lambda: Path(path).write_text(text, encoding="utf-8"),
            on_failure=on_failure,
        )

    # ---- the audit log (administrators; the server's answers, named from the cache) ----------

    def audit_page(self, query: AuditQuery, on_done: Callback, on_failure: Failure) -> None:
        """One page of `GET /audit` on a read worker (its own connection), as `AuditPage`."""
        reference = self.reference

        def work() -> AuditPage:
            api = self.engine.api.sibling()
            try:
                return fetch_page(api, self.cache.queries, query, reference.staff, reference.tz)
            finally:
                api.close()

        self._read("loading the audit log", work, on_done, on_failure)

    def audit_chain(self, on_done: Callback, on_failure: Failure) -> None:
        """The server walks the whole hash chain: a plain dict of its report."""

        def work() -> dict[str, Any]:
            api = self.engine.api.sibling()
            try:
                return api.audit_chain()
            finally:
                api.close()

        self._read("checking the audit chain", work, on_done, on_failure)

    def audit_patients(self, on_done: Callback) -> None:
        """(id, name, MRN) of every cached patient, for the audit log's patient picker."""
        self._read("listing patients", self.cache.queries.patient_list, on_done)

    def export_audit(
        self, path: str, rows: list[AuditRow], on_done: Callback, on_failure: Failure
    ) -> None:
        self._write("writing the audit export", lambda: write_csv(path, rows), on_done, on_failure)

    @property
    def state(self) -> State:
        return self.engine.status.state
