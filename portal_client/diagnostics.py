"""`portal-triage sync` and `portal-triage status`: for an office's IT person, and scripts.

Both print one JSON object on stdout; on failure they exit non-zero with a one-line reason on
stderr. No tokens or patient data are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .cache import CacheError
from .credentials import CredentialStore
from .engine import SyncEngine
from .errors import PortalError
from .session import default_data_dir, open_cache, sign_in


def add_commands(sub: Any) -> None:
    sync = sub.add_parser("sync", help="pull and push once, then print a JSON summary")
    sync.add_argument("--server", required=True)
    sync.add_argument("--username", required=True)
    sync.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else use the saved session)",
    )
    sync.add_argument("--data-dir", type=Path, default=None)
    sync.add_argument(
        "--once",
        action="store_true",
        required=True,
        help="one pull and push, then exit (the only mode for now)",
    )
    sync.add_argument("--page-limit", type=int, default=500)
    status = sub.add_parser("status", help="print the local cache's state as JSON (no network)")
    status.add_argument("--server", required=True)
    status.add_argument("--username", required=True)
    status.add_argument("--data-dir", type=Path, default=None)


def run(args: argparse.Namespace) -> int:
    try:
        result = _sync(args) if args.command == "sync" else _status(args)
    except (PortalError, CacheError) as exc:
        print(f"portal-triage {args.command}: {getattr(exc, 'message', str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def _sync(args: argparse.Namespace) -> dict[str, Any]:
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    started = time.perf_counter()
    signed_in = sign_in(
        args.server, args.username, password, data_dir=args.data_dir or default_data_dir()
    )
    try:
        engine = SyncEngine(
            signed_in.api,
            signed_in.cache,
            signed_in.user,
            use_events=False,
            page_limit=args.page_limit,
        )
        summary = engine.run_once()
        counts = signed_in.cache.queries.counts()
        return {
            "server": signed_in.api.base_url,
            "user": signed_in.user.username,
            "role": signed_in.user.role,
            **summary,
            **counts,
            "cursor": signed_in.cache.cursor,
            "last_sync_at": signed_in.cache.meta("last_sync_at"),
            "integrity": signed_in.cache.report.integrity,
            "keyring": "ok"
            if signed_in.credentials.persistent
            else signed_in.credentials.status.problem,
            "seconds": round(time.perf_counter() - started, 3),
        }
    finally:
        signed_in.cache.close()
        signed_in.api.close()


def _status(args: argparse.Namespace) -> dict[str, Any]:
    credentials = CredentialStore(args.server)
    cache = open_cache(
        args.server,
        args.username,
        credentials,
        args.data_dir or default_data_dir(),
        create_key=False,
        full_check=True,
    )
    try:
        return {
            **cache.queries.counts(),
            "cursor": cache.cursor,
            "last_sync_at": cache.meta("last_sync_at"),
            "integrity": cache.report.integrity,
            "set_aside": str(cache.report.set_aside) if cache.report.set_aside else None,
            "path": str(cache.path),
        }
    finally:
        cache.close()
