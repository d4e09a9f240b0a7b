"""create_app(): the FastAPI application, its database and its planning-job runner."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.db import ensure_schema, make_engine, upgrade
from api.errors import ERROR_RESPONSES, install_handlers, install_url_guard
from api.routes import (
    arrivals,
    audit,
    buses,
    expected,
    notices,
    plans,
    reference,
    region,
    reimbursements,
    reports,
    rules,
    stats,
    subsidies,
    tickets,
    tokens,
    travellers,
)
from api.services.auth import FailedAuthBrake
from api.services.planning import JobRunner, fail_unfinished_jobs
from api.services.region import Region, region_config
from api.settings import Settings, get_settings
from api.web import pages as web_pages
from api.web.headers import install_security_headers

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment). The database is migrated at start-up.

    Raises:
        InvalidRegionSettings: the FANGGANG_REGION_* settings are wrong (each problem in English and Chinese).
    """
    settings = settings or get_settings()
    # A region's deployment reads its counties' databases; checked now, before anything is served.
    config = region_config(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, settings.database_schema)
        if settings.database_schema and not settings.database_url.startswith("sqlite"):
            ensure_schema(engine, settings.database_schema)
        upgrade(engine)
        failed = fail_unfinished_jobs(engine)
        if failed:
            log.warning("%d planning job(s) from an earlier run marked failed", failed)
        app.state.engine = engine
        app.state.settings = settings
        app.state.auth_brake = FailedAuthBrake(settings.auth_failures_per_minute)
        app.state.jobs = JobRunner(engine, settings.database_url, settings.database_schema, settings.planning_processes)
        app.state.region = Region(config) if config is not None else None
        try:
            yield
        finally:
            app.state.jobs.shutdown()
            if app.state.region is not None:
                app.state.region.dispose()
            engine.dispose()

    app = FastAPI(
        title="fanggang 返岗",
        summary="Chartered buses taking a county's migrant workers back to their factories.",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    install_handlers(app)
    install_url_guard(app)
    install_security_headers(app, settings)
    for module in (
        reference,
        rules,
        tokens,
        travellers,
        plans,
        buses,
        arrivals,
        subsidies,
        reimbursements,
        stats,
        expected,
        audit,
        reports,
        notices,
        tickets,
        region,
    ):
        app.include_router(module.router)
    # The pages for townships, factories and the dispatcher (/app), served by the same process.
    web_pages.install(app)
    return app
