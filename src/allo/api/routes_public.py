"""Public endpoints of the customer web chat widget (no login: a widget key and a token)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Header, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from allo.api.deps import Lang, Uow, api_router
from allo.api.ratelimit import limit
from allo.api.schemas import Strict
from allo.i18n import texts
from allo.services import chat

router = api_router(prefix="/public/v1", tags=["public chat"])
pages = api_router(include_in_schema=False)
STATIC = Path(__file__).parent.parent / "web" / "static"


ChatToken = Annotated[str, Header(alias="X-Chat-Token", min_length=10, max_length=100)]


class ChatStartIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    queue_id: int
    email: Annotated[str, Field(max_length=254)] | None = None
    site_group: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    site_only: bool = False
    message: Annotated[str, Field(max_length=20_000)] | None = None


class ChatStartOut(BaseModel):
    token: str
    contact_id: int


class MessageIn(Strict):
    # The 4 KB limit is checked on the stripped text, with a clear message (services).
    body: Annotated[str, Field(max_length=20_000)]


class RatingIn(Strict):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] | None = None


@router.get("/widget/{key}")
def widget_config(key: str, request: Request, uow: Uow, lang: Lang) -> dict[str, Any]:
    """The tenant's chat topics with estimated waits per site option, and the widget's texts."""
    from allo.channels.voice.media import browser_ice_servers

    config = chat.widget_config(uow, key)
    config["ice_servers"] = browser_ice_servers(request.app.state.settings)
    widget = texts("widget.", lang)
    config["texts"] = {k.removeprefix("widget."): v for k, v in widget.items()}
    return config


@router.post("/widget/{key}/chats", response_model=ChatStartOut, status_code=201)
def start_chat(key: str, body: ChatStartIn, request: Request, uow: Uow) -> Any:
    limit(request, "starts")
    started = chat.start_chat(
        uow,
        key,
        name=body.name,
        queue_id=body.queue_id,
        email=body.email,
        site_group=body.site_group,
        site_only=body.site_only,
        first_message=body.message,
    )
    return {"token": started.token, "contact_id": started.contact_id}


@router.get("/chat")
def chat_state(token: ChatToken, uow: Uow, after: Annotated[int, Query(ge=0)] = 0) -> Any:
    """Resume after a reload: the chat's status and its messages after `after`."""
    return chat.chat_state(uow, token, after)


@router.post("/chat/messages", status_code=201)
def write(token: ChatToken, body: MessageIn, request: Request, uow: Uow) -> Any:
    limit(request, "messages")
    return chat.public_message(chat.customer_writes(uow, token, body.body))


@router.post("/chat/leave", status_code=204)
def leave(token: ChatToken, uow: Uow) -> None:
    chat.leave(uow, token)


@router.post("/chat/rating", status_code=204)
def rating(token: ChatToken, body: RatingIn, uow: Uow) -> None:
    chat.rate(uow, token, body.score, body.comment)


@pages.get("/widget.js")
def widget_script() -> Response:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


@pages.get("/demo/shop", response_class=HTMLResponse)
def demo_shop(request: Request, uow: Uow, lang: Lang) -> Response:
    from allo.api.web import render
    from allo.demo import DEMO_SLUG
    from allo.services.accounts import tenant_by_slug

    tenant = tenant_by_slug(uow, DEMO_SLUG)
    key = tenant.widget_key if tenant else "missing-demo-tenant"
    return render(request, "shop.html", lang, widget_key=key)
