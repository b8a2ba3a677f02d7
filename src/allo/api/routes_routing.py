"""Routing in the API: queue status with wait estimates, answering offers, callbacks."""

from __future__ import annotations

from typing import Any

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas import CallbackIn, CloseIn, ContactOut, QueueStatusOut
from allo.services import desk, offers

router = api_router(prefix="/api/v1", tags=["routing"])


@router.get("/queues/{queue_id}/status", response_model=QueueStatusOut)
def queue_status(queue_id: int, uow: Uow, actor: Actor) -> Any:
    """Waiting contacts, longest wait and the estimated wait per site option."""
    return desk.queue_status(uow, actor, queue_id)


@router.post("/contacts/{contact_id}/accept", response_model=ContactOut)
def accept(contact_id: int, uow: Uow, actor: Actor) -> Any:
    """The adviser takes the contact offered to them (409 once the offer has expired)."""
    return offers.accept_offer(uow, actor, contact_id)


@router.post("/contacts/{contact_id}/decline", status_code=204)
def decline(contact_id: int, uow: Uow, actor: Actor) -> None:
    offers.decline_offer(uow, actor, contact_id)


@router.post("/contacts/{contact_id}/wrap-up", response_model=ContactOut)
def wrap_up(contact_id: int, uow: Uow, actor: Actor) -> Any:
    return offers.wrap_up(uow, actor, contact_id)


@router.post("/contacts/{contact_id}/close", response_model=ContactOut)
def close(contact_id: int, body: CloseIn, uow: Uow, actor: Actor) -> Any:
    return offers.close_contact(
        uow,
        actor,
        contact_id,
        wrap_code=body.wrap_code,
        notes=body.notes,
        resolved=body.resolved,
    )


@router.post("/contacts/{contact_id}/abandon", status_code=204)
def abandon(contact_id: int, uow: Uow, actor: Actor) -> None:
    """The customer left the line (or closed the chat) before being answered."""
    offers.abandon_contact(uow, actor, contact_id)


@router.post("/contacts/{contact_id}/callback", response_model=ContactOut)
def callback(contact_id: int, body: CallbackIn, uow: Uow, actor: Actor) -> Any:
    return offers.request_callback(uow, actor, contact_id, body.at)
