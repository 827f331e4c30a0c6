"""`portal-api`: serve, migrate, seed, simulate, verify the audit chain, manage staff."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from triage_core.version import __version__

if TYPE_CHECKING:
    from .config import Settings

SERVER_PACKAGES = (
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "argon2",
    "platformdirs",
    "apscheduler",
    "requests",
)

log = logging.getLogger("portal_api")


def _database_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default: PORTAL_API_DATABASE_URL, else a SQLite file in the "
        "user data folder); e.g. postgresql+psycopg://user@host/dbname",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal-api", description=__doc__)
    parser.add_argument("--version", action="version", version=f"portal-api {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    _database_arg(serve)
    serve.add_argument("--seed", choices=["demo"], help="fill an empty database with the demo")
    serve.add_argument("--random-seed", type=int, default=1)
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a TLS-terminating reverse proxy: trust X-Forwarded-For/-Proto",
    )
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--simulate",
        metavar="RATE",
        help="also run the patient simulator against this server, e.g. 6/min (demo only)",
    )

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    _database_arg(migrate)

    seed = sub.add_parser("seed", help="fill an empty database with the demo practice")
    _database_arg(seed)
    seed.add_argument("--random-seed", type=int, default=1)
    seed.add_argument("--patients", type=int, default=300)
    seed.add_argument("--items", type=int, default=360)

    simulate = sub.add_parser("simulate", help="act as demo patients filing requests")
    simulate.add_argument("--url", required=True, help="the portal API, e.g. http://127.0.0.1:8765")
    simulate.add_argument("--rate", default="6/min", help="requests per minute or hour: 6/min")
    simulate.add_argument("--duration", default=None, help="stop after this long: 90s, 10m, 2h")
    simulate.add_argument("--patients", type=int, default=50, help="use patient1..patientN")
    simulate.add_argument("--random-seed", type=int, default=None)

    audit_cmd = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the audit log's hash chain")
    _database_arg(verify)
    verify.add_argument(
        "--anchors",
        metavar="FILE",
        help="also check that every anchor in this file (PORTAL_API_AUDIT_ANCHOR_FILE) still "
        "holds: a cut or rewritten tail fails",
    )

    patient = sub.add_parser("patient", help="patient portal accounts")
    patient_sub = patient.add_subparsers(dest="patient_command", required=True)
    enroll = patient_sub.add_parser(
        "add", help="give a chart (found by MRN) a portal account (password from stdin or prompt)"
    )
    _database_arg(enroll)
    enroll.add_argument("--mrn", required=True)
    enroll.add_argument("--username", required=True)
    enroll.add_argument("--password-stdin", action="store_true")

    fhir_cmd = sub.add_parser("fhir", help="chart facts from the EHR")
    fhir_sub = fhir_cmd.add_subparsers(dest="fhir_command", required=True)
    fhir_import = fhir_sub.add_parser(
        "import", help="apply a FHIR R4 batch or transaction Bundle (JSON file) to the charts"
    )
    _database_arg(fhir_import)
    fhir_import.add_argument("file", help="the Bundle, as JSON")

    staff = sub.add_parser("staff", help="manage staff accounts")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="add a staff account (password from stdin or prompt)")
    _database_arg(add)
    add.add_argument("--username", required=True)
    add.add_argument("--display-name", required=True)
    add.add_argument("--role", required=True, choices=["front_desk", "nurse", "clinician", "admin"])
    add.add_argument("--password-stdin", action="store_true")
    deactivate = staff_sub.add_parser("deactivate", help="end a staff account's access")
    _database_arg(deactivate)
    deactivate.add_argument("--username", required=True)
    return parser


def missing_packages(names: Sequence[str]) -> list[str]:
    import importlib.util

    return [name for name in names if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = missing_packages(SERVER_PACKAGES)
    if missing:
        print(
            f"portal-api: the service's packages are not installed ({', '.join(missing)}): "
            "pip install 'triage-desk[server]'",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"portal-api: {exc}", file=sys.stderr)
        return 2


class CliError(RuntimeError):
    """A problem to report in one line, without a traceback."""


def _settings(args: argparse.Namespace) -> Settings:
    from .config import Settings

    try:
        return Settings.from_env(database_url=getattr(args, "database", None))
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from .db import Database, DatabaseConfigError, create_db_engine

    try:
        engine = create_db_engine(settings.database_url)
        with engine.connect():
            pass
    except DatabaseConfigError as exc:
        raise CliError(str(exc)) from None
    except OperationalError as exc:
        raise CliError(
            f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}"
        ) from None
    return Database(engine)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "simulate":
        from .simulate import SimulatorError, run_from_cli

        try:
            return run_from_cli(args)
        except SimulatorError as exc:
            raise CliError(str(exc)) from None
    settings = _settings(args)
    db = _database(settings)
    from . import schema

    if args.command == "migrate":
        before = schema.inspect_schema(db.engine)
        if before.state == "newer":
            raise CliError(f"the database schema ({before.revision}) is newer than this portal-api")
        if before.state == "foreign":
            raise CliError("the database holds tables that are not a portal-api schema")
        schema.upgrade(db.engine)
        print(f"schema at {schema.head_revision()} (was {before.revision or 'empty'})")
        return 0
    try:
        state = schema.ensure_ready(db.engine, create_if_empty=args.command in ("serve", "seed"))
    except schema.SchemaError as exc:
        raise CliError(str(exc)) from None
    if state.state == "empty":
        raise CliError("the database is empty; run `portal-api migrate --database URL` first")
    if args.command == "seed" or (args.command == "serve" and args.seed == "demo"):
        _seed(db, settings, args, quiet_if_seeded=args.command == "serve")
    if args.command == "seed":
        return 0
    if args.command == "serve":
        return _serve(db, settings, args)
    if args.command == "audit":
        return _audit_verify(db, args.anchors)
    if args.command == "staff":
        return _staff(db, settings, args)
    if args.command == "fhir":
        return _fhir_import(db, args.file)
    if args.command == "patient":
        return _patient(db, settings, args)
    raise CliError(f"unknown command {args.command}")


def _fhir_import(db, path: str) -> int:  # type: ignore[no-untyped-def]
    """Apply a Bundle file; one line saying what was applied, or each refusal."""
    import json
    from pathlib import Path

    from .fhir import FhirImport, FhirRefused

    try:
        document = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise CliError(f"{path} is not JSON") from None
    try:
        response = FhirImport(db).apply(document, actor_id=None)
    except FhirRefused as refused:
        for issue in refused.outcome["issue"]:
            print(f"refused: {issue['expression'][0]}: {issue['diagnostics']}")
        return 1
    print(f"imported {len(response['entry'])} resources from {path}")
    return 0


def _audit_verify(db, anchor_file: str | None) -> int:  # type: ignore[no-untyped-def]
    """One line: the chain's report, and with `anchor_file` whether every anchor holds."""
    from pathlib import Path

    from . import anchors, audit

    found: list[anchors.Anchor] = []
    bad_file = None
    if anchor_file:
        try:
            found = anchors.read_anchors(Path(anchor_file).expanduser())
        except anchors.AnchorFileError as exc:
            bad_file = f"the anchor file {anchor_file}: {exc}"
        except OSError as exc:
            raise CliError(f"cannot read the anchor file {anchor_file}: {exc.strerror}") from None
    with db.read() as session:
        report = audit.verify(session)
        held = anchors.verify(session, found) if anchor_file and not bad_file else None
    anchor_problem = bad_file or (held.describe() if held and not held.ok else None)
    if not report.intact:
        print(report.describe() + (f"; and {anchor_problem}" if anchor_problem else ""))
    elif bad_file:
        print(f"audit anchors UNREADABLE: {bad_file} ({report.describe()})")
    elif anchor_problem:
        print(f"audit chain BROKEN: {anchor_problem}")
    else:
        print(report.describe() + (f"; {held.describe()}" if held else ""))
    return 1 if anchor_problem or not report.intact else 0


def _seed(db, settings: Settings, args: argparse.Namespace, quiet_if_seeded: bool) -> None:  # type: ignore[no-untyped-def]
    from .seed import SeedError, seed_demo

    try:
        summary = seed_demo(
            db,
            random_seed=args.random_seed,
            patients=getattr(args, "patients", 300),
            items=getattr(args, "items", 360),
            password_profile=settings.password_profile,
        )
    except SeedError as exc:
        if quiet_if_seeded:
            log.info("not seeding: %s", exc)
            return
        raise CliError(str(exc)) from None
    print(
        f"seeded the demo practice: {summary.staff} staff, {summary.patients} patients, "
        f"{summary.items} items; every demo account's password is 'demo'"
    )


def _serve(db, settings: Settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    import uvicorn

    from .app import create_app

    if args.proxy_headers:
        from dataclasses import replace

        settings = replace(settings, trust_forwarded_for=True)
    app = create_app(settings, db)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips="*" if args.proxy_headers else None,
        timeout_graceful_shutdown=3,
        access_log=False,
    )
    server = uvicorn.Server(config)
    simulator = _start_simulator(server, args) if args.simulate else None
    try:
        server.run()
    finally:
        if simulator is not None:
            simulator.stop()
    return 0


def _start_simulator(server, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Run simulated patients against this server once it accepts connections."""
    import random
    import threading

    from .simulate import Simulator, SimulatorError, parse_rate

    try:
        rate = parse_rate(args.simulate)
    except SimulatorError as exc:
        raise CliError(str(exc)) from None
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
    simulator = Simulator(
        base_url=f"http://{host}:{args.port}",
        rate_per_second=rate,
        rng=random.Random(args.random_seed),  # noqa: S311 - synthetic patients
    )

    def run() -> None:
        while not server.started and not simulator.stop_event.is_set():
            simulator.stop_event.wait(0.1)
        try:
            simulator.run()
        except SimulatorError as exc:
            log.warning("patient simulator stopped: %s", exc)

    threading.Thread(target=run, name="patient-simulator", daemon=True).start()
    return simulator


def _staff(db, settings: Settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select, update

    from . import audit
    from .models import AuthSession, Staff, utcnow
    from .security import hash_password

    if args.staff_command == "deactivate":
        with db.write() as session:
            staff = session.scalar(
                select(Staff).where(func.lower(Staff.username) == args.username.lower())
            )
            if staff is None:
                raise CliError(f"no staff account '{args.username}'")
            staff.active = False
            session.execute(
                update(AuthSession)
                .where(AuthSession.principal_id == staff.id, AuthSession.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoked_reason="deactivated")
            )
            audit.append(
                session,
                actor_kind="system",
                actor_id=None,
                action="staff.deactivate",
                detail={"staff_id": staff.id},
            )
        print(f"deactivated {args.username}; their sessions have ended")
        return 0
    password = _new_password(args.password_stdin)
    with db.write() as session:
        exists = session.scalar(
            select(Staff.id).where(func.lower(Staff.username) == args.username.lower())
        )
        if exists:
            raise CliError(f"a staff account '{args.username}' exists already")
        staff = Staff(
            username=args.username,
            display_name=args.display_name,
            role=args.role,
            active=True,
            password_hash=hash_password(password, settings.password_profile),
        )
        session.add(staff)
        session.flush()
        audit.append(
            session,
            actor_kind="system",
            actor_id=None,
            action="staff.add",
            detail={"staff_id": staff.id, "role": args.role},
        )
    print(f"added {args.role} '{args.username}'")
    return 0


def _new_password(from_stdin: bool) -> str:
    """A new account's password: one line of stdin, or typed twice at a prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            raise CliError("the passwords differ")
    if len(password) < 12:
        raise CliError("use a password of at least 12 characters")
    return password


def _patient(db, settings: Settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """Enroll a portal account on a chart that came from the EHR, found by its MRN."""
    from sqlalchemy import func, select

    from . import audit
    from .auth import normalise_username
    from .models import Patient
    from .security import hash_password

    username = normalise_username(args.username)
    if not username:
        raise CliError("the username is empty")
    password = _new_password(args.password_stdin)
    with db.write() as session:
        patient = session.scalar(select(Patient).where(Patient.mrn == args.mrn))
        if patient is None:
            raise CliError(
                f"no chart with MRN {args.mrn}; import it first (portal-api fhir import FILE)"
            )
        if patient.username is not None:
            raise CliError(f"MRN {args.mrn} already has a portal account")
        taken = session.scalar(select(Patient.id).where(func.lower(Patient.username) == username))
        if taken:
            raise CliError(f"the portal username '{username}' is taken")
        patient.username = username
        patient.password_hash = hash_password(password, settings.password_profile)
        audit.append(
            session,
            actor_kind="system",
            actor_id=None,
            action="patient.enrolled",
            patient_id=patient.id,
        )
    print(f"portal account '{username}' now opens the chart of MRN {args.mrn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
