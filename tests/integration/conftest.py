"""A store and an HTTP client over a real database, and a small two-tenant world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allo.api.app import create_app
from allo.domain.roles import Role
from allo.services import accounts, advisers, customers, queues, sites
from allo.services.bus import EventBus
from allo.services.principal import system_principal
from allo.settings import Settings
from allo.store.database import make_engine
from allo.store.uow import Store
from tests.conftest import FakeClock

PASSWORD = "correct-horse-battery"


@pytest.fixture
def store(db_url: str, clock: FakeClock) -> Iterator[Store]:
    engine = make_engine(db_url)
    yield Store(engine, EventBus(), clock)
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, cookie_secure=True, run_router=False)


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store), base_url="https://testserver") as test_client:
        yield test_client


@dataclass
class Tenant:
    id: int
    slug: str
    tokens: dict[Role, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    extra_tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_tenant(store: Store, slug: str) -> Tenant:
    """A tenant with a Paris site (EEA), an Antananarivo site (no transfer basis), a queue,
    an adviser on each site, a customer, and a user with an API token for each role."""
    with store.unit_of_work() as uow:
        row = accounts.create_tenant(uow, slug, f"{slug.title()} SA")
    tenant = Tenant(id=row.id, slug=slug)
    actor = system_principal(row.id)
    with store.unit_of_work() as uow:
        paris = sites.create_site(
            uow,
            actor,
            dict(
                name="Paris",
                country="FR",
                timezone="Europe/Paris",
                languages=["fr"],
                hourly_cost=55.0,
                groups=["france"],
            ),
        )
        tana = sites.create_site(
            uow,
            actor,
            dict(
                name="Antananarivo",
                country="MG",
                timezone="Indian/Antananarivo",
                languages=["fr", "mg"],
                hourly_cost=9.0,
                transfer_basis="none",
            ),
        )
        rabat = sites.create_site(
            uow,
            actor,
            dict(
                name="Rabat",
                country="MA",
                timezone="Africa/Casablanca",
                languages=["fr", "ar"],
                hourly_cost=14.5,
                transfer_basis="scc",
                transfer_module=2,
                transfer_assessed_on=date(2026, 1, 15),
            ),
        )
        queue = queues.create_queue(
            uow, actor, {"name": "Facturation", "required_skills": {"billing": 2}}
        )
        paris_adviser = advisers.create_adviser(
            uow,
            actor,
            {
                "site_id": paris.id,
                "name": "Léa Martin",
                "skills": {"billing": 4},
                "languages": {"fr": 5},
            },
        )
        tana_adviser = advisers.create_adviser(
            uow,
            actor,
            {
                "site_id": tana.id,
                "name": "Hery Rakoto",
                "skills": {"billing": 3},
                "languages": {"fr": 4, "mg": 5},
            },
        )
        customer_id = customers.create_customer(
            uow,
            actor,
            {
                "first_name": "Jean",
                "last_name": "Dupont",
                "email": "jean.dupont@example.fr",
                "phone": "+33 6 12 34 56 12",
                "iban": "FR76 3000 6000 0112 3456 7890 189",
                "notes": "Client fidèle",
            },
        )
    tenant.ids = {
        "paris": paris.id,
        "tana": tana.id,
        "rabat": rabat.id,
        "queue": queue.id,
        "paris_adviser": paris_adviser.id,
        "tana_adviser": tana_adviser.id,
        "customer": customer_id,
    }
    _add_users(store, tenant)
    return tenant


def _add_users(store: Store, tenant: Tenant) -> None:
    actor = system_principal(tenant.id)
    links: dict[Role, dict[str, Any]] = {
        Role.ADMIN: {},
        Role.SUPERVISOR: {"site_id": tenant.ids["paris"]},
        Role.PLANNER: {},
        Role.ADVISER: {"adviser_id": tenant.ids["paris_adviser"]},
    }
    with store.unit_of_work() as uow:
        for role, link in links.items():
            user = accounts.create_user(
                uow,
                actor,
                email=f"{role.value}@{tenant.slug}.test",
                password=PASSWORD,
                role=role,
                display_name=role.value,
                **link,
            )
            tenant.tokens[role] = accounts.create_token(uow, actor, user.id, "tests")
            tenant.ids[f"user_{role.value}"] = user.id
        tana_user = accounts.create_user(
            uow,
            actor,
            email=f"tana@{tenant.slug}.test",
            password=PASSWORD,
            role=Role.ADVISER,
            display_name="Hery",
            adviser_id=tenant.ids["tana_adviser"],
        )
        tenant.ids["user_tana"] = tana_user.id
        tenant.extra_tokens["tana"] = accounts.create_token(uow, actor, tana_user.id, "tests")


@pytest.fixture
def acme(store: Store) -> Tenant:
    return build_tenant(store, "acme")


@pytest.fixture
def globex(store: Store) -> Tenant:
    return build_tenant(store, "globex")
