"""Small programmatic scenarios for the twin's tests."""

from __future__ import annotations

from datetime import date

from allo.domain.queues import Queue
from allo.domain.sites import Site, TransferBasis
from allo.routing import RoutingPolicy, SiteTier
from allo.simulation.model import (
    Demand,
    Distribution,
    Law,
    Outage,
    QualityModel,
    QueueModel,
    Scenario,
    Shift,
    SiteModel,
    Team,
)

NO_REPEAT = QualityModel(repeat_probability=0.0)
PARIS = Site(1, 1, "Paris", "FR", "Europe/Paris", ("fr",), 28.0, groups=("france",))
RABAT = Site(
    2, 1, "Rabat", "MA", "Africa/Casablanca", ("fr",), 14.5, transfer_basis=TransferBasis.SCC,
    groups=("offshore",),
)  # fmt: skip


def single_queue(
    advisers: int,
    calls_per_half_hour: float,
    hours: int,
    aht: float = 180.0,
    patience: float | None = None,
) -> Scenario:
    """M/M/N (or M/M/N+M with `patience`) on one queue and one site, routed by the engine."""
    queue = Queue(1, 1, "billing", {"billing": 1})
    team = Team({"billing": 3}, {"fr": 5}, (Shift(0.0, (hours + 2) * 3600.0, advisers),))
    model = QueueModel(
        queue,
        RoutingPolicy(tiers=(SiteTier(0.0),)),
        Demand(tuple([calls_per_half_hour] * (2 * hours))),
        Distribution(Law.EXPONENTIAL, aht),
        patience=None if patience is None else Distribution(Law.EXPONENTIAL, patience),
    )
    site = SiteModel(PARIS, (team,), quality=NO_REPEAT)
    return Scenario("mmn", date(2026, 3, 2), "Europe/Paris", (site,), (model,), drain=3600.0)


def two_sites(outages: tuple[Outage, ...] = (), overflow_after: float = 30.0) -> Scenario:
    """Paris first, Rabat after `overflow_after` s; 8 h of demand at load ≈ 0.9."""
    queue = Queue(1, 1, "billing", {"billing": 2})
    policy = RoutingPolicy(
        tiers=(SiteTier(0.0, groups=frozenset({"france"})), SiteTier(overflow_after))
    )
    shift = (Shift(8 * 3600.0, 17 * 3600.0, 6),)
    paris = SiteModel(PARIS, (Team({"billing": 3}, {"fr": 5}, shift),))
    rabat = SiteModel(RABAT, (Team({"billing": 3}, {"fr": 4}, shift),))
    model = QueueModel(
        queue,
        policy,
        Demand(tuple([30.0] * 16), start=8 * 3600.0),
        Distribution(Law.LOGNORMAL, 300.0, 0.8),
        patience=Distribution(Law.EXPONENTIAL, 240.0),
    )
    return Scenario(
        "two sites", date(2026, 3, 2), "Europe/Paris", (paris, rabat), (model,), outages,
        drain=2 * 3600.0,
    )  # fmt: skip
