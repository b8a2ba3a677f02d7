"""Planning over the API on SQLite and PostgreSQL: Erlang, plans from the database or an
upload, per-interval views in every clock, site calendars, and bad input naming the field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from allo.demo import seed_history
from allo.domain.roles import Role
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import Tenant

P, V, A = Role.PLANNER, Role.ADVISER, Role.ADMIN


@pytest.fixture
def history(store: Store, acme: Tenant) -> int:
    with store.unit_of_work() as uow:
        return seed_history(
            uow, acme.id, [acme.ids["queue"]], uow.now(), np.random.default_rng(1), weeks=5
        )


def test_erlang_calculator_reproduces_the_worked_example(client: TestClient, acme: Tenant) -> None:
    # DOMAIN.md: 100 calls / 30 min, AHT 180 s, 80 % in 20 s → 14 advisers (SL 88.8 %).
    body = {"volume": 100, "aht": 180, "interval_minutes": 30, "patience": 300}
    answer = client.post("/api/v1/planning/erlang", json=body, headers=acme.auth(P))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["load_erlangs"] == pytest.approx(10.0)
    assert result["erlang_c"]["agents"] == 14
    assert result["erlang_c"]["service_level"] == pytest.approx(0.888, abs=0.001)
    assert result["erlang_a"]["agents"] == 13  # patience of 5 min: one adviser fewer
    assert (
        client.post("/api/v1/planning/erlang", json=body, headers=acme.auth(V)).status_code == 403
    )


def test_erlang_rejects_bad_and_impossible_input(client: TestClient, acme: Tenant) -> None:
    bad = client.post(
        "/api/v1/planning/erlang", json={"volume": -1, "aht": 180}, headers=acme.auth(P)
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "volume"
    impossible = client.post(
        "/api/v1/planning/erlang",
        json={"volume": 1_000_000, "aht": 3600, "interval_minutes": 15},
        headers=acme.auth(P),
    )
    assert impossible.status_code == 422
    assert impossible.json()["detail"][0]["field"].startswith("target")


def _plan_body(acme: Tenant, **extra: Any) -> dict[str, Any]:
    return {
        "queues": [{"name": "Facturation", "patience": 300}],
        "sites": [
            {"site_id": acme.ids["paris"], "queues": ["Facturation"]},
            {"site_id": acme.ids["rabat"], "queues": ["Facturation"]},
        ],
        "policies": [{"queue": "Facturation", "countries": ["FR"], "min_share": 0.3}],
        "days": 2,
        "time_limit": 8,
        **extra,
    }


def test_plan_from_the_database_is_stored_with_an_event(
    client: TestClient, acme: Tenant, history: int, clock: FakeClock
) -> None:
    assert history > 1000
    answer = client.post("/api/v1/plans", json=_plan_body(acme), headers=acme.auth(P))
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert plan["parameters"]["source"] == "db"
    assert plan["schedule"]["cost"] > 0 and plan["schedule"]["gap"] < 0.1
    assert plan["schedule"]["policy_shares"]["Facturation"] >= 0.3 - 1e-6
    assert plan["created_by"] == acme.ids["user_planner"]
    listed = client.get("/api/v1/plans", headers=acme.auth(A)).json()
    assert [p["id"] for p in listed["items"]] == [plan["id"]]
    events = client.get("/api/v1/events?limit=1000", headers=acme.auth(A)).json()["events"]
    assert any(e["type"] == "plan.created" and e["subject_id"] == plan["id"] for e in events)

    table = client.get(f"/api/v1/plans/{plan['id']}/intervals", headers=acme.auth(P)).json()
    rows = table["intervals"]
    assert len(rows) == 2 * 48
    # First interval: local midnight in Paris; in March Rabat is one hour behind (UTC+1,
    # or UTC+0 during Ramadan 2026).
    assert rows[0]["queue_time"].endswith("00:00 CET")
    assert rows[0]["site_time"]["Rabat"][11:16] in {"23:00", "22:00"}
    busy = [r for r in rows if r["required"]["Facturation"] > 0]
    assert busy and all(
        sum(r["scheduled"].values()) >= r["required"]["Facturation"] - 1e-3 for r in busy
    )
    clock.advance(timedelta(days=1).total_seconds())


def test_plan_from_an_uploaded_csv(client: TestClient, acme: Tenant) -> None:
    lines = ["queue,start,volume,aht"]
    for day in range(42):
        when = date(2026, 1, 5) + timedelta(days=day)
        for hour in range(8, 18):
            volume = 10 + 5 * (hour in (10, 11, 14)) + 3 * (when.weekday() == 0)
            lines.append(f"web,{when}T{hour:02d}:00:00+01:00,{volume},200")
    body = {"queues": [{"name": "web"}], "minutes": 60, "days": 1, "history_csv": "\n".join(lines)}
    answer = client.post("/api/v1/plans", json=body, headers=acme.auth(P))
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert plan["parameters"]["source"] == "upload" and plan["schedule"] is None
    read = client.get(f"/api/v1/plans/{plan['id']}", headers=acme.auth(P)).json()
    assert max(read["result"]["queues"]["web"]["required"]) > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"history": [{"queue": "web", "start": "2026-02-02T08:00:00+01:00", "volume": -3}]},
            "history[0].volume",
        ),
        (
            {
                "history": [
                    {"queue": "web", "start": "2026-02-02T08:00:00+01:00", "volume": 3},
                    {"queue": "web", "start": "2026-02-02T08:00:00+01:00", "volume": 4},
                ]
            },
            "history[1].start",
        ),
        (
            {
                "history": [
                    {"queue": "web", "start": "2026-02-02T08:00:00+01:00", "volume": 3},
                    {"queue": "web", "start": "2026-02-02T10:00:00+01:00", "volume": 4},
                ]
            },
            "history[0].start",
        ),
        (
            {"history_csv": "queue,start,volume\nweb,2026-02-02T08:00+01:00,abc"},
            "history_csv.row 2.volume",
        ),
        ({"queue_timezone": "Europe/Pariss"}, "queue_timezone"),
        ({"queues": [{"name": "web", "holidays": "XX"}]}, "queues[0].holidays"),
    ],
)
def test_bad_plan_input_names_the_row_and_field(
    client: TestClient, acme: Tenant, change: dict[str, Any], field: str
) -> None:
    body = {
        "queues": [{"name": "web"}],
        "minutes": 60,
        "history": [{"queue": "web", "start": "2026-02-02T08:00:00+01:00", "volume": 3}],
        **change,
    }
    if "history_csv" in change:
        del body["history"]
    answer = client.post("/api/v1/plans", json=body, headers=acme.auth(P))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == field


def test_a_queue_without_history_is_a_clear_error(client: TestClient, acme: Tenant) -> None:
    answer = client.post(
        "/api/v1/plans", json={"queues": [{"name": "Facturation"}]}, headers=acme.auth(P)
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "queues[0].name"


def test_site_calendar_and_planning_settings(client: TestClient, acme: Tenant) -> None:
    rabat = acme.ids["rabat"]
    settings = {"shrinkage": 0.25, "ramadan_hours": ["09:00", "15:00"], "islamic_shift_days": 1}
    put = client.put(f"/api/v1/sites/{rabat}/planning", json=settings, headers=acme.auth(P))
    assert put.status_code == 200, put.text
    view = client.get(f"/api/v1/sites/{rabat}/calendar?year=2026", headers=acme.auth(P)).json()
    assert view["shrinkage"] == 0.25 and view["ramadan_hours"] == ["09:00", "15:00"]
    assert view["ramadan"][0]["first"] == "2026-02-19"  # Umm al-Qura 18 Feb, shifted +1 day
    assert view["utc_offsets"]["january"] == "UTC+01:00"
    assert view["utc_offsets"]["ramadan_0"] == "UTC+00:00"  # Morocco's Ramadan clock
    assert view["legal_limits"] == {
        "max_day_hours": 10,
        "max_week_hours": 44,
        "max_days_per_week": 6,
    }
    paris = client.get(
        f"/api/v1/sites/{acme.ids['paris']}/calendar?year=2026", headers=acme.auth(P)
    ).json()
    assert "2026-07-14" in {h["date"] for h in paris["holidays"]}
    bad = client.put(
        f"/api/v1/sites/{rabat}/planning",
        json={"friday_prayer": ["14:00", "12:30"]},
        headers=acme.auth(P),
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "friday_prayer"
    assert client.get(f"/api/v1/sites/{rabat}/calendar", headers=acme.auth(V)).status_code == 403
