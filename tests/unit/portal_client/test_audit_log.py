"""The audit log's client side: the query it sends, events in words, the CSV (no Qt)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from portal_client.audit_log import (
    ACTION_GROUPS,
    AuditQuery,
    action_words,
    chain_words,
    detail_words,
    find_patient,
    rows_from_events,
    write_csv,
)

NEW_YORK = ZoneInfo("America/New_York")
STAFF = [{"id": "s1", "display_name": "Jordan Reyes, RN", "role": "nurse"}]


def event(seq: int, action: str, **fields: object) -> dict[str, object]:
    return {
        "seq": seq,
        "at": "2026-03-09T14:05:00Z",
        "actor": {"kind": "staff", "id": "s1"},
        "action": action,
        "item_id": None,
        "patient_id": None,
        "ip": "127.0.0.1",
        "detail": {},
        **fields,
    }


def test_the_date_range_is_whole_practice_days_across_a_clock_change() -> None:
    # 8 March 2026: New York moves to summer time, so the day starts at 05:00 UTC and the
    # next one at 04:00 UTC.
    params = AuditQuery(start=date(2026, 3, 8), end=date(2026, 3, 8)).params(NEW_YORK)
    assert params["since"] == "2026-03-08T05:00:00Z"
    assert params["until"] == "2026-03-09T04:00:00Z"


def test_actions_means_item_actions_without_views_or_break_the_glass() -> None:
    params = AuditQuery(group="actions").params()
    assert params["action"] == ["item."]
    assert params["exclude_action"] == ["item.view", "item.break_glass"]
    assert "action" not in AuditQuery(group="all").params()
    assert set(ACTION_GROUPS) == {"all", "viewed", "break_glass", "actions", "sign_ins", "sync"}


def test_the_break_the_glass_view_ignores_the_action_choice() -> None:
    params = AuditQuery(group="sync", break_glass=True, actor_id="s1").params()
    assert params == {"limit": 200, "break_glass": "true", "actor_id": "s1"}


def test_older_pages_keep_the_filter() -> None:
    first = AuditQuery(patient_id="p1", group="viewed", limit=50)
    params = first.older(1234).params()
    assert params["before_seq"] == 1234
    assert params["patient_id"] == "p1" and params["action"] == ["item.view"]


def test_events_read_in_words() -> None:
    assert action_words("item.view") == "Viewed"
    assert action_words("item.view", {"source": "desktop", "view_id": "v"}) == "Viewed (desktop)"
    assert action_words("item.break_glass") == "Break the glass"
    assert action_words("item.some_new_thing") == "Some new thing"  # new actions still read
    assert detail_words("sync.page", {"items": 500, "restricted": 3, "patients": 40}) == (
        "items: 500; patients: 40; restricted: 3"
    )
    assert (
        detail_words("item.break_glass", {"reason": "covering", "a": 1}) == "reason: covering; a: 1"
    )
    assert detail_words("item.escalated", {"categories": ["stroke", "breathing"]}) == (
        "categories: stroke, breathing"
    )
    assert detail_words("item.escalated", {"on_call_id": "s1"}, {"s1": "Dr. Priya Patel"}) == (
        "on call: Dr. Priya Patel"
    )


def test_rows_name_staff_patients_and_items_from_what_this_computer_has() -> None:
    rows = rows_from_events(
        [
            event(3, "item.view", patient_id="p1", item_id="i1"),
            event(2, "item.view", patient_id="p2", item_id="i2"),
            event(1, "staff.login_failed", actor={"kind": "staff", "id": None}),
        ],
        staff=STAFF,
        patients={"p1": ("Ana Lee", "RFM100001")},
        subjects={"i1": "Refill: lisinopril"},
        tz=NEW_YORK,
    )
    first, second, third = rows
    assert first.time_text == "Mon 09 Mar 2026 10:05:00"  # practice time (EDT)
    assert first.staff_text == "Jordan Reyes, RN · Nurse"
    assert (first.patient_name, first.mrn, first.subject) == (
        "Ana Lee",
        "RFM100001",
        "Refill: lisinopril",
    )
    assert second.patient_name == "(not on this computer)" and second.subject == ""
    assert third.staff_text == "Unknown user" and third.action_text == "Sign-in failed"


def test_the_csv_has_a_header_quotes_properly_and_defuses_formulas(tmp_path: Path) -> None:
    rows = rows_from_events(
        [
            event(
                2,
                "item.break_glass",
                patient_id="p1",
                item_id="i1",
                detail={"reason": 'covering, "urgent"\nsecond line'},
            ),
            event(1, "item.view", patient_id="p1", item_id="i1"),
        ],
        staff=[{"id": "s1", "display_name": '=HYPERLINK("x")', "role": "nurse"}],
        patients={"p1": ("Ana Lee", "RFM100001")},
        subjects={"i1": "I took too many pills"},
    )
    path = tmp_path / "audit.csv"
    assert write_csv(path, rows) == 2
    with open(path, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    header = lines[0]
    assert header[0] == "seq" and "detail" in header and len(lines) == 3
    first = dict(zip(header, lines[1], strict=True))
    assert first["seq"] == "2"
    assert first["action"] == "item.break_glass"
    assert first["detail"] == '{"reason": "covering, \\"urgent\\"\\nsecond line"}'
    assert first["staff member"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it, never runs it
    assert first["patient"] == "Ana Lee" and first["MRN"] == "RFM100001"
    assert "I took too many pills" not in path.read_text(encoding="utf-8")


def test_the_chain_in_words() -> None:
    assert chain_words({"intact": True, "checked": 12345}) == (
        "Audit chain intact: 12,345 events verified",
        True,
    )
    words, intact = chain_words(
        {"intact": False, "checked": 2, "first_broken_seq": 3, "reason": "content does not match"}
    )
    assert not intact
    assert words.startswith("Audit chain BROKEN at event 3: content does not match")


def test_a_patient_is_found_by_mrn_or_by_the_picker_words() -> None:
    choices = [("p1", "Lee, Ana", "RFM100001"), ("p2", "Lee, Bo", "RFM100002")]
    assert find_patient("rfm100002", choices) == choices[1]
    assert find_patient("Lee, Ana · MRN RFM100001", choices) == choices[0]
    assert find_patient("Lee", choices) is None
    assert find_patient("  ", choices) is None
