"""The public chat API, the wall's tuning (audited) and the demo bots, on both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from allo.domain.advisers import AdviserState
from allo.domain.roles import Role
from allo.services import advisers, chat, offers
from allo.services.principal import Principal, system_principal
from allo.services.router import RouterHost
from allo.store.tables import AuditRow, ContactRow, TenantRow
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant


def widget_key(store: Store, tenant: Tenant) -> str:
    with store.unit_of_work() as uow:
        row = uow.session.get(TenantRow, tenant.id)
        assert row is not None
        return row.widget_key


def start(client: TestClient, key: str, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        f"/public/v1/widget/{key}/chats",
        json={"name": "Jean Dupont", "queue_id": tenant.ids["queue"], **extra},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_widget_config_and_a_chat_that_is_resumed(
    client: TestClient, store: Store, acme: Tenant
) -> None:
    key = widget_key(store, acme)
    config = client.get(f"/public/v1/widget/{key}").json()
    assert config["tenant"] == "Acme SA"
    assert config["topics"][0]["name"] == "Facturation"
    assert "Démarrer" in config["texts"]["start"]
    started = start(client, key, acme, message="Bonjour, ma facture est fausse")
    headers = {"X-Chat-Token": started["token"]}
    client.post("/public/v1/chat/messages", json={"body": "Vous êtes là ?"}, headers=headers)
    state = client.get("/public/v1/chat", headers=headers).json()
    assert state["status"] == "queued"
    assert [m["body"] for m in state["messages"]] == [
        "Bonjour, ma facture est fausse",
        "Vous êtes là ?",
    ]
    assert "adviser_id" not in state["messages"][0]
    later = client.get(
        "/public/v1/chat", params={"after": state["messages"][0]["id"]}, headers=headers
    ).json()
    assert len(later["messages"]) == 1


def test_chat_links_to_a_known_customer_by_email(
    client: TestClient, store: Store, acme: Tenant
) -> None:
    started = start(client, widget_key(store, acme), acme, email="JEAN.DUPONT@example.fr")
    with store.unit_of_work() as uow:
        contact = uow.session.get(ContactRow, started["contact_id"])
        assert contact is not None and contact.customer_id == acme.ids["customer"]


def test_bad_chat_input_is_refused_clearly(client: TestClient, store: Store, acme: Tenant) -> None:
    key = widget_key(store, acme)
    wrong = client.get("/public/v1/widget/nope", headers={"Accept-Language": "fr"})
    assert wrong.status_code == 404
    assert "Clé de widget" in wrong.json()["detail"]
    blank = client.post(
        f"/public/v1/widget/{key}/chats", json={"name": "  ", "queue_id": acme.ids["queue"]}
    )
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["field"] == "name"
    headers = {"X-Chat-Token": start(client, key, acme)["token"]}
    empty = client.post("/public/v1/chat/messages", json={"body": " \n "}, headers=headers)
    assert (empty.status_code, empty.json()["detail"][0]["msg"]) == (422, "Le message est vide.")
    huge = client.post("/public/v1/chat/messages", json={"body": "é" * 2100}, headers=headers)
    assert huge.status_code == 422
    assert "4 KB" in huge.json()["detail"][0]["msg"]
    assert client.get("/public/v1/chat", headers={"X-Chat-Token": "x" * 20}).status_code == 401
    early = client.post("/public/v1/chat/rating", json={"score": 5}, headers=headers)
    assert early.status_code == 409
    state = client.get("/public/v1/chat", headers=headers).json()
    assert state["messages"] == []


def test_leaving_while_waiting_abandons_and_a_rating_is_stored_once(
    client: TestClient, store: Store, acme: Tenant, clock: FakeClock
) -> None:
    key = widget_key(store, acme)
    gone = start(client, key, acme)
    client.post("/public/v1/chat/leave", headers={"X-Chat-Token": gone["token"]})
    with store.unit_of_work() as uow:
        assert uow.session.get(ContactRow, gone["contact_id"]).status == "abandoned"  # type: ignore[union-attr]
    # A customer whose page closed comes back within the grace, or is counted as abandoned.
    dropped = start(client, key, acme)
    with store.unit_of_work() as uow:
        chat.socket_closed(uow, dropped["token"])
    clock.advance(10)
    with store.unit_of_work() as uow:
        assert chat.abandon_left_chats(uow) == 0
    clock.advance(25)
    with store.unit_of_work() as uow:
        assert chat.abandon_left_chats(uow) == 1


def test_wall_snapshot_and_audited_tuning(client: TestClient, store: Store, acme: Tenant) -> None:
    start(client, widget_key(store, acme), acme)
    wall = client.get("/api/v1/wall", headers=acme.auth(Role.SUPERVISOR)).json()
    queue = wall["queues"][0]
    assert (queue["name"], queue["waiting"]) == ("Facturation", 1)
    assert {s["name"] for s in wall["sites"]} == {"Paris", "Antananarivo", "Rabat"}
    assert wall["contacts"][0]["status"] == "queued"
    policy = {"tiers": [{"after": 0, "chosen": True}, {"after": 30}], "selection": "best_quality"}
    answer = client.put(
        f"/api/v1/queues/{acme.ids['queue']}/policy",
        json={"routing_policy": policy},
        headers=acme.auth(Role.SUPERVISOR),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["routing_policy"]["tiers"][1]["after"] == 30
    bad = client.put(
        f"/api/v1/queues/{acme.ids['queue']}/policy",
        json={"routing_policy": {"tiers": [{"after": 10}]}},
        headers=acme.auth(Role.SUPERVISOR),
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "routing_policy.tiers"
    skills = client.put(
        f"/api/v1/advisers/{acme.ids['tana_adviser']}/skills",
        json={"skills": {"billing": 5, "tech": 2}},
        headers=acme.auth(Role.SUPERVISOR),
    )
    assert skills.json()["skills"] == {"billing": 5, "tech": 2}
    with store.unit_of_work() as uow:
        trail = uow.session.scalars(
            select(AuditRow).where(AuditRow.action.like("config.%")).order_by(AuditRow.id)
        ).all()
        assert [(a.action, a.user_id) for a in trail] == [
            ("config.queue_policy", acme.ids["user_supervisor"]),
            ("config.adviser_skills", acme.ids["user_supervisor"]),
        ]
        assert trail[1].fields["before"] == {"billing": 3}


def test_a_policy_change_from_the_wall_reaches_the_router_at_once(
    client: TestClient, store: Store, acme: Tenant, clock: FakeClock
) -> None:
    host = RouterHost(store, claim_interval=0)
    try:
        host.step()
        with store.unit_of_work() as uow:
            advisers.set_adviser_state(
                uow, system_principal(acme.id), acme.ids["tana_adviser"], AdviserState.READY
            )
        waiting = start(client, widget_key(store, acme), acme, site_group="france")
        host.step()
        clock.advance(40)
        host.step()
        with store.unit_of_work() as uow:
            assert uow.session.get(ContactRow, waiting["contact_id"]).status == "queued"  # type: ignore[union-attr]
        client.put(
            f"/api/v1/queues/{acme.ids['queue']}/policy",
            headers=acme.auth(Role.ADMIN),
            json={"routing_policy": {"tiers": [{"after": 0, "chosen": True}, {"after": 30}]}},
        )
        host.step()
        clock.advance(1)
        host.step()
        with store.unit_of_work() as uow:
            assert uow.session.get(ContactRow, waiting["contact_id"]).status == "offered"  # type: ignore[union-attr]
    finally:
        host.leadership.release_all()


def test_chat_starts_are_rate_limited_per_address(
    settings: Any, store: Store, acme: Tenant
) -> None:
    from allo.api.app import create_app

    tight = settings.model_copy(update={"chat_starts_per_minute": 2})
    with TestClient(create_app(tight, store), base_url="https://testserver") as client:
        key = widget_key(store, acme)
        codes = [
            client.post(
                f"/public/v1/widget/{key}/chats",
                json={"name": "Spam", "queue_id": acme.ids["queue"]},
            ).status_code
            for _ in range(8)
        ]
    assert codes[:5] == [201] * 5
    assert codes[-1] == 429


def test_a_status_committed_while_the_socket_opens_is_in_its_state(
    client: TestClient, store: Store, acme: Tenant, clock: FakeClock
) -> None:
    """The socket follows the chat, then reads its state: an offer accepted in between (after
    the chat was found, before the socket followed it) is pushed to nobody, so the state
    must carry it."""
    client.put(
        f"/api/v1/queues/{acme.ids['queue']}/policy",
        headers=acme.auth(Role.ADMIN),
        json={"routing_policy": {"tiers": [{"after": 0}]}},  # every site at once
    )
    started = start(client, widget_key(store, acme), acme)
    host = RouterHost(store, claim_interval=0)
    try:
        with store.unit_of_work() as uow:
            advisers.set_adviser_state(
                uow, system_principal(acme.id), acme.ids["tana_adviser"], AdviserState.READY
            )
        host.step()
        clock.advance(1)
        host.step()
    finally:
        host.leadership.release_all()
    with store.unit_of_work() as uow:
        contact = uow.session.get(ContactRow, started["contact_id"])
        assert contact is not None and contact.status == "offered"
        adviser = Principal(
            user_id=None, tenant_id=acme.id, role=Role.ADVISER, adviser_id=contact.adviser_id
        )

    def accept_meanwhile(contact_id: int) -> None:
        with store.unit_of_work() as other:
            offers.accept_offer(other, adviser, contact_id)

    with store.unit_of_work() as uow:
        state = chat.socket_opened(uow, started["token"], 0, accept_meanwhile)
    assert state["status"] == "in_progress"
