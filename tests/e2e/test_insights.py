"""The idea board and the voice-of-the-customer page in a real browser against `allo demo`."""

from __future__ import annotations

from typing import Any

import httpx
from tests.e2e.conftest import DOCS, Server

from allo.demo import DEMO_PASSWORD


def test_the_idea_board_accepts_an_idea_and_a_vote_from_a_customer(
    demo_server: Server, browser: Any
) -> None:
    context = browser.new_context(locale="fr-FR")  # a customer: no login, fresh cookies
    page = context.new_page()
    page.goto(f"{demo_server.url}/ideas/demo")
    assert page.title().startswith("Boîte à idées")
    idea = "Un widget météo du réseau sur la page d'accueil, appelez-moi au 06 12 34 56 78"
    page.fill("textarea[name=text]", idea)
    page.click("form.card button[type=submit]")
    assert page.locator("[role=status]").inner_text() == "Merci ! Votre idée est publiée."
    mine = page.locator("li.idea", has_text="Un widget météo du réseau")
    assert "[TÉL]" in mine.inner_text() and "06 12" not in mine.inner_text()
    assert mine.locator(".vote-count").inner_text() == "0"
    mine.locator("button", has_text="Je soutiens").click()
    assert page.locator("[role=status]").inner_text() == "Merci pour votre vote."
    mine = page.locator("li.idea", has_text="Un widget météo du réseau")
    assert mine.locator(".vote-count").inner_text() == "1"
    assert mine.locator(".voted").inner_text() == "Vous soutenez cette idée"
    refused = "Mon fils est handicapé, livrez au rez-de-chaussée svp"
    page.fill("textarea[name=text]", refused)
    page.click("form.card button[type=submit]")
    assert "informations de santé" in page.locator("[role=status]").inner_text()
    assert page.locator("li.idea", has_text="rez-de-chaussée").count() == 0
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "idea-board.png"), full_page=True)
    context.close()


def test_the_voice_of_the_customer_page_shows_the_counts(demo_server: Server, browser: Any) -> None:
    with httpx.Client(base_url=demo_server.url) as client:
        client.post(
            "/api/v1/auth/login",
            json={"email": "superviseur@demo.allo.test", "password": DEMO_PASSWORD},
        )
        totals = client.get("/api/v1/insights/voc").json()["totals"]
    assert sum(totals.values()) > 40 and totals["problem"] > 0
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=email]", "superviseur@demo.allo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo_server.url}/")
    page.click("text=Voix du client")
    page.wait_for_url(f"{demo_server.url}/insights")
    for intent in ("question", "problem", "idea", "praise"):
        shown = page.locator(f"#totals td[data-intent={intent}]").inner_text()
        assert int(shown) == totals.get(intent, 0), intent
    assert page.locator("svg.chart rect").count() > 4
    assert "Par file" in page.content() and "Par site" in page.content()
    assert "Assistance technique" in page.locator("table.counts").first.inner_text()
    assert "fibre" in page.locator(".alerts").inner_text()
    page.screenshot(path=str(DOCS / "voice-of-customer.png"), full_page=True)
    context.close()
