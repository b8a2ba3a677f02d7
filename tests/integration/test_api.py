"""The REST API on SQLite and PostgreSQL: CRUD, paging, errors that name the field."""

import time

from fastapi.testclient import TestClient

from allo.api.deps import SESSION_COOKIE
from allo.domain.roles import Role
from allo.services import accounts
from allo.services.bus import EventBus
from allo.store.database import make_engine
from allo.store.uow import Store
from tests.conftest import FakeClock
from tests.integration.conftest import PASSWORD, Tenant

ADMIN = Role.ADMIN
RABAT = {
    "name": "Casablanca",
    "country": "MA",
    "timezone": "Africa/Casablanca",
    "languages": ["fr", "ar"],
    "hourly_cost": 14.5,
    "transfer_basis": "scc",
    "transfer_module": 2,
    "transfer_assessed_on": "2026-01-10",
    "groups": ["offshore"],
}


def test_site_create_read_update_list(client: TestClient, acme: Tenant) -> None:
    created = client.post("/api/v1/sites", json=RABAT, headers=acme.auth(ADMIN))
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["transfer_assessed_on"] == "2026-01-10"
    read = client.get(f"/api/v1/sites/{site['id']}", headers=acme.auth(Role.ADVISER))
    assert read.json()["name"] == "Casablanca"
    patched = client.patch(
        f"/api/v1/sites/{site['id']}", json={"hourly_cost": 15.0}, headers=acme.auth(ADMIN)
    )
    assert patched.status_code == 200
    assert patched.json()["hourly_cost"] == 15.0
    listing = client.get("/api/v1/sites?limit=2", headers=acme.auth(Role.PLANNER)).json()
    assert listing["total"] == 4
    assert len(listing["items"]) == 2


def test_adviser_queue_customer_contact_round_trip(client: TestClient, acme: Tenant) -> None:
    auth = acme.auth(ADMIN)
    adviser = client.post(
        "/api/v1/advisers",
        headers=auth,
        json={
            "site_id": acme.ids["rabat"],
            "name": "Amal Benali",
            "skills": {"billing": 3},
            "languages": {"fr": 5, "ar": 5},
            "capacity": {"voice": 1, "chat": 2},
        },
    ).json()
    assert adviser["state"] == "logged_out"
    assert adviser["capacity"] == {"voice": 1, "chat": 2}
    queue = client.post(
        "/api/v1/queues",
        headers=auth,
        json={
            "name": "Résiliation",
            "required_skills": {"retention": 3},
            "priority": 10,
            "opening_hours": {"timezone": "Europe/Paris", "weekly": {"mon": [["09:00", "18:00"]]}},
        },
    )
    assert queue.status_code == 201, queue.text
    customer = client.post(
        "/api/v1/customers",
        headers=auth,
        json={"first_name": "Inès", "last_name": "Moreau", "phone": "+33 7 11 22 33 44"},
    ).json()
    contact = client.post(
        "/api/v1/contacts",
        headers=acme.auth(Role.ADVISER),
        json={"channel": "chat", "queue_id": queue.json()["id"], "customer_id": customer["id"]},
    )
    assert contact.status_code == 201, contact.text
    body = contact.json()
    assert (body["status"], body["priority"], body["language"]) == ("queued", 10, "fr")
    listed = client.get("/api/v1/contacts?status=queued", headers=auth).json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]
    assert client.get(f"/api/v1/contacts/{body['id']}", headers=auth).status_code == 200


def test_state_changes_follow_the_adviser_lifecycle(client: TestClient, acme: Tenant) -> None:
    url = f"/api/v1/advisers/{acme.ids['paris_adviser']}/state"
    ready = client.put(url, json={"state": "ready"}, headers=acme.auth(Role.ADVISER))
    assert ready.json()["state"] == "ready"
    other = f"/api/v1/advisers/{acme.ids['tana_adviser']}/state"
    assert (
        client.put(other, json={"state": "ready"}, headers=acme.auth(Role.ADVISER)).status_code
        == 403
    )
    client.put(url, json={"state": "logged_out"}, headers=acme.auth(Role.SUPERVISOR))
    refused = client.put(url, json={"state": "wrap_up"}, headers=acme.auth(Role.SUPERVISOR))
    assert refused.status_code == 409
    assert "logged_out" in refused.json()["detail"]


def test_event_feed_pages_from_a_cursor(client: TestClient, acme: Tenant) -> None:
    auth = acme.auth(Role.SUPERVISOR)
    first = client.get("/api/v1/events?limit=5", headers=auth).json()
    assert len(first["events"]) == 5
    second = client.get(f"/api/v1/events?after={first['next_cursor']}&limit=5", headers=auth).json()
    ids = [e["id"] for e in first["events"] + second["events"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 10
    client.post("/api/v1/sites", json=RABAT, headers=acme.auth(ADMIN))
    everything = client.get("/api/v1/events?limit=1000", headers=auth).json()["events"]
    assert everything[-1]["type"] == "site.created"
    assert everything[-1]["payload"] == {"name": "Casablanca"}


def test_customer_events_carry_field_names_not_values(client: TestClient, acme: Tenant) -> None:
    events = client.get("/api/v1/events?limit=1000", headers=acme.auth(ADMIN)).json()["events"]
    created = next(e for e in events if e["type"] == "customer.created")
    assert "Dupont" not in str(created)
    assert "last_name" in created["payload"]["fields"]


def test_invalid_input_gets_422_naming_the_field(client: TestClient, acme: Tenant) -> None:
    auth = acme.auth(ADMIN)
    cases = [
        ("/api/v1/sites", {**RABAT, "name": "X", "country": "ZZ"}, "country"),
        ("/api/v1/sites", {**RABAT, "name": "X", "timezone": "Mars/Base"}, "timezone"),
        ("/api/v1/sites", {**RABAT, "name": "X", "hourly_cost": -3}, "hourly_cost"),
        ("/api/v1/sites", {**RABAT, "name": "X", "colour": "red"}, "colour"),
        (
            "/api/v1/advisers",
            {
                "site_id": acme.ids["paris"],
                "name": "A",
                "skills": {"billing": 9},
                "languages": {"fr": 5},
            },
            "skills.billing",
        ),
        ("/api/v1/queues", {"name": "Q", "language": "french"}, "language"),
        ("/api/v1/contacts", {"channel": "pigeon", "queue_id": acme.ids["queue"]}, "channel"),
    ]
    for url, body, field in cases:
        answer = client.post(url, json=body, headers=auth)
        assert answer.status_code == 422, (url, body, answer.text)
        assert field in [d["field"] for d in answer.json()["detail"]], answer.text
    null_name = client.patch(
        f"/api/v1/sites/{acme.ids['paris']}", json={"name": None}, headers=auth
    )
    assert null_name.status_code == 422
    assert client.get(f"/api/v1/sites/{acme.ids['paris']}", headers=auth).json()["name"] == (
        "Paris"
    )


def test_errors_are_french_by_default_and_english_on_request(
    client: TestClient, acme: Tenant
) -> None:
    auth = acme.auth(ADMIN)
    french = client.get("/api/v1/sites/9999", headers=auth)
    assert french.status_code == 404
    assert "introuvable" in french.json()["detail"]
    english = client.get("/api/v1/sites/9999", headers={**auth, "Accept-Language": "en"})
    assert "not found" in english.json()["detail"]


def test_duplicate_name_is_a_conflict_and_keeps_the_original(
    client: TestClient, acme: Tenant
) -> None:
    auth = acme.auth(ADMIN)
    clash = client.post(
        "/api/v1/sites",
        json={**RABAT, "name": "Paris", "country": "FR", "transfer_basis": "eea"},
        headers=auth,
    )
    assert clash.status_code == 409
    assert clash.json()["field"] == "name"
    names = [s["name"] for s in client.get("/api/v1/sites", headers=auth).json()["items"]]
    assert names.count("Paris") == 1


def test_browser_login_sets_a_secure_session_and_requires_csrf(
    client: TestClient, acme: Tenant
) -> None:
    wrong = client.post("/api/v1/auth/login", json={"email": "admin@acme.test", "password": "nope"})
    assert wrong.status_code == 401
    login = client.post(
        "/api/v1/auth/login", json={"email": "admin@acme.test", "password": PASSWORD}
    )
    assert login.status_code == 200
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    csrf = login.json()["csrf_token"]
    assert client.get("/api/v1/auth/me").json()["user"]["role"] == "admin"
    without = client.patch(f"/api/v1/sites/{acme.ids['paris']}", json={"hourly_cost": 60})
    assert without.status_code == 403
    with_token = client.patch(
        f"/api/v1/sites/{acme.ids['paris']}",
        json={"hourly_cost": 60},
        headers={"X-CSRF-Token": csrf},
    )
    assert with_token.status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_login_page_and_form(client: TestClient, acme: Tenant) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "Connexion" in page.text
    token = page.text.split('name="form_token" value="')[1].split('"')[0]
    forged = client.post(
        "/login",
        data={"email": "admin@acme.test", "password": PASSWORD, "form_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    done = client.post(
        "/login",
        data={"email": "admin@acme.test", "password": PASSWORD, "form_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    home = client.get("/")
    assert "Acme SA" in home.text


def _log_in(client: TestClient, email: str) -> None:
    token = client.get("/login").text.split('name="form_token" value="')[1].split('"')[0]
    data = {"email": email, "password": PASSWORD, "form_token": token}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def _nav_links(page: str) -> set[str]:
    nav = page.split("<nav", 1)[1].split("</nav>", 1)[0]
    return {part.split('"', 1)[0] for part in nav.split('href="')[1:]}


def test_every_staff_page_links_the_pages_of_its_role(client: TestClient, acme: Tenant) -> None:
    _log_in(client, "supervisor@acme.test")
    for path in ("/", "/wall", "/insights", "/planner"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _nav_links(page.text) == {"/wall", "/insights", "/planner"}, path
        assert 'action="/logout"' in page.text
    assert 'href="/wall" aria-current="page"' in client.get("/wall").text
    client.cookies.clear()
    _log_in(client, "adviser@acme.test")
    assert _nav_links(client.get("/desk").text) == {"/desk"}
    assert "<nav" not in client.get("/login").text  # nobody signed in: no menu


def test_unknown_or_revoked_token_is_401(client: TestClient, acme: Tenant) -> None:
    answer = client.get("/api/v1/sites", headers={"Authorization": "Bearer allo_nope"})
    assert answer.status_code == 401
    assert client.get("/api/v1/sites").status_code == 401


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/v1/customers/{customer_id}" in spec["paths"]


def test_a_logout_in_another_process_ends_the_cached_session(
    client: TestClient, acme: Tenant, db_url: str, clock: FakeClock
) -> None:
    login = client.post(
        "/api/v1/auth/login", json={"email": "admin@acme.test", "password": PASSWORD}
    )
    cookie = client.cookies.get(SESSION_COOKIE)
    assert login.status_code == 200 and cookie
    assert client.get("/api/v1/sites").status_code == 200  # now cached for a minute
    # Another process (its own engine and bus): only the event table tells the server.
    engine = make_engine(db_url)
    with Store(engine, EventBus(), clock).unit_of_work() as uow:
        accounts.close_session(uow, cookie)
    engine.dispose()
    deadline = time.monotonic() + 3
    while client.get("/api/v1/sites").status_code == 200:
        assert time.monotonic() < deadline, "the server still takes the closed session"
        time.sleep(0.1)
    assert client.get("/api/v1/sites").status_code == 401
