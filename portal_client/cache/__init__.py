"""The encrypted local cache, by responsibility: `store` (opening, integrity, migrations,
meta, the writer thread), `feed` (sync pages in), `outbox` (actions out, notices), `queries`
(every read), `clocks` (response clocks stored per item), `rows` (an item's rows), `schema`
and `files`."""

from .files import OpenReport
from .store import CACHE_FILE, Cache, CacheError
from .writer import WriterClosed

__all__ = ["CACHE_FILE", "Cache", "CacheError", "OpenReport", "WriterClosed"]
