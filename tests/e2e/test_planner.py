"""The planner page in a real browser: log in as the demo planner, run the Erlang calculator."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import DOCS, Server

from allo.demo import DEMO_PASSWORD


def test_planner_runs_the_erlang_calculator(demo_server: Server, browser: Any) -> None:
    page = browser.new_page(locale="fr-FR", viewport={"width": 1280, "height": 1100})
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=email]", "planificateur@demo.allo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo_server.url}/")
    page.goto(f"{demo_server.url}/planner")
    assert page.title().startswith("Planification")
    # A plan from the demo's seeded history, across the five sites.
    page.click("#plan-run button[type=submit]")
    page.locator("#plan").wait_for(timeout=90_000)
    assert page.locator("#plan svg.chart").count() == 3  # forecast, coverage, cost per site
    assert "Heure locale Rabat" in page.locator("#plan table.intervals").inner_text()
    # DOMAIN.md worked example: 100 calls in 30 min, AHT 180 s, 80 % in 20 s → 14 advisers.
    page.fill("input[name=volume]", "100")
    page.fill("input[name=aht]", "180")
    page.fill("input[name=interval_minutes]", "30")
    page.fill("input[name=patience]", "300")
    page.click("#erlang button[type=submit]")
    result = page.locator("#erlang-result")
    result.wait_for()
    assert "14 conseillers nécessaires" in result.inner_text()
    assert "88,8 %" in result.inner_text() or "88.8 %" in result.inner_text()
    assert page.locator("#erlang-result svg.chart polyline").count() == 2
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "planner.png"), full_page=True)
    page.close()
