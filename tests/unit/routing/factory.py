"""In-memory sites, queues and advisers for the routing tests."""

from __future__ import annotations

from allo.domain.advisers import Adviser
from allo.domain.channels import DEFAULT_CAPACITY, Channel
from allo.domain.queues import WEEKDAYS, OpeningHours, Queue
from allo.domain.sites import Site, TransferBasis
from allo.routing import (
    AdviserReady,
    Decision,
    OfferContact,
    RoutingEngine,
    RoutingPolicy,
    SiteOption,
    StartCallback,
)

PARIS, LILLE, RABAT, TUNIS = 1, 2, 3, 4
FRANCE = SiteOption("france")
FRANCE_ONLY = SiteOption("france", only=True)
ALWAYS_OPEN = OpeningHours(weekly={day: [["00:00", "24:00"]] for day in WEEKDAYS})


def site(site_id: int, name: str, country: str, groups: tuple[str, ...]) -> Site:
    offshore = country not in {"FR"}
    return Site(
        id=site_id,
        tenant_id=1,
        name=name,
        country=country,
        timezone="Europe/Paris" if not offshore else "Africa/Casablanca",
        languages=("fr",),
        hourly_cost=14.0 if offshore else 28.0,
        transfer_basis=TransferBasis.SCC if offshore else TransferBasis.EEA,
        groups=groups,
    )


SITES = (
    site(PARIS, "Paris", "FR", ("france",)),
    site(LILLE, "Lille", "FR", ("france",)),
    site(RABAT, "Rabat", "MA", ("maghreb",)),
    site(TUNIS, "Tunis", "TN", ("maghreb",)),
)


def queue(
    queue_id: int = 1,
    skills: dict[str, int] | None = None,
    language: str = "fr",
    level: int = 3,
    priority: int = 0,
    hours: OpeningHours = ALWAYS_OPEN,
) -> Queue:
    return Queue(
        id=queue_id,
        tenant_id=1,
        name=f"queue {queue_id}",
        required_skills={"billing": 2} if skills is None else skills,
        language=language,
        min_language_level=level,
        priority=priority,
        opening_hours=hours,
    )


def adviser(
    adviser_id: int,
    site_id: int = PARIS,
    skills: dict[str, int] | None = None,
    languages: dict[str, int] | None = None,
    capacity: dict[Channel, int] | None = None,
) -> Adviser:
    return Adviser(
        id=adviser_id,
        tenant_id=1,
        site_id=site_id,
        name=f"adviser {adviser_id}",
        skills={"billing": 3} if skills is None else skills,
        languages={"fr": 5} if languages is None else languages,
        capacity=capacity or dict(DEFAULT_CAPACITY),
    )


def engine(
    advisers: list[Adviser],
    policy: RoutingPolicy | None = None,
    queues: list[Queue] | None = None,
) -> RoutingEngine:
    queues = queues or [queue()]
    return RoutingEngine(
        sites=SITES,
        queues=[(q, policy or RoutingPolicy()) for q in queues],
        advisers=advisers,
    )


def ready(e: RoutingEngine, *ids: int, now: float = 0.0) -> None:
    for adviser_id in ids:
        e.handle(AdviserReady(adviser_id), now)


def offers(decisions: list[Decision]) -> list[tuple[int, int]]:
    """(contact, adviser) of every offer or callback started."""
    return [
        (d.contact_id, d.adviser_id)
        for d in decisions
        if isinstance(d, OfferContact | StartCallback)
    ]
