"""The FastAPI application: one factory used by `allo serve`, `allo demo` and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
    routes_planning,
    routes_routing,
    web,
    web_planner,
)
from allo.services.bus import EventBus
from allo.services.router import start_in_thread
from allo.settings import Settings
from allo.store.database import make_engine
from allo.store.uow import Store

STATIC = Path(__file__).parent.parent / "web" / "static"


def wall_clock() -> datetime:
    return datetime.now(UTC)


def make_store(settings: Settings, clock: Callable[[], datetime] = wall_clock) -> Store:
    return Store(make_engine(settings.database_url), EventBus(), clock)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Hosts the live router next to the API, unless routers run on their own."""
    router = None
    if app.state.settings.run_router:
        router = start_in_thread(app.state.store)
    yield
    if router is not None:
        thread, stop = router
        stop.set()
        thread.join(timeout=5)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Allo",
        version=__version__,
        description="Multi-site contact center: sites, advisers, queues, customers, contacts.",
    )
    app.state.settings = settings
    app.state.store = store or make_store(settings)
    errors.install(app)
    app.include_router(routes_auth.router)
    app.include_router(routes_config.router)
    app.include_router(routes_data.router)
    app.include_router(routes_routing.router)
    app.include_router(routes_planning.router)
    app.include_router(web.router)
    app.include_router(web_planner.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
