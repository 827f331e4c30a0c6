"""Anchors: the audit chain's head, copied now and then to a file outside the database.

The hash chain (`audit.py`) shows that stored events were not changed, but someone who owns the
tables can drop the guards, cut off the newest events (or rewrite them and every later hash)
and move the head back to match: the chain then verifies. An anchor is one JSON line
`{"at": ..., "seq": ..., "hash": ...}` saying "event `seq` had hash `hash` at `at`", appended
by the leader's `anchor` job to a file the database's owner cannot rewrite (another machine's
mount, an append-only file, a log shipper). Every anchor must stay true: the event with that
number still exists and still has that hash.

The pure parts (lines, the check over plain data) are apart from the file and the database,
so an admin endpoint can reuse them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead, rfc3339, utcnow

FILE_MODE = 0o600
_TAIL_CHUNK = 4096
_LOOKUP_BATCH = 500


class AnchorFileError(ValueError):
    """A line of the anchor file is not an anchor."""


@dataclass(frozen=True)
class Anchor:
    at: datetime
    seq: int
    hash: str

    def line(self) -> str:
        return json.dumps({"at": rfc3339(self.at), "seq": self.seq, "hash": self.hash}) + "\n"


def parse_line(text: str, number: int) -> Anchor:
    """One line of the file; `number` (from 1) only names the line in the error."""
    try:
        raw = json.loads(text)
        at = datetime.fromisoformat(raw["at"])
        seq, digest = raw["seq"], raw["hash"]
        if at.tzinfo is None:
            raise ValueError("no time zone")
        if type(seq) is not int or seq < 1:
            raise ValueError("bad seq")
        if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError("bad hash")
    except (ValueError, TypeError, KeyError) as exc:
        raise AnchorFileError(f"line {number} is not an anchor ({type(exc).__name__})") from None
    return Anchor(at, seq, digest)


def parse_lines(lines: Iterable[str]) -> list[Anchor]:
    """Every anchor in order; blank lines are skipped, anything else malformed is an error."""
    return [parse_line(text, n) for n, text in enumerate(lines, start=1) if text.strip()]


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    checked: int
    problem: str | None = None
    latest: Anchor | None = None

    def describe(self) -> str:
        if not self.ok:
            return str(self.problem)
        if self.latest is None:
            return "no anchors to check"
        held = "1 anchor holds" if self.checked == 1 else f"{self.checked} anchors hold"
        return f"{held} (latest: event {self.latest.seq} at {rfc3339(self.latest.at)})"


def check(anchors: Sequence[Anchor], stored: Mapping[int, str], last_stored: int) -> AnchorCheck:
    """Whether every anchor still holds, given the stored hash of each anchored event
    (`stored`, missing when the event is gone) and the highest event number stored."""
    for anchor in sorted(anchors, key=lambda a: (a.seq, a.at)):
        when = rfc3339(anchor.at)
        found = stored.get(anchor.seq)
        if found is None:
            return AnchorCheck(
                False,
                len(anchors),
                f"events after {last_stored} are missing (anchored at event {anchor.seq} "
                f"on {when})",
            )
        if found != anchor.hash:
            return AnchorCheck(
                False, len(anchors), f"event {anchor.seq} does not match its anchor of {when}"
            )
    latest = max(anchors, key=lambda a: (a.seq, a.at)) if anchors else None
    return AnchorCheck(True, len(anchors), latest=latest)


def stored_hashes(session: Session, seqs: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _LOOKUP_BATCH):
        batch = wanted[start : start + _LOOKUP_BATCH]
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(batch))
        )
        found.update({int(seq): str(digest) for seq, digest in rows})
    return found


def verify(session: Session, anchors: Sequence[Anchor]) -> AnchorCheck:
    """Check the anchors against the stored events."""
    last = session.scalar(select(func.max(AuditEvent.seq)))
    return check(anchors, stored_hashes(session, (a.seq for a in anchors)), int(last or 0))


def current_head(session: Session, at: datetime | None = None) -> Anchor | None:
    """The committed chain head as an anchor (None while the log is empty)."""
    head = session.get(AuditHead, 1)
    if head is None or head.last_seq < 1:
        return None
    return Anchor(at or utcnow(), int(head.last_seq), str(head.last_hash))


def read_anchors(path: Path) -> list[Anchor]:
    """Every anchor in the file (OSError if it cannot be read, AnchorFileError if a line is
    malformed)."""
    with path.open(encoding="utf-8", errors="replace", newline="\n") as stream:
        return parse_lines(stream)


def last_anchor(path: Path) -> Anchor | None:
    """The file's last anchor, reading only its end (None for no file or an empty one)."""
    try:
        with path.open("rb") as stream:
            end = stream.seek(0, os.SEEK_END)
            tail = b""
            position = end
            while position > 0:
                step = min(_TAIL_CHUNK, position)
                position -= step
                stream.seek(position)
                tail = stream.read(step) + tail
                if tail.strip() and b"\n" in tail.rstrip(b"\n"):
                    break
    except FileNotFoundError:
        return None
    for text in reversed(tail.decode("utf-8", errors="replace").splitlines()):
        if text.strip():
            try:
                return parse_line(text, 0)
            except AnchorFileError:
                raise AnchorFileError("the last line is not an anchor") from None
    return None


def append(path: Path, anchor: Anchor) -> None:
    """Add one line: O_APPEND (also allowed on a `chattr +a` file), created 0600, fsync'd.
    A torn last line left by a crash is closed first, so the new anchor stands on its own."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        size = os.fstat(fd).st_size
        data = anchor.line().encode("utf-8")
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
