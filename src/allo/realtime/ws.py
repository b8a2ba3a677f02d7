"""WebSocket endpoints: staff (desk and wall) and customers (web chat)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from allo.api.deps import SESSION_COOKIE
from allo.api.errors import error_text
from allo.api.ratelimit import RateLimited, limit
from allo.domain.errors import DomainError, InvalidValue
from allo.domain.privacy import Viewer
from allo.domain.roles import Role
from allo.i18n import pick_language
from allo.realtime.hub import Hub, Subscription, adviser_topic, contact_topic, wall_topic
from allo.services import chat, messages
from allo.services.accounts import principal_for, session_user, token_user
from allo.services.errors import Unauthenticated
from allo.services.principal import Principal
from allo.store.tables import ContactRow, MessageRow
from allo.store.uow import Store

router = APIRouter()
log = logging.getLogger(__name__)
CUSTOMER_EVENTS = {
    "contact.offered": "waiting",
    "contact.queued": "waiting",
    "contact.transferred": "waiting",
    "contact.in_progress": "in_progress",
    "contact.wrap_up": "in_progress",
    "contact.closed": "closed",
    "contact.abandoned": "abandoned",
    "call.ended": "call_ended",
}
POLICY_VIOLATION = 1008


def _store(websocket: WebSocket) -> Store:
    store: Store = websocket.app.state.store
    return store


def _hub(websocket: WebSocket) -> Hub:
    hub: Hub = websocket.app.state.hub
    return hub


def _same_origin(websocket: WebSocket) -> bool:
    """Cookie-authenticated sockets must come from our own pages (no cross-site hijacking)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlparse(origin).netloc == websocket.headers.get("host")


def _staff_principal(websocket: WebSocket) -> Principal:
    store = _store(websocket)
    with store.unit_of_work() as uow:
        token = websocket.query_params.get("token")
        if token:
            return principal_for(uow, token_user(uow, token), via_token=True)
        cookie = websocket.cookies.get(SESSION_COOKIE)
        if not cookie or not _same_origin(websocket):
            raise Unauthenticated("no session")
        user, _ = session_user(uow, cookie)
        return principal_for(uow, user)


def _staff_topics(actor: Principal) -> set[str]:
    topics = set()
    if actor.adviser_id is not None:
        topics.add(adviser_topic(actor.adviser_id))
    if actor.role in (Role.ADMIN, Role.SUPERVISOR):
        topics.add(wall_topic(actor.tenant_id))
    return topics


def _message_out(row: MessageRow, viewer: Viewer | None) -> dict[str, Any]:
    """The pushed message: for staff as their site may read it, for customers as they wrote it."""
    if viewer is not None:
        return {"kind": "message", **messages.message_view(row, viewer)}
    return {
        "kind": "message",
        "contact_id": row.contact_id,
        **chat.public_message(row),
        "adviser_id": row.adviser_id,
    }


def _load_message(
    store: Store, message_id: int, viewer: Viewer | None = None
) -> dict[str, Any] | None:
    with store.unit_of_work() as uow:
        row = uow.session.get(MessageRow, message_id)
        return _message_out(row, viewer) if row is not None else None


async def _pushed_message(
    websocket: WebSocket, event: dict[str, Any], viewer: Viewer | None = None
) -> dict[str, Any] | None:
    """A message written in this process comes with its row; others are read back."""
    row = _hub(websocket).local_of(event.get("id"))
    if isinstance(row, MessageRow):
        return _message_out(row, viewer)
    message_id = event["payload"]["message_id"]
    return await run_in_threadpool(_load_message, _store(websocket), message_id, viewer)


async def _pump(websocket: WebSocket, subscription: Subscription, shape: Any) -> None:
    """Forward what the hub queues for this connection, shaped for its reader."""
    while True:
        message = await subscription.queue.get()
        out = await shape(message)
        if out is not None:
            await websocket.send_text(json.dumps(out))


@router.websocket("/ws/staff")
async def staff_socket(websocket: WebSocket) -> None:
    try:
        actor = await run_in_threadpool(_staff_principal, websocket)
    except Unauthenticated:
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    hub = _hub(websocket)
    subscription = hub.subscribe(_staff_topics(actor))

    async def shape(message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("type") == "message.created" and actor.adviser_id is not None:
            handled_by = message["payload"].get("handled_by")
            if handled_by == actor.adviser_id:
                return await _pushed_message(websocket, message, actor.viewer)
        return message

    pump = asyncio.create_task(_pump(websocket, subscription, shape))
    try:
        while True:
            incoming = json.loads(await websocket.receive_text())
            if not isinstance(incoming, dict) or not isinstance(incoming.get("contact_id"), int):
                continue
            contact_id = incoming["contact_id"]
            if incoming.get("kind") == "message":
                await _write(websocket, incoming, _adviser_writer(websocket, actor, contact_id))
            elif incoming.get("kind") == "typing":
                hub.send(
                    {contact_topic(contact_id)},
                    {"kind": "typing", "from": "adviser", "contact_id": contact_id},
                )
    except (WebSocketDisconnect, json.JSONDecodeError, RuntimeError):
        pass
    finally:
        pump.cancel()
        hub.unsubscribe(subscription)


def _adviser_writer(
    websocket: WebSocket, actor: Principal, contact_id: int
) -> Callable[[str], dict[str, Any]]:
    def store_message(body: str) -> dict[str, Any]:
        with _store(websocket).unit_of_work() as uow:
            row = messages.post_as_adviser(uow, actor, contact_id, body)
            return messages.message_view(row, actor.viewer)

    return store_message


def _customer_shape(websocket: WebSocket) -> Any:
    async def shape(message: dict[str, Any]) -> dict[str, Any] | None:
        if message.get("kind") == "typing":
            return message if message.get("from") == "adviser" else None
        kind = message.get("type")
        if kind == "message.created":
            loaded = await _pushed_message(websocket, message)
            if loaded is not None:
                loaded.pop("adviser_id", None)
            return loaded
        if kind == "contact.wait_estimate":
            return {"kind": "wait", "estimates": message["payload"]["estimates"]}
        if kind in CUSTOMER_EVENTS:
            return {"kind": "status", "status": CUSTOMER_EVENTS[kind]}
        return None

    return shape


@router.websocket("/public/v1/chat/ws")
async def customer_socket(websocket: WebSocket) -> None:
    """The customer's live chat: the state at once (messages after `?after=`), then pushes;
    the customer writes and types over it too."""
    store, hub = _store(websocket), _hub(websocket)
    token = websocket.query_params.get("token", "")
    after = websocket.query_params.get("after", "0")
    subscription = Subscription(set())

    def opened() -> dict[str, Any]:
        def follow(contact_id: int) -> None:
            hub.subscribe_from_thread(subscription, {contact_topic(contact_id)})

        with store.unit_of_work() as uow:
            return chat.socket_opened(uow, token, int(after) if after.isdigit() else 0, follow)

    try:
        state = await run_in_threadpool(opened)
    except Unauthenticated:
        hub.unsubscribe(subscription)
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    await websocket.send_text(json.dumps({"kind": "state", **state}))
    contact_id = state["contact_id"]
    pump = asyncio.create_task(_pump(websocket, subscription, _customer_shape(websocket)))
    try:
        while True:
            await _customer_says(websocket, store, hub, token, contact_id)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        pump.cancel()
        hub.unsubscribe(subscription)
        with contextlib.suppress(Exception):
            await run_in_threadpool(_disconnect, store, token)


def _language(websocket: WebSocket) -> str:
    """Browsers cannot set headers on a socket: `?lang=` first, then Accept-Language."""
    wanted = websocket.query_params.get("lang") or websocket.headers.get("accept-language")
    return pick_language(wanted)


async def _write(
    websocket: WebSocket, incoming: dict[str, Any], work: Callable[[str], Any]
) -> None:
    """A message sent over the socket: `work(body)` stores it (in a thread); the sender gets
    `sent` with the stored message, or `error` naming what is wrong, with the client's `ref`."""
    ref = incoming.get("ref")
    body = incoming.get("body")
    try:
        if not isinstance(body, str):
            raise InvalidValue("body", "must be text")
        stored = await run_in_threadpool(work, body)
    except Exception as error:
        if not isinstance(error, DomainError):
            log.exception("message over a socket failed")
        field, text = error_text(error, _language(websocket))
        out = {"kind": "error", "ref": ref, "field": field, "message": text}
    else:
        out = {"kind": "sent", "ref": ref, "message": stored}
    await websocket.send_text(json.dumps(out))


async def _customer_says(
    websocket: WebSocket, store: Store, hub: Hub, token: str, contact_id: int
) -> None:
    try:
        incoming = json.loads(await websocket.receive_text())
    except json.JSONDecodeError:
        incoming = None
    if not isinstance(incoming, dict):
        await websocket.send_text(
            json.dumps({"kind": "error", "field": "body", "message": "invalid"})
        )
        return
    if incoming.get("kind") == "message":

        def store_message(body: str) -> dict[str, Any]:
            with store.unit_of_work() as uow:
                return chat.public_message(chat.customer_writes(uow, token, body))

        try:
            limit(websocket, "messages")
        except RateLimited as error:
            field, text = error_text(error, _language(websocket))
            out = {"kind": "error", "ref": incoming.get("ref"), "field": field, "message": text}
            await websocket.send_text(json.dumps(out))
            return
        await _write(websocket, incoming, store_message)
    elif incoming.get("kind") == "typing":
        hub.send(
            {contact_topic(contact_id)},
            {"kind": "typing", "from": "customer", "contact_id": contact_id},
        )
        handled_by = await run_in_threadpool(_handler_of, store, contact_id)
        if handled_by is not None:
            hub.send(
                {adviser_topic(handled_by)},
                {"kind": "typing", "from": "customer", "contact_id": contact_id},
            )


def _handler_of(store: Store, contact_id: int) -> int | None:
    with store.unit_of_work() as uow:
        row = uow.session.get(ContactRow, contact_id)
        return row.adviser_id if row else None


def _disconnect(store: Store, token: str) -> None:
    with store.unit_of_work() as uow:
        chat.socket_closed(uow, token)
