"""`allo demo` as a real process: /docs, the login page, and a login in a real browser."""

from __future__ import annotations

from typing import Any

import httpx
from tests.e2e.conftest import DOCS, Server

from allo.demo import DEMO_PASSWORD


def test_demo_serves_docs_and_login(demo_server: Server) -> None:
    docs = httpx.get(f"{demo_server.url}/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    login = httpx.get(f"{demo_server.url}/login")
    assert login.status_code == 200
    assert 'name="password"' in login.text


def test_demo_api_with_a_browser_style_session(demo_server: Server) -> None:
    with httpx.Client(base_url=demo_server.url) as client:
        me = client.post(
            "/api/v1/auth/login",
            json={"email": "conseiller.tana@demo.allo.test", "password": DEMO_PASSWORD},
        )
        assert me.status_code == 200
        customers = client.get("/api/v1/customers").json()["items"]
        assert len(customers) >= 20
        assert all(c["last_name"].endswith("***") and c["iban"] is None for c in customers)


def test_login_in_a_real_browser(demo_server: Server, browser: Any) -> None:
    page = browser.new_page(locale="fr-FR")
    page.goto(f"{demo_server.url}/login")
    assert page.title().startswith("Connexion")
    page.fill("input[name=email]", "superviseur@demo.allo.test")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Adresse e-mail ou mot de passe incorrect"
    page.fill("input[name=email]", "superviseur@demo.allo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo_server.url}/")
    assert "Horizon Télécom" in page.content()
    assert "superviseur" in page.content()
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "login-home.png"))
    page.close()
