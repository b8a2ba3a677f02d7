"""The adviser desk and the supervisor wall: their data, messages, and tuning from the wall."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, Field

from allo.api.deps import Actor, Uow, api_router
from allo.api.schemas import AdviserOut, ContactOut, QueueOut, Strict
from allo.services import desk, messages, wall

router = api_router(prefix="/api/v1", tags=["desk and wall"])
WRAP_CODES = (
    "information",
    "facture-expliquee",
    "incident-resolu",
    "escalade",
    "resiliation",
    "vente",
    "autre",
)


class MessageOut(BaseModel):
    id: int
    contact_id: int
    author: str
    body: str | None
    redacted: bool
    at: str
    bot: bool
    adviser_id: int | None
    intent: str | None = None
    sentiment: str | None = None


class MessageIn(Strict):
    body: Annotated[str, Field(max_length=20_000)]


class SkillsIn(Strict):
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]]


class PolicyIn(Strict):
    routing_policy: dict[str, Any]


@router.get("/desk")
def desk_page_data(uow: Uow, actor: Actor) -> dict[str, Any]:
    """Everything the desk needs after a (re)load: who I am and the work in my hands."""
    adviser, site, work = desk.desk_view(uow, actor)
    return {
        "adviser": AdviserOut.model_validate(adviser).model_dump(mode="json"),
        "site": {"id": site.id, "name": site.name, "country": site.country} if site else None,
        "contacts": [ContactOut.model_validate(c).model_dump(mode="json") for c in work],
        "wrap_codes": WRAP_CODES,
    }


@router.get("/contacts/{contact_id}/messages", response_model=list[MessageOut])
def list_messages(
    contact_id: int, uow: Uow, actor: Actor, after: Annotated[int, Query(ge=0)] = 0
) -> Any:
    return messages.list_messages(uow, actor, contact_id, after)


@router.post("/contacts/{contact_id}/messages", response_model=MessageOut, status_code=201)
def post_message(contact_id: int, body: MessageIn, uow: Uow, actor: Actor) -> Any:
    row = messages.post_as_adviser(uow, actor, contact_id, body.body)
    return messages.message_view(row, actor.viewer)


@router.get("/customers/{customer_id}/contacts", response_model=list[ContactOut])
def customer_history(customer_id: int, uow: Uow, actor: Actor) -> Any:
    """This customer's previous contacts (no personal data: channel, queue, outcome)."""
    return desk.customer_history(uow, actor, customer_id)


@router.get("/wall")
def wall_snapshot(
    request: Request,
    uow: Uow,
    actor: Actor,
    since: Annotated[
        int | None,
        Query(ge=0, description="the last event id pushed to this wall (none: a fresh reading)"),
    ] = None,
) -> dict[str, Any]:
    """What the wall shows; walls that saw the same events share one reading."""
    shared: wall.SharedSnapshots = request.app.state.wall_snapshots
    return shared.get(uow, actor, since)


@router.put("/advisers/{adviser_id}/skills", response_model=AdviserOut)
def set_skills(adviser_id: int, body: SkillsIn, uow: Uow, actor: Actor) -> Any:
    return wall.set_skills(uow, actor, adviser_id, body.skills)


@router.put("/queues/{queue_id}/policy", response_model=QueueOut)
def set_policy(queue_id: int, body: PolicyIn, uow: Uow, actor: Actor) -> Any:
    return wall.set_policy(uow, actor, queue_id, body.routing_policy)
