"""The `anchor` job: the audit chain's head, appended to the anchor file when it has moved.

Each run also checks the file's last anchor against the database, so a cut or rewritten tail
shows up as an ERROR line within one interval, not only at the next `audit verify --anchors`.
The anchor is logged too (INFO), a second copy wherever the service log is shipped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from .. import anchors
from ..db import Database
from ..models import utcnow

log = logging.getLogger(__name__)


class Anchorer:
    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    def run(self, now: datetime | None = None) -> anchors.Anchor | None:
        """Append the head if it moved since the last line; the anchor written, else None."""
        try:
            last = anchors.last_anchor(self.path)
        except anchors.AnchorFileError as exc:
            log.error("audit anchor file %s: %s", self.path, exc)
            last = None
        with self.db.read() as session:
            head = anchors.current_head(session, now or utcnow())
            if last is not None:
                held = anchors.verify(session, [last])
                if not held.ok:
                    log.error("audit log no longer matches its anchor: %s", held.problem)
        if head is None or (last is not None and (last.seq, last.hash) == (head.seq, head.hash)):
            return None
        try:
            anchors.append(self.path, head)
        except OSError as exc:
            log.error("cannot write the audit anchor file %s: %s", self.path, exc.strerror)
            raise
        log.info("audit anchor: event %d hash %s", head.seq, head.hash)
        return head
