"""The FastAPI application: one factory used by `allo serve`, `allo demo` and the tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from allo import __version__
from allo.api import (
    errors,
    routes_auth,
    routes_config,
    routes_data,
    routes_insights,
    web,
    web_insights,
)
from allo.services import insights
from allo.services.bus import EventBus
from allo.settings import Settings
from allo.store.database import make_engine
from allo.store.uow import Store

STATIC = Path(__file__).parent.parent / "web" / "static"


def wall_clock() -> datetime:
    return datetime.now(UTC)


def make_store(settings: Settings, clock: Callable[[], datetime] = wall_clock) -> Store:
    return Store(make_engine(settings.database_url), EventBus(), clock)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    app = FastAPI(
        title="Allo",
        version=__version__,
        description="Multi-site contact center: sites, advisers, queues, customers, contacts.",
    )
    app.state.settings = settings
    app.state.store = store or make_store(settings)
    errors.install(app)
    insights.subscribe(app.state.store)
    app.include_router(routes_auth.router)
    app.include_router(routes_config.router)
    app.include_router(routes_data.router)
    app.include_router(routes_insights.router)
    app.include_router(routes_insights.public)
    app.include_router(web.router)
    app.include_router(web_insights.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
