"""The simulated contact center: sites, teams and shifts, queues and their demand, outages.

Everything is on the simulation clock: float seconds from the start of the scenario's day
(midnight in the scenario's time zone). Local site times are converted when a scenario is
loaded (`allo.simulation.scenario`), so the twin never handles a time zone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from allo.domain.errors import InvalidValue
from allo.domain.queues import Queue
from allo.domain.sites import Site
from allo.planning.calendars import SiteCalendar
from allo.planning.erlang import StaffingTarget
from allo.routing.policy import ANY_SITE, RoutingPolicy, SiteOption

Sampler = Callable[[], float]


class Law(StrEnum):
    FIXED = "fixed"
    EXPONENTIAL = "exponential"
    LOGNORMAL = "lognormal"
    EMPIRICAL = "empirical"


@dataclass(frozen=True, slots=True)
class Distribution:
    """A positive random duration in seconds.

    `lognormal` is given by its mean and coefficient of variation (the usual way handling
    times are reported); `empirical` draws uniformly from recorded samples.
    """

    law: Law
    mean: float = 0.0
    cv: float = 1.0
    samples: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.law is Law.EMPIRICAL:
            if not self.samples or min(self.samples) < 0:
                raise InvalidValue("samples", "need at least one sample, none negative")
        elif not self.mean > 0 or not math.isfinite(self.mean):
            raise InvalidValue("mean", "must be a positive number of seconds")
        if self.law is Law.LOGNORMAL and not self.cv > 0:
            raise InvalidValue("cv", "must be positive")

    @property
    def expected(self) -> float:
        if self.law is Law.EMPIRICAL:
            return sum(self.samples) / len(self.samples)
        return self.mean

    def sampler(self, rng: random.Random, scale: float = 1.0) -> Sampler:
        """A function drawing one value (times `scale`), bound to `rng` for speed."""
        if self.law is Law.FIXED:
            value = self.mean * scale
            return lambda: value
        if self.law is Law.EXPONENTIAL:
            rate = 1.0 / (self.mean * scale)
            expo = rng.expovariate
            return lambda: expo(rate)
        if self.law is Law.LOGNORMAL:
            sigma = math.sqrt(math.log1p(self.cv**2))
            mu = math.log(self.mean * scale) - sigma**2 / 2
            lognorm = rng.lognormvariate
            return lambda: lognorm(mu, sigma)
        samples = tuple(s * scale for s in self.samples)
        choice = rng.choice
        return lambda: choice(samples)


@dataclass(frozen=True, slots=True)
class QualityModel:
    """How well a site serves (defaults and sources in docs/simulation.md).

    `satisfaction` is the distribution of the 1–5 rating of an answered contact;
    `repeat_probability` the chance an unresolved customer contacts again, after an
    exponential delay of mean `repeat_delay`; `language_aht` multiplies handling time by the
    adviser's level in the contact's language (a level missing from the map counts 1.0).
    """

    fcr: float = 0.42
    satisfaction: tuple[float, float, float, float, float] = (0.05, 0.07, 0.16, 0.40, 0.32)
    repeat_probability: float = 0.3
    repeat_delay: float = 86400.0
    long_wait: float = 180.0
    long_wait_penalty: int = 1
    language_aht: Mapping[int, float] = field(
        default_factory=lambda: {5: 1.0, 4: 1.08, 3: 1.2, 2: 1.4, 1: 1.6}
    )

    def __post_init__(self) -> None:
        if not 0 <= self.fcr <= 1:
            raise InvalidValue("fcr", "must be a probability in [0, 1]")
        if len(self.satisfaction) != 5 or min(self.satisfaction) < 0:
            raise InvalidValue("satisfaction", "needs five shares ≥ 0 for ratings 1 to 5")
        if abs(sum(self.satisfaction) - 1) > 1e-6:
            raise InvalidValue("satisfaction", "shares must add up to 1")
        if not 0 <= self.repeat_probability <= 1:
            raise InvalidValue("repeat_probability", "must be a probability in [0, 1]")
        if not self.repeat_delay > 0:
            raise InvalidValue("repeat_delay", "must be a positive number of seconds")
        for level, factor in self.language_aht.items():
            if not 1 <= level <= 5 or not factor > 0:
                raise InvalidValue(f"language_aht.{level}", "levels 1–5, factors > 0")

    @property
    def mean_satisfaction(self) -> float:
        return sum((k + 1) * p for k, p in enumerate(self.satisfaction))


@dataclass(frozen=True, slots=True)
class Break:
    """A break of `minutes` starting between `earliest` and `latest` (simulation seconds);
    advisers of a shift are spread evenly over the window."""

    earliest: float
    latest: float
    minutes: float
    paid: bool = True

    def __post_init__(self) -> None:
        if not self.minutes > 0 or self.latest < self.earliest:
            raise InvalidValue("breaks", "need minutes > 0 and earliest ≤ latest")


@dataclass(frozen=True, slots=True)
class Shift:
    start: float
    end: float
    advisers: int
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue("shifts.end", "must be after start")
        if self.advisers < 0:
            raise InvalidValue("shifts.advisers", "must not be negative")


@dataclass(frozen=True, slots=True)
class Team:
    """Advisers of one site with the same skills and languages, working the given shifts."""

    skills: Mapping[str, int]
    languages: Mapping[str, int]
    shifts: tuple[Shift, ...]


@dataclass(frozen=True, slots=True)
class SiteModel:
    site: Site
    teams: tuple[Team, ...] = ()
    quality: QualityModel = field(default_factory=QualityModel)
    # Multiplies every handling time at the site (on top of queue and language effects).
    aht_factor: float = 1.0
    calendar: SiteCalendar | None = None
    # "Let planning staff it": this share of each auto-staffed queue's requirement.
    auto_share: float = 0.0
    # Paid time off the phones not modelled as breaks (training, absence): costs only.
    shrinkage: float = 0.0
    language_level: int = 5

    def __post_init__(self) -> None:
        if not self.aht_factor > 0:
            raise InvalidValue("aht_factor", "must be positive")
        if not 0 <= self.auto_share <= 1:
            raise InvalidValue("auto_share", "must be a share in [0, 1]")
        if not 0 <= self.shrinkage < 1:
            raise InvalidValue("shrinkage", "must be a share in [0, 1)")


@dataclass(frozen=True, slots=True)
class Demand:
    """Expected arrivals per interval of `interval` seconds, the first starting at `start`.

    Arrivals are a non-homogeneous Poisson process with a constant rate within an interval.
    """

    volumes: tuple[float, ...]
    interval: float = 1800.0
    start: float = 0.0

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise InvalidValue("demand.interval", "must be positive")
        for index, volume in enumerate(self.volumes):
            if not volume >= 0 or not math.isfinite(volume):
                raise InvalidValue(f"demand.volumes[{index}]", "must be a number ≥ 0")

    @property
    def end(self) -> float:
        return self.start + self.interval * len(self.volumes)

    @property
    def total(self) -> float:
        return sum(self.volumes)


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    """When the announced wait reaches `after` seconds, `accept` of callers take a callback."""

    after: float = 120.0
    accept: float = 0.3

    def __post_init__(self) -> None:
        if self.after < 0:
            raise InvalidValue("callback.after", "must not be negative")
        if not 0 <= self.accept <= 1:
            raise InvalidValue("callback.accept", "must be a probability in [0, 1]")


@dataclass(frozen=True, slots=True)
class AutoStaffing:
    """Staff the queue from planning: Erlang A (Erlang C without patience) per interval."""

    target: StaffingTarget = field(default_factory=StaffingTarget)


@dataclass(frozen=True, slots=True)
class QueueModel:
    queue: Queue
    policy: RoutingPolicy
    demand: Demand
    handling: Distribution
    # Per site name: replaces `handling` for contacts answered there.
    handling_by_site: Mapping[str, Distribution] = field(default_factory=dict)
    # None: callers never hang up.
    patience: Distribution | None = None
    callback: CallbackOffer | None = None
    # What customers choose about the site (SiteOption, share); shares add up to 1.
    options: tuple[tuple[SiteOption, float], ...] = ((ANY_SITE, 1.0),)
    auto_staffing: AutoStaffing | None = None


class OutagePolicy(StrEnum):
    DROP = "drop"
    REQUEUE = "requeue"


@dataclass(frozen=True, slots=True)
class Outage:
    """The site's link is down between `start` and `end`: its advisers are unreachable."""

    site: str
    start: float
    end: float
    in_progress: OutagePolicy = OutagePolicy.REQUEUE

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue("outages.end", "must be after start")


@dataclass(frozen=True, slots=True)
class TracedContact:
    """A recorded contact to replay: when it came, to which queue (index), what the customer
    chose, how long it was handled, and how long the customer would wait (inf: for ever)."""

    at: float
    queue: int
    option: SiteOption
    handling: float
    patience: float = math.inf


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    day: date
    timezone: str
    sites: tuple[SiteModel, ...]
    queues: tuple[QueueModel, ...]
    outages: tuple[Outage, ...] = ()
    # After the last arrival, the twin keeps running this long for those still in line.
    drain: float = 4 * 3600.0
    # Seconds an adviser's phone rings before they pick up.
    answer_delay: float = 0.0
    # A recorded day: replaces the demand of the queues (arrivals, handling, patience).
    trace: tuple[TracedContact, ...] = ()

    def __post_init__(self) -> None:
        names = [model.site.name for model in self.sites]
        if len(set(names)) != len(names):
            raise InvalidValue("sites", "site names must be unique")
        known = set(names)
        for outage in self.outages:
            if outage.site not in known:
                raise InvalidValue("outages.site", f"{outage.site!r} is not a site")
        for model in self.queues:
            for name in model.handling_by_site:
                if name not in known:
                    raise InvalidValue("handling_by_site", f"{name!r} is not a site")

    @property
    def arrivals_end(self) -> float:
        if self.trace:
            return max(c.at for c in self.trace) + 1.0
        return max((q.demand.end for q in self.queues), default=0.0)

    def site_index(self, name: str) -> int:
        return next(i for i, model in enumerate(self.sites) if model.site.name == name)
