"""Every API endpoint, walked as each role and as a user of another tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from allo.domain.roles import Role
from allo.store.uow import Store
from tests.integration.conftest import Tenant

A, S, P, V = Role.ADMIN, Role.SUPERVISOR, Role.PLANNER, Role.ADVISER
ALL = frozenset(Role)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {placeholders} filled from the tenant's ids
    allowed: frozenset[Role]
    body: dict[str, Any] | None = None
    tenant_scoped_id: bool = True  # the path names one object of the tenant


SITE = {
    "name": "Lyon",
    "country": "FR",
    "timezone": "Europe/Paris",
    "languages": ["fr"],
    "hourly_cost": 30.0,
}
ENDPOINTS = [
    Endpoint("GET", "/api/v1/sites", ALL, tenant_scoped_id=False),
    Endpoint("POST", "/api/v1/sites", frozenset({A}), SITE, tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/sites/{paris}", ALL),
    Endpoint("PATCH", "/api/v1/sites/{paris}", frozenset({A}), {"hourly_cost": 56.0}),
    Endpoint("GET", "/api/v1/advisers", ALL, tenant_scoped_id=False),
    Endpoint(
        "POST",
        "/api/v1/advisers",
        frozenset({A}),
        {"site_id": "{paris}", "name": "Nouveau", "languages": {"fr": 5}},
        tenant_scoped_id=True,
    ),
    Endpoint("GET", "/api/v1/advisers/{paris_adviser}", ALL),
    Endpoint(
        "PATCH", "/api/v1/advisers/{paris_adviser}", frozenset({A}), {"skills": {"billing": 5}}
    ),
    Endpoint(
        "PUT", "/api/v1/advisers/{paris_adviser}/state", frozenset({A, S, V}), {"state": "ready"}
    ),
    Endpoint("GET", "/api/v1/queues", ALL, tenant_scoped_id=False),
    Endpoint(
        "POST", "/api/v1/queues", frozenset({A}), {"name": "Nouvelle"}, tenant_scoped_id=False
    ),
    Endpoint("GET", "/api/v1/queues/{queue}", ALL),
    Endpoint("PATCH", "/api/v1/queues/{queue}", frozenset({A}), {"priority": 5}),
    Endpoint("GET", "/api/v1/customers", frozenset({A, S, V}), tenant_scoped_id=False),
    Endpoint(
        "POST",
        "/api/v1/customers",
        frozenset({A, S, V}),
        {"first_name": "Ana", "last_name": "Roux"},
        tenant_scoped_id=False,
    ),
    Endpoint("GET", "/api/v1/customers/{customer}", frozenset({A, S, V})),
    Endpoint(
        "PATCH", "/api/v1/customers/{customer}", frozenset({A, S, V}), {"notes": "rappeler lundi"}
    ),
    Endpoint("GET", "/api/v1/contacts", ALL, tenant_scoped_id=False),
    Endpoint(
        "POST",
        "/api/v1/contacts",
        frozenset({A, S, V}),
        {"channel": "email", "queue_id": "{queue}"},
        tenant_scoped_id=True,
    ),
    Endpoint("GET", "/api/v1/contacts/{contact}", ALL),
    Endpoint("GET", "/api/v1/events", frozenset({A, S, P}), tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/audit", frozenset({A}), tenant_scoped_id=False),
    Endpoint(
        "POST",
        "/api/v1/users",
        frozenset({A}),
        {"email": "new-{n}@example.test", "password": "long-enough-1", "role": "planner"},
        tenant_scoped_id=False,
    ),
    Endpoint(
        "POST",
        "/api/v1/tokens",
        frozenset({A}),
        {"user_id": "{user_planner}", "name": "robot"},
        tenant_scoped_id=True,
    ),
    Endpoint("GET", "/api/v1/queues/{queue}/status", ALL),
    Endpoint("POST", "/api/v1/contacts/{contact}/callback", frozenset({A, S, V}), {}),
    Endpoint("POST", "/api/v1/contacts/{contact}/accept", frozenset({V})),
    Endpoint("POST", "/api/v1/contacts/{contact}/decline", frozenset({V})),
    # An adviser may wrap up and close only their own contacts (this one is nobody's).
    Endpoint("POST", "/api/v1/contacts/{contact}/wrap-up", frozenset({A, S})),
    Endpoint("POST", "/api/v1/contacts/{contact}/close", frozenset({A, S}), {}),
    Endpoint("POST", "/api/v1/contacts/{contact}/abandon", frozenset({A, S, V})),
    Endpoint("GET", "/api/v1/desk", frozenset({V}), tenant_scoped_id=False),
    # Everyone lists conversations; the text is masked by site, absent for planners, audited.
    Endpoint("GET", "/api/v1/contacts/{contact}/messages", ALL),
    Endpoint("POST", "/api/v1/contacts/{contact}/messages", frozenset(), {"body": "Bonjour"}),
    Endpoint("GET", "/api/v1/customers/{customer}/contacts", frozenset({A, S, V})),
    Endpoint("GET", "/api/v1/wall", frozenset({A, S}), tenant_scoped_id=False),
    Endpoint(
        "PUT",
        "/api/v1/advisers/{paris_adviser}/skills",
        frozenset({A, S}),
        {"skills": {"billing": 3}},
    ),
    Endpoint(
        "PUT",
        "/api/v1/queues/{queue}/policy",
        frozenset({A, S}),
        {"routing_policy": {"tiers": [{"after": 0, "chosen": True}, {"after": 60}]}},
    ),
    # Email: the fixture's contact is a chat, so readers get 409 (allowed), others 403.
    Endpoint("GET", "/api/v1/contacts/{contact}/email", frozenset({A, S})),
    # Only the adviser handling the contact replies (this one is nobody's).
    Endpoint("POST", "/api/v1/contacts/{contact}/email/reply", frozenset(), {"body": "Bonjour"}),
    Endpoint("GET", "/api/v1/contacts/{contact}/email/attachments/{attachment}", frozenset({A, S})),
    Endpoint("GET", "/api/v1/email/service-level", ALL, tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/email/mailboxes", ALL, tenant_scoped_id=False),
    Endpoint(
        "POST",
        "/api/v1/email/mailboxes",
        frozenset({A}),
        {"address": "box-{n}@acme.test", "queue_id": "{queue}"},
        tenant_scoped_id=True,
    ),
    Endpoint("PATCH", "/api/v1/email/mailboxes/{mailbox}", frozenset({A}), {"acknowledge": False}),
    Endpoint(
        "POST",
        "/api/v1/planning/erlang",
        frozenset({A, S, P}),
        {"volume": 100, "aht": 180},
        tenant_scoped_id=False,
    ),
    # A queue without history: allowed roles get a 422 naming the queue, not a refusal.
    Endpoint(
        "POST",
        "/api/v1/plans",
        frozenset({A, S, P}),
        {"queues": [{"name": "Facturation"}]},
        tenant_scoped_id=False,
    ),
    Endpoint("GET", "/api/v1/plans", frozenset({A, S, P}), tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/plans/{plan}", frozenset({A, S, P})),
    Endpoint("GET", "/api/v1/plans/{plan}/intervals", frozenset({A, S, P})),
    Endpoint("GET", "/api/v1/sites/{paris}/calendar", frozenset({A, S, P})),
    Endpoint("PUT", "/api/v1/sites/{paris}/planning", frozenset({A, S, P}), {"shrinkage": 0.2}),
    Endpoint("GET", "/api/v1/auth/me", ALL, tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/contacts/{contact}/insight", ALL),
    Endpoint("GET", "/api/v1/insights/contacts", frozenset({A, S, P}), tenant_scoped_id=False),
    Endpoint("POST", "/api/v1/insights/analyse", frozenset({A, S}), {}, tenant_scoped_id=False),
    Endpoint(
        "POST",
        "/api/v1/insights/topics/refresh",
        frozenset({A, S}),
        {"k": 1},
        tenant_scoped_id=False,
    ),
    Endpoint("GET", "/api/v1/insights/topics", frozenset({A, S, P}), tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/insights/voc", frozenset({A, S, P}), tenant_scoped_id=False),
    Endpoint("GET", "/api/v1/ideas", frozenset({A, S, P}), tenant_scoped_id=False),
    Endpoint("PATCH", "/api/v1/ideas/{idea}", frozenset({A, S}), {"title": "Un mode sombre"}),
    # Voice: the fixture's contact is a chat nobody handles: 409 for those allowed to act.
    Endpoint("POST", "/api/v1/contacts/{contact}/voice", frozenset({A, S, V}), {"sdp": "v=0"}),
    Endpoint("POST", "/api/v1/contacts/{contact}/voice/listen", frozenset({A, S}), {"sdp": "v=0"}),
    Endpoint("POST", "/api/v1/contacts/{contact}/voice/hold", frozenset({A, S, V}), {"on": True}),
    Endpoint(
        "POST",
        "/api/v1/contacts/{contact}/voice/recording-pause",
        frozenset({A, S, V}),
        {"on": True},
    ),
    Endpoint("POST", "/api/v1/contacts/{contact}/voice/hangup", frozenset({A, S, V})),
    # Transfers: an adviser may transfer only their own contacts (this one is nobody's).
    Endpoint(
        "POST", "/api/v1/contacts/{contact}/transfer", frozenset({A, S}), {"queue_id": "{queue}"}
    ),
    Endpoint(
        "POST",
        "/api/v1/contacts/{contact}/voice/consult",
        frozenset({A, S, V}),
        {"adviser_id": "{tana_adviser}"},
    ),
    # Only an adviser can be the consulted colleague.
    Endpoint(
        "POST", "/api/v1/contacts/{contact}/voice/consult/join", frozenset({V}), {"sdp": "v=0"}
    ),
    Endpoint("POST", "/api/v1/contacts/{contact}/voice/consult/complete", frozenset({A, S, V})),
    Endpoint("POST", "/api/v1/contacts/{contact}/voice/consult/cancel", frozenset({A, S, V})),
    Endpoint("GET", "/api/v1/contacts/{contact}/recordings", frozenset({A, S})),
    Endpoint("GET", "/api/v1/recordings/{recording}/audio", frozenset({A, S})),
    Endpoint("GET", "/api/v1/recordings", frozenset({A, S}), tenant_scoped_id=False),
    Endpoint("POST", "/api/v1/auth/logout", ALL, tenant_scoped_id=False),
]
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    # The idea board is public by design (tested in test_ideas.py).
    ("GET", "/api/public/ideas/{key}"),
    ("POST", "/api/public/ideas/{key}"),
    ("POST", "/api/public/ideas/{key}/{idea_id}/vote"),
}


def fill(value: Any, ids: dict[str, int], n: int) -> Any:
    if isinstance(value, str):
        filled = value.format(n=n, **ids)
        return int(filled) if filled.isdigit() and value.startswith("{") else filled
    if isinstance(value, dict):
        return {k: fill(v, ids, n) for k, v in value.items()}
    return value


def call(client: TestClient, endpoint: Endpoint, ids: dict[str, int], token: str, n: int) -> int:
    path = endpoint.path.format(**ids)
    body = fill(endpoint.body, ids, n) if endpoint.body is not None else None
    answer = client.request(
        endpoint.method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    return answer.status_code


@pytest.fixture
def ids_with_contact(client: TestClient, acme: Tenant, store: Store) -> dict[str, int]:
    contact = client.post(
        "/api/v1/contacts",
        headers=acme.auth(A),
        json={"channel": "chat", "queue_id": acme.ids["queue"], "subject": "facture fausse"},
    ).json()
    mailbox = client.post(
        "/api/v1/email/mailboxes",
        headers=acme.auth(A),
        json={"address": "support@acme.test", "queue_id": acme.ids["queue"]},
    ).json()
    idea = client.post("/api/public/ideas/acme", json={"text": "Un mode sombre dans l'appli"})
    return {
        **acme.ids,
        "contact": contact["id"],
        "mailbox": mailbox["id"],
        "attachment": 1,
        "idea": idea.json()["id"],
        "plan": _stored_plan(client, acme),
        "recording": _recording(store, acme, contact["id"]),
    }


def _recording(store: Store, acme: Tenant, contact_id: int) -> int:
    """A recording row whose file is gone: playback answers 409 to those allowed."""
    from datetime import timedelta

    from allo.store.tables import RecordingRow

    with store.unit_of_work() as uow:
        row = RecordingRow(
            tenant_id=acme.id,
            contact_id=contact_id,
            path="/nonexistent/recording.wav",
            duration_seconds=1.0,
            paused_spans=[],
            created_at=uow.now(),
            expires_at=uow.now() + timedelta(days=183),
        )
        uow.session.add(row)
        uow.commit()
        return row.id


def _stored_plan(client: TestClient, acme: Tenant) -> int:
    """A small plan from an uploaded history, so that plan reads have an object to read."""
    csv = ["queue,start,volume"] + [
        f"web,{day}T{hour:02d}:00:00+01:00,{10 + hour % 3}"
        for day in _days(42)
        for hour in range(8, 18)
    ]
    body = {"queues": [{"name": "web"}], "minutes": 60, "days": 1, "history_csv": "\n".join(csv)}
    answer = client.post("/api/v1/plans", json=body, headers=acme.auth(A))
    assert answer.status_code == 201, answer.text
    plan_id: int = answer.json()["id"]
    return plan_id


def _days(count: int) -> list[str]:
    from datetime import date, timedelta

    return [(date(2026, 1, 5) + timedelta(days=d)).isoformat() for d in range(count)]


def test_the_table_covers_every_api_route(client: TestClient) -> None:
    # FastAPI ≥ 0.120 nests included routers, so walk the OpenAPI paths, not app.routes.
    schema = client.app.openapi()  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/")
        for method in operations
    }
    routes |= {
        (method, route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
        for method in route.methods
    }
    covered = {(e.method, _template(e.path)) for e in ENDPOINTS} | PUBLIC
    assert routes - covered == set(), "add the new endpoints to ENDPOINTS"


def _template(path: str) -> str:
    names = {
        "{paris}": "{site_id}",
        "{paris_adviser}": "{adviser_id}",
        "{queue}": "{queue_id}",
        "{customer}": "{customer_id}",
        "{contact}": "{contact_id}",
        "{attachment}": "{attachment_id}",
        "{mailbox}": "{mailbox_id}",
        "{idea}": "{idea_id}",
        "{plan}": "{plan_id}",
        "{recording}": "{recording_id}",
        "/consult/complete": "/consult/{outcome}",
        "/consult/cancel": "/consult/{outcome}",
    }
    for filled, template in names.items():
        path = path.replace(filled, template)
    return path


def test_each_role_gets_exactly_its_endpoints(
    client: TestClient, acme: Tenant, ids_with_contact: dict[str, int]
) -> None:
    failures = []
    for n, endpoint in enumerate(ENDPOINTS):
        for role in Role:
            status = call(client, endpoint, ids_with_contact, acme.tokens[role], n * 10 + 1)
            # Allowed: anything but an authorization refusal (a 409 for a contact in the
            # wrong state is still allowed); refused: exactly 403.
            refused = status in (401, 403, 404)
            if (role in endpoint.allowed) == refused or (refused and status != 403):
                failures.append((endpoint.method, endpoint.path, role.value, status))
    assert failures == []


def test_another_tenant_sees_404_for_every_object_of_this_one(
    client: TestClient, acme: Tenant, globex: Tenant, ids_with_contact: dict[str, int]
) -> None:
    failures = []
    for n, endpoint in enumerate(ENDPOINTS):
        if not endpoint.tenant_scoped_id:
            continue
        # Globex's admin may do everything, except reach Acme's objects.
        status = call(client, endpoint, ids_with_contact, globex.tokens[A], n * 10 + 2)
        if status != 404:
            failures.append((endpoint.method, endpoint.path, status))
    assert failures == []


def test_listings_never_show_another_tenant(
    client: TestClient, acme: Tenant, globex: Tenant
) -> None:
    for path in ("/api/v1/sites", "/api/v1/advisers", "/api/v1/customers", "/api/v1/queues"):
        mine = client.get(path, headers=globex.auth(A)).json()["items"]
        theirs = client.get(path, headers=acme.auth(A)).json()["items"]
        assert {i["id"] for i in mine}.isdisjoint({i["id"] for i in theirs}), path
    events = client.get("/api/v1/events?limit=1000", headers=globex.auth(A)).json()["events"]
    acme_customer = acme.ids["customer"]
    assert all(
        not (e["subject_type"] == "customer" and e["subject_id"] == acme_customer) for e in events
    )
