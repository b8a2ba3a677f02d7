"""A request hands its connection back before FastAPI validates the response in a thread.

Held across that second wait for a request thread, connections ran out under load: every
queued request held one while the thread's request waited for one (bench/live.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, model_validator
from sqlalchemy import select

from allo.api.deps import Uow, api_router
from allo.store.tables import SiteRow
from allo.store.uow import Store


def app_reading_after_commit(store: Store, seen: list[int]) -> FastAPI:
    class Out(BaseModel):
        count: int

        @model_validator(mode="after")
        def note_connections(self) -> Out:
            seen.append(store.engine.pool.checkedout())  # type: ignore[attr-defined]
            return self

    router = api_router()

    @router.get("/sites/count", response_model=Out)
    def count_sites(uow: Uow) -> Any:
        uow.commit()
        # A read after the commit opens a new transaction, as a service's refresh does.
        return {"count": len(uow.session.scalars(select(SiteRow)).all())}

    @router.get("/fails")
    def fails(uow: Uow) -> Any:
        uow.session.scalars(select(SiteRow)).all()
        raise HTTPException(status_code=409, detail="no")

    app = FastAPI()
    app.state.store = store
    app.include_router(router)
    return app


def test_the_connection_is_back_in_the_pool_before_the_response_is_validated(
    store: Store,
) -> None:
    seen: list[int] = []
    with TestClient(app_reading_after_commit(store, seen)) as client:
        response = client.get("/sites/count")
    assert response.status_code == 200
    assert seen == [0]


def test_a_failing_endpoint_still_returns_its_connection(store: Store) -> None:
    with TestClient(app_reading_after_commit(store, [])) as client:
        assert client.get("/fails").status_code == 409
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
