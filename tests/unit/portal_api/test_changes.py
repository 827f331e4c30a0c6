"""Cursor encoding: round trips, and anything else is a BadCursor (never a crash)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal_api import changes

INSTANCE = "5f0c2f39-2d1e-4c3a-9f51-2f2d6f1b9a10"


@given(st.integers(0, 2**62), st.integers(0, 2**62))
def test_cursor_round_trips(txid: int, seq: int) -> None:
    position = changes.Position(txid, seq)
    assert changes.decode_cursor(changes.encode_cursor(INSTANCE, position), INSTANCE) == position


@given(st.text(max_size=200))
def test_arbitrary_text_is_a_bad_cursor_or_a_valid_one(text: str) -> None:
    try:
        position = changes.decode_cursor(text, INSTANCE)
    except changes.BadCursor:
        return
    assert position.txid >= 0 and position.seq >= 0


def test_cursor_of_another_database_is_refused() -> None:
    cursor = changes.encode_cursor("other", changes.Position(1, 1))
    with pytest.raises(changes.BadCursor, match="another database"):
        changes.decode_cursor(cursor, INSTANCE)


def test_negative_or_non_integer_positions_are_refused() -> None:
    import base64
    import json

    for bad in (
        {"v": 1, "db": INSTANCE, "t": -1, "s": 0},
        {"v": 1, "db": INSTANCE, "t": "1", "s": 0},
        {"v": 2, "db": INSTANCE, "t": 1, "s": 0},
        {"v": 1, "db": INSTANCE, "t": 1},
    ):
        raw = base64.urlsafe_b64encode(json.dumps(bad).encode()).decode()
        with pytest.raises(changes.BadCursor):
            changes.decode_cursor(raw, INSTANCE)


def test_positions_order_by_transaction_then_sequence() -> None:
    assert changes.Position(1, 99) < changes.Position(2, 1)
    assert changes.Position(2, 1) < changes.Position(2, 2)
