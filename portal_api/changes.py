"""The change feed behind `/sync`: how a change is stamped and how far a reader may safely go.

A naive cursor (an autoincrement or `updated_at`) skips changes: transaction A takes number 10,
B takes 11 and commits, a reader sees 11 and moves its cursor past 10; then A commits and is
never seen. Here every item change is stamped with the writing transaction's id and a sequence
number, and a reader only returns changes of transactions older than every transaction still
running (the snapshot's `xmin` on PostgreSQL). A transaction that commits later always carries
an id at or above that horizon, so it lands after any cursor handed out before it committed.

SQLite runs one writer at a time (`BEGIN IMMEDIATE`), and the stamp comes from a counter row
inside that writer's transaction, so commit order is stamp order and every commit is below the
horizon.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from sqlalchemy import Sequence, and_, select, text, tuple_, update
from sqlalchemy.orm import Session

from .models import Counter, Item

CHANGE_SEQUENCE = Sequence("item_change_seq")
NO_HORIZON = 2**62
MAX_POSITION = 2**63 - 1  # a BIGINT column holds no more


@dataclass(frozen=True, order=True)
class Position:
    txid: int
    seq: int


START = Position(0, 0)


class BadCursor(ValueError):
    """The cursor is not one this database handed out."""


def stamp(session: Session) -> Position:
    """The feed position for changes made by the current write transaction."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            text("SELECT pg_current_xact_id()::text::bigint, nextval('item_change_seq')")
        ).one()
        return Position(int(row[0]), int(row[1]))
    value = session.execute(
        update(Counter)
        .where(Counter.name == "item_change")
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return Position(int(value), int(value))


def stamp_many(session: Session, count: int) -> list[Position]:
    """Positions for `count` changes in the current write transaction (bulk loads)."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        txid = int(session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
        seqs = session.execute(
            text("SELECT nextval('item_change_seq') FROM generate_series(1, :n)"), {"n": count}
        ).scalars()
        return [Position(txid, int(seq)) for seq in seqs]
    last = session.execute(
        update(Counter)
        .where(Counter.name == "item_change")
        .values(value=Counter.value + count)
        .returning(Counter.value)
    ).scalar_one()
    return [Position(v, v) for v in range(int(last) - count + 1, int(last) + 1)]


def horizon(session: Session) -> int:
    """Transactions with ids below this have all finished; their changes are final."""
    if session.get_bind().dialect.name == "postgresql":
        return int(
            session.execute(
                text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            ).scalar_one()
        )
    return NO_HORIZON


def after(position: Position, limit_txid: int):  # type: ignore[no-untyped-def]
    """The WHERE clause: changed after `position` and below the horizon."""
    return and_(
        tuple_(Item.change_txid, Item.change_seq) > tuple_(position.txid, position.seq)
        if position != START
        else Item.change_txid >= 0,
        Item.change_txid < limit_txid,
    )


def newest_visible(session: Session) -> Position:
    """The last position a reader can reach now (what an event's cursor points at)."""
    limit = horizon(session)
    row = session.execute(
        select(Item.change_txid, Item.change_seq)
        .where(Item.change_txid < limit)
        .order_by(Item.change_txid.desc(), Item.change_seq.desc())
        .limit(1)
    ).first()
    return Position(int(row[0]), int(row[1])) if row else START


def newest_committed(session: Session) -> Position:
    """The last committed position, visible to a reader or not yet (held back by the horizon)."""
    row = session.execute(
        select(Item.change_txid, Item.change_seq)
        .order_by(Item.change_txid.desc(), Item.change_seq.desc())
        .limit(1)
    ).first()
    return Position(int(row[0]), int(row[1])) if row else START


def encode_cursor(instance_id: str, position: Position) -> str:
    raw = json.dumps({"v": 1, "db": instance_id, "t": position.txid, "s": position.seq})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, instance_id: str) -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or not _is_int(data.get("v"), 1, 1):
            raise BadCursor("cursor is from another database or version")
        if data.get("db") != instance_id:
            raise BadCursor("cursor is from another database or version")
        txid, seq = data["t"], data["s"]
        if not (_is_int(txid, 0, MAX_POSITION) and _is_int(seq, 0, MAX_POSITION)):
            raise BadCursor("cursor position is invalid")
        return Position(txid, seq)
    except (ValueError, KeyError, UnicodeError, binascii.Error) as exc:
        if isinstance(exc, BadCursor):
            raise
        raise BadCursor("cursor is malformed") from None


def _is_int(value: object, low: int, high: int) -> bool:
    """A JSON integer in range; `true` is not 1 (PostgreSQL refused to compare it: a 500)."""
    return type(value) is int and low <= value <= high


def position_is_known(session: Session, position: Position) -> bool:
    """A cursor beyond anything this database committed was not handed out by it."""
    return position <= newest_committed(session)


__all__ = [
    "CHANGE_SEQUENCE",
    "START",
    "BadCursor",
    "Position",
    "after",
    "decode_cursor",
    "encode_cursor",
    "horizon",
    "newest_committed",
    "newest_visible",
    "position_is_known",
    "stamp",
    "stamp_many",
]
