"""The public idea board page and the voice-of-the-customer page, through plain HTTP forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from allo.domain.roles import Role
from tests.integration.conftest import PASSWORD, Tenant
from tests.integration.test_insights import new_contact, say, settle

A, S, P, V = Role.ADMIN, Role.SUPERVISOR, Role.PLANNER, Role.ADVISER


def form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_a_customer_submits_and_votes_through_the_board_forms(
    client: TestClient, acme: Tenant
) -> None:
    client.follow_redirects = False
    page = client.get("/ideas/acme")
    assert page.status_code == 200 and "allo_voter" in page.cookies
    token = form_token(page.text)
    forged = client.post("/ideas/acme", data={"text": "Une idée forgée ici", "form_token": "x"})
    assert forged.status_code == 303 and "bad_form" in forged.headers["location"]
    sent = client.post(
        "/ideas/acme", data={"text": "Un chat ouvert le dimanche matin", "form_token": token}
    )
    assert sent.headers["location"] == "/ideas/acme?notice=submitted#board"
    board = client.get("/ideas/acme").text
    assert "Un chat ouvert le dimanche matin" in board
    idea_id = re.search(r'data-idea="(\d+)"', board).group(1)  # type: ignore[union-attr]
    voted = client.post(f"/ideas/acme/{idea_id}/vote", data={"form_token": token})
    assert "notice=voted" in voted.headers["location"]
    again = client.post(f"/ideas/acme/{idea_id}/vote", data={"form_token": token})
    assert "notice=already" in again.headers["location"]
    page = client.get("/ideas/acme?notice=voted").text
    assert "Merci pour votre vote." in page and 'class="vote-count">1<' in page
    refused = client.post(
        "/ideas/acme", data={"text": "Bande de crétins, réparez la box", "form_token": token}
    )
    assert "notice=insult" in refused.headers["location"]


def login(client: TestClient, tenant: Tenant, role: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login",
        data={"email": f"{role}@{tenant.slug}.test", "password": PASSWORD, "form_token": token},
    )
    assert answer.status_code == 303


def test_the_voc_page_shows_counts_and_staff_answer_ideas(client: TestClient, acme: Tenant) -> None:
    client.follow_redirects = False
    assert client.get("/insights").headers.get("location") == "/login"
    new_contact(client, acme, "Ce serait bien de pouvoir payer par virement instantané")
    new_contact(client, acme, "Ma box ne marche plus depuis hier, inadmissible !!!")
    login(client, acme, "supervisor")
    page = client.get("/insights")
    assert page.status_code == 200
    assert re.search(r'data-intent="problem">1<', page.text)
    assert re.search(r'data-intent="idea">1<', page.text)
    assert "<svg" in page.text and "Facturation" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    idea_id = client.get("/api/v1/ideas", headers=acme.auth(S)).json()["items"][0]["id"]
    bad = client.post(f"/insights/ideas/{idea_id}", data={"csrf_token": "x", "status": "planned"})
    assert bad.status_code == 403
    done = client.post(
        f"/insights/ideas/{idea_id}",
        data={"csrf_token": csrf, "status": "planned", "answer": "Prévu en juin"},
    )
    assert done.status_code == 303
    board = client.get("/api/public/ideas/acme").json()["ideas"]
    assert [(i["status"], i["answer"]) for i in board] == [("planned", "Prévu en juin")]


def test_an_adviser_cannot_open_the_voc_page(client: TestClient, acme: Tenant) -> None:
    client.follow_redirects = False
    login(client, acme, "adviser")
    assert client.get("/insights").status_code == 403


def test_insights_count_by_the_site_of_the_adviser_who_took_the_contact(
    client: TestClient, acme: Tenant
) -> None:
    from allo.domain.contacts import ContactStatus
    from allo.services import contacts
    from allo.services.principal import system_principal

    store = client.app.state.store  # type: ignore[attr-defined]
    early = new_contact(client, acme, "Pourquoi ma facture a doublé ?")  # analysed unassigned
    late = new_contact(client, acme)
    with store.unit_of_work() as uow:
        actor = system_principal(acme.id)
        for contact in (early, late):
            contacts.move_contact(
                uow, actor, contact, ContactStatus.OFFERED, acme.ids["tana_adviser"]
            )
    settle(client)
    say(client, acme, late, "merci pour votre aide, tout marche")
    voc = client.get("/api/v1/insights/voc", headers=acme.auth(P)).json()
    assert [(row["name"], row["total"]) for row in voc["by_site"]] == [("Antananarivo", 2)]
