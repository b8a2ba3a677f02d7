"""Sites, advisers and queues: configuration read by every role, written by admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas import (
    AdviserIn,
    AdviserOut,
    AdviserPatch,
    AdviserStateIn,
    Page,
    QueueIn,
    QueueOut,
    QueuePatch,
    SiteIn,
    SiteOut,
    SitePatch,
    changes_of,
    creation_of,
)
from allo.domain.roles import Permission
from allo.services import advisers, queues, sites
from allo.services.common import check_page
from allo.store.repository import get_for_tenant, list_for_tenant
from allo.store.tables import AdviserRow, QueueRow, SiteRow

router = api_router(prefix="/api/v1", tags=["configuration"])
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _page(model: type[Any], uow: Uow, actor: Actor, offset: int, limit: int) -> dict[str, Any]:
    actor.require(Permission.READ_CONFIG)
    check_page(offset, limit)
    rows, total = list_for_tenant(uow.session, model, actor.tenant_id, offset=offset, limit=limit)
    return {"items": rows, "total": total, "offset": offset, "limit": limit}


@router.get("/sites", response_model=Page[SiteOut])
def list_sites(uow: Uow, actor: Actor, offset: Offset = 0, limit: Limit = 100) -> Any:
    return _page(SiteRow, uow, actor, offset, limit)


@router.post("/sites", response_model=SiteOut, status_code=201)
def create_site(body: SiteIn, uow: Uow, actor: Actor) -> Any:
    return sites.create_site(uow, actor, creation_of(body))


@router.get("/sites/{site_id}", response_model=SiteOut)
def read_site(site_id: int, uow: Uow, actor: Actor) -> Any:
    actor.require(Permission.READ_CONFIG)
    return get_for_tenant(uow.session, SiteRow, actor.tenant_id, site_id)


@router.patch("/sites/{site_id}", response_model=SiteOut)
def update_site(site_id: int, body: SitePatch, uow: Uow, actor: Actor) -> Any:
    return sites.update_site(uow, actor, site_id, changes_of(body))


@router.get("/advisers", response_model=Page[AdviserOut])
def list_advisers(uow: Uow, actor: Actor, offset: Offset = 0, limit: Limit = 100) -> Any:
    return _page(AdviserRow, uow, actor, offset, limit)


@router.post("/advisers", response_model=AdviserOut, status_code=201)
def create_adviser(body: AdviserIn, uow: Uow, actor: Actor) -> Any:
    return advisers.create_adviser(uow, actor, creation_of(body))


@router.get("/advisers/{adviser_id}", response_model=AdviserOut)
def read_adviser(adviser_id: int, uow: Uow, actor: Actor) -> Any:
    actor.require(Permission.READ_CONFIG)
    return get_for_tenant(uow.session, AdviserRow, actor.tenant_id, adviser_id)


@router.patch("/advisers/{adviser_id}", response_model=AdviserOut)
def update_adviser(adviser_id: int, body: AdviserPatch, uow: Uow, actor: Actor) -> Any:
    return advisers.update_adviser(uow, actor, adviser_id, changes_of(body))


@router.put("/advisers/{adviser_id}/state", response_model=AdviserOut)
def set_adviser_state(adviser_id: int, body: AdviserStateIn, uow: Uow, actor: Actor) -> Any:
    return advisers.set_adviser_state(uow, actor, adviser_id, body.state)


@router.get("/queues", response_model=Page[QueueOut])
def list_queues(uow: Uow, actor: Actor, offset: Offset = 0, limit: Limit = 100) -> Any:
    return _page(QueueRow, uow, actor, offset, limit)


@router.post("/queues", response_model=QueueOut, status_code=201)
def create_queue(body: QueueIn, uow: Uow, actor: Actor) -> Any:
    return queues.create_queue(uow, actor, creation_of(body))


@router.get("/queues/{queue_id}", response_model=QueueOut)
def read_queue(queue_id: int, uow: Uow, actor: Actor) -> Any:
    actor.require(Permission.READ_CONFIG)
    return get_for_tenant(uow.session, QueueRow, actor.tenant_id, queue_id)


@router.patch("/queues/{queue_id}", response_model=QueueOut)
def update_queue(queue_id: int, body: QueuePatch, uow: Uow, actor: Actor) -> Any:
    return queues.update_queue(uow, actor, queue_id, changes_of(body))
