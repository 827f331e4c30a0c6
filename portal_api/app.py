"""The FastAPI application: wiring of services, routes, limits and background upkeep."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from . import API_PREFIX, __version__
from .access import AccessService
from .actions import ActionService
from .auth import AuthService
from .config import Settings
from .db import Database, create_db_engine
from .deps import Services
from .errors import install_handlers
from .events import ChangeBroadcaster
from .health import HealthProbe
from .input_guard import InputGuardMiddleware
from .jobs import Jobs
from .limits import BodyLimitMiddleware
from .patient_limits import SendingLimits
from .patient_portal import PatientPortal
from .policy import PolicyService
from .routes import access as access_routes
from .routes import audit as audit_routes
from .routes import auth as auth_routes
from .routes import fhir as fhir_routes
from .routes import items as item_routes
from .routes import patient as patient_routes
from .routes import reference as reference_routes
from .routes import sync as sync_routes
from .schemas import Health
from .sync import SyncService, instance_id
from .urgency import PracticeRules

log = logging.getLogger(__name__)


def build_services(settings: Settings, db: Database | None = None) -> Services:
    db = db or Database(create_db_engine(settings.database_url))
    sync = SyncService(db, instance_id(db))
    broadcaster = ChangeBroadcaster(sync.newest_cursor)
    db.on_items_committed(broadcaster.mark_dirty)
    rules = PracticeRules()
    auth = AuthService(db, settings)
    actions = ActionService(db, settings.idempotency_days)

    def upkeep() -> None:
        auth.purge_expired()
        actions.purge()

    return Services(
        settings=settings,
        db=db,
        auth=auth,
        actions=actions,
        sync=sync,
        policy=PolicyService(db),
        patients=PatientPortal(
            db,
            rules,
            SendingLimits(settings.patient_messages_per_minute, settings.patient_messages_per_day),
        ),
        access=AccessService(db),
        broadcaster=broadcaster,
        jobs=Jobs(settings, db, rules, upkeep),
    )


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    services = build_services(settings, db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dsn = None
        if services.db.postgres:
            url = services.db.engine.url.set(drivername="postgresql")
            dsn = url.render_as_string(hide_password=False)
        services.broadcaster.start(dsn)
        services.jobs.start()
        try:
            yield
        finally:
            services.jobs.stop()
            services.broadcaster.stop()

    app = FastAPI(
        title="Triage Desk portal API",
        version=__version__,
        description="Patients' portal requests in; staff desktops sync, act and stay in step. "
        'Every error is `{"error": {"code", "message", "details"}}`.',
        lifespan=lifespan,
    )
    app.state.services = services
    health = HealthProbe(lambda: services.db)
    # Outermost last: the 64 KiB limit first, then the guard against unstorable input.
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    install_handlers(app)

    @app.get(
        "/healthz",
        tags=["health"],
        responses={503: {"model": Health, "description": "the database does not answer"}},
    )
    async def healthz() -> Any:
        # On the event loop with its own thread and connection: see health.py.
        if not await health.ready():
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return Health(status="ok")

    for module in (
        auth_routes,
        reference_routes,
        sync_routes,
        item_routes,
        patient_routes,
        audit_routes,
        access_routes,
        fhir_routes,
    ):
        app.include_router(module.router, prefix=API_PREFIX)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            item_routes.register_action_schema(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
