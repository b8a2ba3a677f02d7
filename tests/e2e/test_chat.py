"""A customer chat from the widget reaches a logged-in adviser, live, with the wall watching."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DOCS, Server

from allo.demo import DEMO_PASSWORD

HOSTILE = 'Bonjour <b>gras</b><img src=x onerror="window.pwned=1">'


def login(browser: Any, server: Server, email: str, path: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}{path}")
    page.wait_for_selector("[data-ready=true]")
    return page


@pytest.fixture
def adviser(browser: Any, demo_server: Server) -> Iterator[Any]:
    """The Antananarivo adviser: their site has no transfer basis."""
    page = login(browser, demo_server, "conseiller.tana@demo.allo.test", "/desk")
    page.select_option("#state", "ready")
    page.wait_for_timeout(300)
    yield page
    page.select_option("#state", "logged_out")
    page.wait_for_timeout(300)
    page.context.close()


@contextmanager
def admin_api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        client.post(
            "/api/v1/auth/login", json={"email": "admin@demo.allo.test", "password": DEMO_PASSWORD}
        )
        yield client


def start_chat(browser: Any, server: Server, name: str) -> Any:
    shop = browser.new_context(viewport={"width": 1200, "height": 800}, locale="fr-FR").new_page()
    shop.goto(f"{server.url}/demo/shop")
    shop.click("#allo-launcher")
    shop.fill("#allo-name", name)
    shop.select_option("#allo-topic", label="Facturation")
    assert "Un conseiller en France" in shop.inner_text("#allo-choices")
    shop.check("#allo-site-any")
    shop.click("#allo-start button[type=submit]")
    shop.wait_for_selector("#allo-messages", state="attached")
    return shop


def test_the_widget_panel_opens_and_closes(browser: Any, demo_server: Server) -> None:
    shop = browser.new_context(viewport={"width": 1200, "height": 800}, locale="fr-FR").new_page()
    shop.goto(f"{demo_server.url}/demo/shop")
    shop.wait_for_selector("#allo-launcher")
    assert not shop.is_visible("#allo-panel")
    shop.click("#allo-launcher")
    shop.wait_for_selector("#allo-panel", state="visible")
    shop.click("#allo-panel header button")
    shop.wait_for_selector("#allo-panel", state="hidden")
    shop.context.close()


def test_chat_end_to_end(browser: Any, demo_server: Server, adviser: Any) -> None:
    wall = login(browser, demo_server, "superviseur@demo.allo.test", "/wall")
    pushes_before = int(wall.inner_text("#wall-pushes"))
    shop = start_chat(browser, demo_server, "Jean Dupont")

    # The desk rings; the adviser accepts; the customer card is masked for this site.
    adviser.wait_for_selector("#offer:not([hidden])", timeout=10_000)
    assert not adviser.is_visible("#consult")  # no colleague is consulting
    adviser.click("#offer-accept")
    adviser.wait_for_selector(".pane dd[data-field=last_name]")
    adviser.wait_for_selector("#offer", state="hidden")  # as seen, not just the attribute
    assert adviser.inner_text(".pane dd[data-field=first_name]") == "J***"
    assert adviser.inner_text(".pane dd[data-field=last_name]") == "D***"
    assert adviser.is_visible(".masked-note")

    # The wall hears it pushed, without polling, and lists the live contact.
    wall.wait_for_function(
        f"Number(document.querySelector('#wall-pushes').textContent) > {pushes_before}"
    )
    wall.wait_for_function(
        "document.querySelector('#contacts tbody').innerText.includes('En cours')", timeout=5_000
    )

    # Messages both ways; HTML is shown as text.
    shop.fill("#allo-input", HOSTILE)
    shop.click("#allo-send")
    adviser.wait_for_selector(".msg.customer")
    assert adviser.inner_text(".msg.customer") == HOSTILE
    assert adviser.evaluate("document.querySelectorAll('.messages b, .messages img').length") == 0
    adviser.fill(".compose textarea", "Bonjour Jean, je regarde votre facture.")
    adviser.click(".compose button[type=submit]")
    shop.wait_for_selector("#allo-messages li.adviser")
    assert "je regarde votre facture" in shop.inner_text("#allo-messages li.adviser")
    assert shop.evaluate("window.pwned === undefined")

    # Typing indicator, from the customer to the adviser.
    shop.wait_for_timeout(1100)  # the widget tells "typing" at most once a second
    shop.type("#allo-input", "Merci", delay=50)
    adviser.wait_for_selector(".typing:not([hidden])", timeout=5_000)

    # Bad input: empty and oversized messages get a clear message, nothing is sent.
    shop.fill("#allo-input", "   ")
    shop.click("#allo-send")
    shop.wait_for_function("document.querySelector('#allo-error').textContent.length > 0")
    assert "vide" in shop.inner_text("#allo-error")
    shop.fill("#allo-input", "x" * 5000)
    shop.click("#allo-send")
    shop.wait_for_function("document.querySelector('#allo-error').textContent.includes('4 KB')")
    assert adviser.locator(".msg.customer").count() == 1

    # Enter sends, Shift+Enter starts a new line, on both sides.
    shop.fill("#allo-input", "Deux lignes")
    shop.press("#allo-input", "Shift+Enter")
    shop.type("#allo-input", "et la suite")
    shop.press("#allo-input", "Enter")
    adviser.wait_for_selector(".msg.customer >> nth=1")
    assert adviser.locator(".msg.customer").nth(1).inner_text() == "Deux lignes\net la suite"
    assert shop.input_value("#allo-input") == ""
    adviser.fill(".compose textarea", "Je vous écoute.")
    adviser.press(".compose textarea", "Enter")
    shop.wait_for_selector("#allo-messages li.adviser >> nth=1")
    assert not shop.is_visible("#allo-typing")  # the line came: no longer "typing…"

    DOCS.mkdir(exist_ok=True)
    adviser.screenshot(path=str(DOCS / "desk.png"))
    wall.screenshot(path=str(DOCS / "wall.png"))
    shop.screenshot(path=str(DOCS / "widget.png"))

    # The adviser closes; the customer rates; the rating is stored for the contact.
    adviser.select_option(".wrap select[name=wrap_code]", "facture-expliquee")
    adviser.click(".wrap button[type=submit]")
    shop.wait_for_selector("#allo-rating")
    shop.fill("#allo-comment", "Rapide et clair")
    shop.click("#allo-rating button[data-score='5']")
    shop.wait_for_selector("#allo-thanks")
    with admin_api(demo_server) as api:
        events = api.get("/api/v1/events", params={"limit": 1000}).json()["events"]
        rated = [e for e in events if e["type"] == "contact.rated"]
        assert [e["payload"]["score"] for e in rated] == [5]
        contact = api.get(f"/api/v1/contacts/{rated[0]['subject_id']}").json()
        assert (contact["status"], contact["wrap_code"]) == ("closed", "facture-expliquee")
    wall.context.close()
    shop.context.close()


def test_reload_resumes_and_leaving_abandons(browser: Any, demo_server: Server) -> None:
    """Nobody is ready: the chat waits; a reload resumes it; leaving abandons it."""
    shop = start_chat(browser, demo_server, "Inès Moreau")
    shop.fill("#allo-input", "Toujours là ?")
    shop.click("#allo-send")
    shop.wait_for_selector("#allo-messages li.customer")
    shop.reload()
    shop.wait_for_selector("#allo-messages li.customer")
    assert shop.inner_text("#allo-messages li.customer") == "Toujours là ?"
    shop.click("#allo-leave")
    shop.wait_for_function(
        "document.querySelector('#allo-status').textContent.includes('terminée')"
    )
    shop.context.close()


def test_wrong_widget_key_gets_a_clear_error(browser: Any, demo_server: Server) -> None:
    answer = httpx.get(
        f"{demo_server.url}/public/v1/widget/not-a-key", headers={"Accept-Language": "fr"}
    )
    assert answer.status_code == 404
    assert "Clé de widget" in answer.json()["detail"]
    page = browser.new_page(locale="fr-FR")
    page.goto(f"{demo_server.url}/login")
    page.evaluate(
        """url => { const s = document.createElement('script');
        s.src = url + '/widget.js'; s.dataset.key = 'not-a-key'; document.body.append(s); }""",
        demo_server.url,
    )
    page.click("#allo-launcher")
    page.wait_for_selector(".allo-error")
    assert "Clé de widget" in page.inner_text(".allo-error")
    page.close()


def test_the_wall_edits_a_queues_site_tiers(browser: Any, demo_server: Server) -> None:
    wall = login(browser, demo_server, "superviseur@demo.allo.test", "/wall")
    with admin_api(demo_server) as api:
        queues = api.get("/api/v1/queues").json()["items"]
        queue = next(q for q in queues if q["name"] == "Commercial")
        before = queue["routing_policy"]
    row = wall.locator("#queues tr", has_text="Commercial")
    row.locator("button", has_text="Modifier").click()
    editor = row.locator(".policy-editor")
    assert editor.locator(".tier").count() == len(before["tiers"])
    editor.locator("button", has_text="Ajouter un palier").click()
    added = editor.locator(".tier").last
    added.locator("[name=after]").fill("240")
    added.locator("[name=groups]").fill("offshore")
    # A first tier that does not start at once is refused with the server's words; the
    # editor stays open with what was typed.
    editor.locator(".tier").first.locator("[name=after]").fill("10")
    editor.locator("button", has_text="Enregistrer").click()
    wall.wait_for_function(
        "document.querySelector('.policy-editor [role=alert]').textContent.length > 0"
    )
    editor.locator(".tier").first.locator("[name=after]").fill("0")
    editor.locator("button", has_text="Enregistrer").click()
    row.locator(".policy-summary", has_text="240 s : offshore").wait_for()
    with admin_api(demo_server) as api:
        saved = api.get(f"/api/v1/queues/{queue['id']}").json()["routing_policy"]
        assert saved["tiers"][-1] == {"after": 240, "chosen": False, "groups": ["offshore"]}
        trail = api.get("/api/v1/audit", params={"subject_id": queue["id"]}).json()["entries"]
        assert any(e["action"] == "config.queue_policy" for e in trail)
        restored = api.put(
            f"/api/v1/queues/{queue['id']}/policy",
            json={"routing_policy": before},
            headers={"X-CSRF-Token": api.cookies.get("allo_csrf") or ""},
        )
        assert restored.status_code == 200, restored.text
    wall.context.close()


def france_choice(shop: Any, url: str, wanted: bool) -> str:
    """The widget's France option, once it is (or is not) offered: the router refreshes the
    queues' estimates every second, so the page is opened again until it shows."""
    for _ in range(10):
        shop.goto(f"{url}/demo/shop")
        shop.click("#allo-launcher")
        shop.select_option("#allo-topic", label="Facturation")
        if shop.is_enabled("#allo-site-france") == wanted:
            break
        shop.wait_for_timeout(500)
    assert shop.is_enabled("#allo-site-france") == wanted
    return str(shop.inner_text("#allo-choices"))


def test_the_france_option_is_offered_only_when_someone_in_france_can_answer(
    browser: Any, demo_server: Server
) -> None:
    shop = browser.new_context(locale="fr-FR").new_page()
    with admin_api(demo_server) as api:
        csrf = {"X-CSRF-Token": api.cookies.get("allo_csrf") or ""}
        sites = {s["id"]: s for s in api.get("/api/v1/sites").json()["items"]}
        everyone = api.get("/api/v1/advisers", params={"limit": 200}).json()["items"]
        french = [a for a in everyone if "france" in sites[a["site_id"]]["groups"]]

        def set_french(state: str) -> None:
            for a in french:
                url = f"/api/v1/advisers/{a['id']}/state"
                answer = api.put(url, json={"state": state}, headers=csrf)
                assert answer.status_code == 200, answer.text

        set_french("logged_out")
        assert "aucun disponible" in france_choice(shop, demo_server.url, wanted=False)
        set_french("not_ready")  # logged in, on a break: they will answer in time
        try:
            assert "attente estimée" in france_choice(shop, demo_server.url, wanted=True)
        finally:
            set_french("logged_out")
    shop.context.close()
