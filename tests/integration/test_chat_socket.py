"""Chat over the WebSockets, on both databases: the state a customer's socket opens with,
messages written over the sockets (customer and adviser), and their clear errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from allo.domain.roles import Role
from allo.services import offers
from allo.store.tables import MessageRow
from allo.store.uow import Store
from tests.integration.conftest import Tenant
from tests.integration.test_chat import start, widget_key


def take(client: TestClient, store: Store, tenant: Tenant, contact_id: int) -> None:
    """The router's offer to the Paris adviser, then their accept through the API."""
    with store.unit_of_work() as uow:
        expires = uow.now() + timedelta(seconds=60)
        offers.offer_contact(uow, tenant.id, contact_id, tenant.ids["paris_adviser"], expires)
    answer = client.post(f"/api/v1/contacts/{contact_id}/accept", headers=tenant.auth(Role.ADVISER))
    assert answer.status_code == 200, answer.text


def next_of(socket: Any, kind: str) -> dict[str, Any]:
    """The next frame of this kind (pushes of other kinds may come first)."""
    for _ in range(50):
        frame: dict[str, Any] = socket.receive_json()
        if frame.get("kind") == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def stored_bodies(store: Store, contact_id: int) -> list[str]:
    with store.unit_of_work() as uow:
        rows = (
            uow.session.query(MessageRow).filter_by(contact_id=contact_id).order_by(MessageRow.id)
        )
        return [row.body for row in rows]


def test_the_customer_socket_opens_with_the_state_and_takes_messages(
    client: TestClient, store: Store, acme: Tenant
) -> None:
    started = start(client, widget_key(store, acme), acme, message="Bonjour")
    token = started["token"]
    with client.websocket_connect(f"/public/v1/chat/ws?token={token}") as socket:
        state = socket.receive_json()
        assert state["kind"] == "state" and state["status"] == "queued"
        assert [m["body"] for m in state["messages"]] == ["Bonjour"]
        first_id = state["messages"][0]["id"]
        socket.send_json({"kind": "message", "body": "  Vous êtes là ?  ", "ref": 7})
        # The sender hears its answer and, like every follower of the chat, the push.
        frames = {frame["kind"]: frame for frame in (socket.receive_json(), socket.receive_json())}
        assert frames["sent"]["ref"] == 7 and frames["sent"]["message"]["body"] == "Vous êtes là ?"
        assert "adviser_id" not in frames["sent"]["message"]
        assert frames["message"]["id"] == frames["sent"]["message"]["id"]
        # Written elsewhere (REST), it is pushed to the socket.
        client.post(
            "/public/v1/chat/messages", json={"body": "Allô ?"}, headers={"X-Chat-Token": token}
        )
        assert next_of(socket, "message")["body"] == "Allô ?"
    # Reopened after the first message: only what came since.
    with client.websocket_connect(f"/public/v1/chat/ws?token={token}&after={first_id}") as again:
        assert [m["body"] for m in again.receive_json()["messages"]] == ["Vous êtes là ?", "Allô ?"]
    assert stored_bodies(store, started["contact_id"]) == ["Bonjour", "Vous êtes là ?", "Allô ?"]


def test_bad_messages_over_the_customer_socket_get_a_clear_error_and_store_nothing(
    client: TestClient, store: Store, acme: Tenant
) -> None:
    started = start(client, widget_key(store, acme), acme)
    with client.websocket_connect(f"/public/v1/chat/ws?token={started['token']}") as socket:
        socket.receive_json()
        for ref, body in ((1, " \n "), (2, "é" * 2100), (3, 42)):
            socket.send_json({"kind": "message", "body": body, "ref": ref})
            error = next_of(socket, "error")
            assert (error["ref"], error["field"]) == (ref, "body")
            if ref == 1:
                assert error["message"] == "Le message est vide."
            if ref == 2:
                assert "4 KB" in error["message"]
        socket.send_text("not json")
        assert next_of(socket, "error")["field"] == "body"
    with client.websocket_connect(
        f"/public/v1/chat/ws?token={started['token']}&lang=en"
    ) as english:
        english.receive_json()
        english.send_json({"kind": "message", "body": "", "ref": "x"})
        assert next_of(english, "error")["message"] == "The message is empty."
    assert stored_bodies(store, started["contact_id"]) == []


def test_a_wrong_chat_token_is_refused_at_the_socket(client: TestClient) -> None:
    with (
        pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)),
        client.websocket_connect("/public/v1/chat/ws?token=" + "x" * 20) as socket,
    ):
        socket.receive_json()


def test_messages_over_the_socket_are_rate_limited_per_address(
    settings: Any, store: Store, acme: Tenant
) -> None:
    from allo.api.app import create_app

    tight = settings.model_copy(update={"chat_messages_per_minute": 2})
    with TestClient(create_app(tight, store), base_url="https://testserver") as client:
        started = start(client, widget_key(store, acme), acme)
        with client.websocket_connect(f"/public/v1/chat/ws?token={started['token']}") as socket:
            socket.receive_json()
            answers = []
            for ref in range(8):
                socket.send_json({"kind": "message", "body": f"m{ref}", "ref": ref})
                answers.append(next_of_any(socket, ("sent", "error")))
    assert [a["kind"] for a in answers[:5]] == ["sent"] * 5
    assert answers[-1]["kind"] == "error" and "Trop de requêtes" in answers[-1]["message"]
    assert len(stored_bodies(store, started["contact_id"])) < 8


def next_of_any(socket: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
    for _ in range(50):
        frame: dict[str, Any] = socket.receive_json()
        if frame.get("kind") in kinds:
            return frame
    raise AssertionError(f"none of {kinds}")


def test_the_adviser_writes_over_the_staff_socket_and_the_customer_hears_it(
    client: TestClient, store: Store, acme: Tenant
) -> None:
    started = start(client, widget_key(store, acme), acme)
    take(client, store, acme, started["contact_id"])
    adviser_token = acme.tokens[Role.ADVISER]
    with (
        client.websocket_connect(f"/public/v1/chat/ws?token={started['token']}") as customer,
        client.websocket_connect(f"/ws/staff?token={adviser_token}") as staff,
    ):
        assert customer.receive_json()["status"] == "in_progress"
        staff.send_json(
            {"kind": "message", "contact_id": started["contact_id"], "body": "Bonjour !", "ref": 1}
        )
        sent = next_of(staff, "sent")
        assert sent["ref"] == 1 and sent["message"]["body"] == "Bonjour !"
        assert sent["message"]["author"] == "adviser"
        heard = next_of(customer, "message")
        assert (heard["author"], heard["body"]) == ("adviser", "Bonjour !")
        assert "adviser_id" not in heard
        # Not theirs: refused, with the same words as the API.
        other = start(client, widget_key(store, acme), acme)
        staff.send_json(
            {"kind": "message", "contact_id": other["contact_id"], "body": "Intrus", "ref": 2}
        )
        refused = next_of(staff, "error")
        assert refused["ref"] == 2 and refused["message"]
        staff.send_json({"kind": "message", "contact_id": started["contact_id"], "body": " "})
        assert next_of(staff, "error")["field"] == "body"
    assert stored_bodies(store, started["contact_id"]) == ["Bonjour !"]
    assert stored_bodies(store, other["contact_id"]) == []
