"""The FastAPI application: one factory used by `allo serve`, `allo demo` and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from allo import __version__
from allo.api import (
    errors,
    routes_auth,
    routes_config,
    routes_data,
    routes_desk,
    routes_email,
    routes_insights,
    routes_planning,
    routes_public,
    routes_routing,
    routes_voice,
    web,
    web_insights,
    web_planner,
)
from allo.channels.voice.media import MediaService, ice_servers
from allo.realtime import runtime, ws
from allo.realtime.hub import Hub
from allo.services import wall
from allo.services.bus import EventBus
from allo.services.principal_cache import PrincipalCache
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
    """Starts the hub fan-out, the router (unless routers run alone) and the demo bots."""
    voice = app.state.voice
    state = app.state
    # The principal cache also hears other processes' commits (a logout, a site's transfer
    # basis changed from the CLI), through the event tail.
    listeners = [state.principals.hear]
    background = await runtime.start(state.settings, state.store, state.hub, voice, listeners)
    yield
    await voice.close()
    await background.close()


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Allo",
        version=__version__,
        description="Multi-site contact center: sites, advisers, queues, customers, contacts.",
    )
    app.state.settings = settings
    app.state.store = store or make_store(settings)
    app.state.hub = Hub()
    app.state.principals = PrincipalCache()
    app.state.wall_snapshots = wall.SharedSnapshots()
    app.state.store.bus.subscribe(app.state.principals.hear)
    app.state.voice = MediaService(ice_servers(settings))
    errors.install(app)
    # The chat widget runs on the tenant's own web site and calls the public endpoints from
    # there; no credentials are ever sent cross-origin (the chat token is a header).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Chat-Token", "Accept-Language", "Authorization"],
    )
    # Routes are matched in this order: the live path (chat, offers, desk) comes first.
    app.include_router(ws.router)
    app.include_router(routes_public.router)
    app.include_router(routes_routing.router)
    app.include_router(routes_desk.router)
    app.include_router(routes_auth.router)
    app.include_router(routes_config.router)
    app.include_router(routes_data.router)
    app.include_router(routes_email.router)
    app.include_router(routes_insights.router)
    app.include_router(routes_insights.public)
    app.include_router(routes_public.pages)
    app.include_router(routes_voice.public)
    app.include_router(routes_voice.router)
    app.include_router(web.router)
    app.include_router(web_insights.router)
    app.include_router(routes_planning.router)
    app.include_router(web_planner.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
