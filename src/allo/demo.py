"""The demo tenant: a French telecom operator served from Paris, Lille, Rabat, Tunis and Tana."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert

from allo.demo_insights import seed_insights
from allo.domain.roles import Role
from allo.services import accounts, advisers, contacts, customers, email_desk, queues, sites
from allo.services.principal import system_principal
from allo.store.tables import Base, TenantRow
from allo.store.uow import Store, UnitOfWork

DEMO_SLUG = "demo"
DEMO_PASSWORD = "allo-demo-2026"
DEMO_MAILBOX = "support@horizon-telecom.test"

SITES: list[dict[str, Any]] = [
    dict(
        name="Paris",
        country="FR",
        timezone="Europe/Paris",
        languages=["fr", "en"],
        hourly_cost=55.0,
        transfer_basis="eea",
        groups=["france"],
    ),
    dict(
        name="Lille",
        country="FR",
        timezone="Europe/Paris",
        languages=["fr"],
        hourly_cost=28.0,
        transfer_basis="eea",
        groups=["france"],
        planning={"shrinkage": 0.3},
    ),
    dict(
        name="Rabat",
        country="MA",
        timezone="Africa/Casablanca",
        languages=["fr", "ar"],
        hourly_cost=14.5,
        transfer_basis="scc",
        transfer_module=2,
        transfer_assessed_on=date(2026, 1, 15),
        groups=["offshore"],
        planning={
            "shrinkage": 0.32,
            "ramadan_hours": ["09:00", "15:00"],
            "friday_prayer": ["12:30", "14:00"],
        },
    ),
    dict(
        name="Tunis",
        country="TN",
        timezone="Africa/Tunis",
        languages=["fr", "ar"],
        hourly_cost=14.0,
        transfer_basis="scc",
        transfer_module=3,
        transfer_assessed_on=date(2025, 11, 3),
        groups=["offshore"],
    ),
    dict(
        name="Antananarivo",
        country="MG",
        timezone="Indian/Antananarivo",
        languages=["fr", "mg"],
        hourly_cost=9.0,
        transfer_basis="none",
        groups=["offshore"],
    ),
]
HEADCOUNT = {"Paris": 10, "Lille": 10, "Rabat": 8, "Tunis": 7, "Antananarivo": 5}
# Customers may ask for "un conseiller en France"; everyone else helps after 90 s.
FRANCE_FIRST = {"site_choice": "france", "tiers": [{"after": 0, "chosen": True}, {"after": 90}]}
QUEUES: list[dict[str, Any]] = [
    dict(
        name="Facturation", required_skills={"billing": 2}, priority=0, routing_policy=FRANCE_FIRST
    ),
    dict(
        name="Assistance technique",
        required_skills={"tech": 3},
        priority=0,
        routing_policy=FRANCE_FIRST,
    ),
    dict(
        name="Résiliation",
        required_skills={"retention": 3},
        priority=10,
        routing_policy=FRANCE_FIRST,
    ),
    dict(name="Commercial", required_skills={"sales": 2}, priority=-5, routing_policy=FRANCE_FIRST),
]
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Hugo",
    "Louis",
    "Inès",
    "Yasmine",
    "Karim",
    "Sofia",
    "Nour",
    "Mehdi",
    "Amal",
    "Rova",
    "Hery",
    "Chloé",
    "Lucas",
    "Manon",
    "Youssef",
    "Salma",
    "Fara",
    "Thomas",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Moreau",
    "Laurent",
    "Benali",
    "El Idrissi",
    "Trabelsi",
    "Rakoto",
    "Randria",
    "Petit",
    "Roux",
    "Fontaine",
    "Mansouri",
]
SKILLS = ("billing", "tech", "retention", "sales")
ADVISER_LOGINS = {
    "Paris": "conseiller.paris",
    "Rabat": "conseiller.rabat",
    "Antananarivo": "conseiller.tana",
}


def demo_logins() -> list[tuple[str, str]]:
    staff = [("admin", "admin"), ("superviseur", "supervisor"), ("planificateur", "planner")]
    logins = [(f"{name}@demo.allo.test", role) for name, role in staff]
    logins += [(f"{login}@demo.allo.test", "adviser") for login in ADVISER_LOGINS.values()]
    return logins


def _adviser_profile(rng: random.Random, site: dict[str, Any]) -> dict[str, Any]:
    skills = {skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, rng.randint(2, 4))}
    languages = {"fr": rng.choice([4, 5]) if site["country"] == "FR" else rng.choice([3, 4, 5])}
    for extra in site["languages"]:
        languages.setdefault(extra, rng.randint(3, 5))
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return {"name": name, "skills": skills, "languages": languages}


def seed_demo(store: Store, seed: int = 2026) -> TenantRow:
    """Create the demo tenant once; a second call returns the existing one."""
    rng = random.Random(seed)
    with store.unit_of_work() as uow:
        existing = accounts.tenant_by_slug(uow, DEMO_SLUG)
        if existing is not None:
            return existing
        tenant = accounts.create_tenant(uow, DEMO_SLUG, "Horizon Télécom")
    actor = system_principal(tenant.id)
    first_adviser: dict[str, int] = {}
    with store.unit_of_work() as uow:
        for site_data in SITES:
            site = sites.create_site(uow, actor, site_data)
            for index in range(HEADCOUNT[site.name]):
                profile = _adviser_profile(rng, site_data)
                if index == 0 and site.name in ADVISER_LOGINS:
                    # The advisers people log in as can take every demo topic.
                    profile["skills"] = {skill: 4 for skill in SKILLS}
                    profile["languages"]["fr"] = 5
                row = advisers.create_adviser(uow, actor, {"site_id": site.id, **profile})
                first_adviser.setdefault(site.name, row.id)
        queue_ids = [queues.create_queue(uow, actor, q).id for q in QUEUES]
        for email, role in demo_logins()[:3]:
            accounts.create_user(
                uow,
                actor,
                email=email,
                password=DEMO_PASSWORD,
                role=Role(role),
                display_name=email.split("@")[0].title(),
            )
        for site_name, login in ADVISER_LOGINS.items():
            accounts.create_user(
                uow,
                actor,
                email=f"{login}@demo.allo.test",
                password=DEMO_PASSWORD,
                role=Role.ADVISER,
                display_name=login.replace(".", " ").title(),
                adviser_id=first_adviser[site_name],
            )
        _seed_customers(uow, actor, rng, queue_ids)
    with store.unit_of_work() as uow:
        # Mail to this address (with `ALLO_RUN_MAIL=true`) becomes Facturation email contacts.
        email_desk.create_mailbox(
            uow,
            actor,
            {"address": DEMO_MAILBOX, "queue_id": queue_ids[0], "display_name": "Horizon Télécom"},
        )
    seed_insights(store, tenant.id, queue_ids)
    with store.unit_of_work() as uow:
        seed_history(uow, tenant.id, queue_ids, uow.now(), np.random.default_rng(seed))
    return tenant


# Peak contacts per 30 minutes of each demo queue, and the mean handling time in seconds.
HISTORY_PEAK = (14.0, 10.0, 5.0, 7.0)
HISTORY_AHT = (240.0, 420.0, 360.0, 300.0)
WEEKDAY_FACTOR = (1.25, 1.1, 1.0, 1.0, 0.95, 0.55, 0.0)  # Monday … Sunday (closed)


def seed_history(
    uow: UnitOfWork,
    tenant_id: int,
    queue_ids: list[int],
    now: datetime,
    rng: np.random.Generator,
    weeks: int = 5,
) -> int:
    """Closed voice contacts over the last ``weeks`` weeks (Paris 08:00–20:00, Monday peak,
    two humps a day), inserted in one bulk statement; returns how many."""
    paris = ZoneInfo("Europe/Paris")
    today = now.astimezone(paris).date()
    slots = np.arange(24)  # 30-min slots from 08:00
    profile = 0.35 + np.exp(-((slots - 5) ** 2) / 8) + 0.8 * np.exp(-((slots - 14) ** 2) / 10)
    profile /= profile.max()
    rows: list[dict[str, Any]] = []
    for day_offset in range(weeks * 7, 0, -1):
        day = today - timedelta(days=day_offset)
        opening = datetime.combine(day, time(8), tzinfo=paris).astimezone(UTC)
        factor = WEEKDAY_FACTOR[day.weekday()]
        for queue_id, peak, aht in zip(queue_ids, HISTORY_PEAK, HISTORY_AHT, strict=False):
            counts = rng.poisson(peak * factor * profile)
            for slot in np.flatnonzero(counts):
                starts = rng.uniform(0, 1800, counts[slot]) + 1800 * slot
                for offset in starts:
                    created = opening + timedelta(seconds=float(offset))
                    answered = created + timedelta(seconds=float(rng.exponential(25)))
                    ended = answered + timedelta(seconds=float(rng.gamma(4.0, aht / 4)))
                    rows.append(_history_contact(tenant_id, queue_id, created, answered, ended))
    if rows:
        # Core executemany: one statement for every row, no ORM unit-of-work bookkeeping.
        uow.session.connection().execute(insert(Base.metadata.tables["contacts"]), rows)
        uow.commit()
    return len(rows)


def _history_contact(
    tenant_id: int, queue_id: int, created: datetime, answered: datetime, ended: datetime
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "channel": "voice",
        "queue_id": queue_id,
        "language": "fr",
        "status": "closed",
        "priority": 0,
        "site_only": False,
        "answered_at": answered,
        "ended_at": ended,
        "created_at": created,
        "updated_at": ended,
    }


def _seed_customers(uow: Any, actor: Any, rng: random.Random, queue_ids: list[int]) -> None:
    for index in range(20):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        number = (
            f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
            f"{rng.randint(10, 99)}"
        )
        customer_id = customers.create_customer(
            uow,
            actor,
            {
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower().replace(' ', '')}{index}@example.fr",
                "phone": number,
                "address": f"{rng.randint(1, 120)} rue de la République, Lyon",
                "iban": f"FR76 3000 6000 01{rng.randint(10, 99)} 3456 7890 1{rng.randint(10, 99)}",
                "notes": "Client depuis 2019, abonnement fibre.",
            },
        )
        for days_ago in sorted(rng.sample(range(2, 60), 2), reverse=True):
            start = uow.now() - timedelta(days=days_ago, minutes=rng.randint(0, 600))
            wait = timedelta(seconds=rng.randint(5, 240))
            contacts.record_past_contact(
                uow,
                actor,
                {
                    "channel": rng.choice(["voice", "chat", "email"]),
                    "queue_id": rng.choice(queue_ids),
                    "customer_id": customer_id,
                    "wrap_code": rng.choice(
                        ["information", "facture-expliquee", "incident-resolu"]
                    ),
                    "resolved": rng.random() < 0.75,
                    "satisfaction": rng.choice([3, 4, 4, 5, None]),
                },
                created_at=start,
                answered_at=start + wait,
                ended_at=start + wait + timedelta(seconds=rng.randint(120, 600)),
            )
