"""The idea board over a real database: ideas proposed from contacts, published and answered
by staff; customers submit (screened, redacted) and vote once, with a rate limit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from allo.domain.roles import Role
from allo.services import ideas
from tests.integration.conftest import Tenant
from tests.integration.test_insights import new_contact

A, S, P, V = Role.ADMIN, Role.SUPERVISOR, Role.PLANNER, Role.ADVISER


def test_an_idea_found_in_a_contact_is_proposed_then_published_and_answered(
    client: TestClient, acme: Tenant
) -> None:
    new_contact(client, acme, "Ce serait bien de pouvoir choisir le créneau du technicien en ligne")
    proposed = client.get("/api/v1/ideas?status=proposed", headers=acme.auth(P)).json()
    assert proposed["total"] == 1
    idea = proposed["items"][0]
    assert idea["origin"] == "contact"
    board = client.get("/api/public/ideas/acme").json()
    assert board["ideas"] == []  # staff publish first
    published = client.patch(
        f"/api/v1/ideas/{idea['id']}", headers=acme.auth(S), json={"status": "published"}
    )
    assert published.status_code == 200
    answered = client.patch(
        f"/api/v1/ideas/{idea['id']}",
        headers=acme.auth(S),
        json={"status": "planned", "answer": "Prévu pour juin, merci !"},
    ).json()
    assert answered["status"] == "planned"
    board = client.get("/api/public/ideas/acme").json()
    assert [(i["id"], i["status"], i["answer"]) for i in board["ideas"]] == [
        (idea["id"], "planned", "Prévu pour juin, merci !")
    ]
    assert "contact_id" not in board["ideas"][0]
    illegal = client.patch(
        f"/api/v1/ideas/{idea['id']}", headers=acme.auth(S), json={"status": "proposed"}
    )
    assert illegal.status_code == 409


def test_customers_submit_redacted_screened_ideas_and_vote_once(
    client: TestClient, acme: Tenant
) -> None:
    created = client.post(
        "/api/public/ideas/acme",
        json={"text": "Un mode sombre dans l'appli ! Appelez-moi au 06 12 34 56 78"},
    )
    assert created.status_code == 201, created.text
    idea = created.json()
    assert idea["title"] == "Un mode sombre dans l'appli !"
    assert "[TÉL]" in idea["body"] and "06 12" not in idea["body"]
    first = client.post(f"/api/public/ideas/acme/{idea['id']}/vote")
    assert first.status_code == 200 and first.json()["votes"] == 1
    again = client.post(f"/api/public/ideas/acme/{idea['id']}/vote")
    assert again.status_code == 409
    client.cookies.clear()  # another customer (new voter token)
    other = client.post(f"/api/public/ideas/acme/{idea['id']}/vote")
    assert other.json()["votes"] == 2
    board = client.get("/api/public/ideas/acme").json()
    assert board["voted"] == [idea["id"]]
    # By widget key too, and never across tenants.
    with_key = client.get(f"/api/public/ideas/{_widget_key(client, acme)}").json()
    assert [i["id"] for i in with_key["ideas"]] == [idea["id"]]
    assert client.post(f"/api/public/ideas/globex/{idea['id']}/vote").status_code in {404}


def _widget_key(client: TestClient, tenant: Tenant) -> str:
    from allo.store.tables import TenantRow

    store = client.app.state.store  # type: ignore[attr-defined]
    with store.unit_of_work() as uow:
        key: str = uow.session.get(TenantRow, tenant.id).widget_key
    return key


def test_insults_and_health_data_are_refused_with_a_reason(
    client: TestClient, acme: Tenant, globex: Tenant
) -> None:
    insult = client.post(
        "/api/public/ideas/acme", json={"text": "Vos conseillers sont des abrutis"}
    )
    assert insult.status_code == 422
    assert "insult" in insult.json()["detail"][0]["msg"]
    health = client.post(
        "/api/public/ideas/acme", json={"text": "Je suis diabétique, livrez plus vite"}
    )
    assert health.status_code == 422 and "health" in health.json()["detail"][0]["msg"]
    assert client.get("/api/public/ideas/acme").json()["ideas"] == []


def test_submissions_and_votes_are_rate_limited_per_address(
    client: TestClient, acme: Tenant
) -> None:
    for n in range(ideas.SUBMISSIONS_PER_HOUR):
        ok = client.post("/api/public/ideas/acme", json={"text": f"Idée numéro {n} pour vous"})
        assert ok.status_code == 201
    refused = client.post("/api/public/ideas/acme", json={"text": "Une idée de trop ici"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    target = client.get("/api/public/ideas/acme").json()["ideas"][0]["id"]
    statuses = []
    for _ in range(ideas.VOTES_PER_HOUR + 1):
        client.cookies.clear()  # a script dropping its cookie is still one address
        statuses.append(client.post(f"/api/public/ideas/acme/{target}/vote").status_code)
    assert statuses[:-1] == [200] * ideas.VOTES_PER_HOUR and statuses[-1] == 429


def test_unknown_board_is_404(client: TestClient) -> None:
    assert client.get("/api/public/ideas/nobody").status_code == 404
    assert client.get("/ideas/nobody").status_code == 404
